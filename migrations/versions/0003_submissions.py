"""The API's own submissions table; the read model (compositions) becomes the projector's alone.

What was asked (request, idempotency key and hash, cancel request) moves from ``compositions`` to
``submissions``; existing rows are copied over.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("request", postgresql.JSONB, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text, nullable=True),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_submissions_tenant_idempotency"),
    )
    op.create_index("ix_submissions_tenant_created", "submissions", ["tenant_id", "created_at", "id"])
    op.execute("""
        INSERT INTO submissions (id, tenant_id, request, idempotency_key, request_hash, created_at, cancel_requested_at)
        SELECT id, tenant_id, request, idempotency_key, coalesce(request_hash, ''), created_at, cancel_requested_at
        FROM compositions WHERE request IS NOT NULL
    """)
    op.execute("UPDATE compositions SET status = 'running' WHERE status = 'cancelling'")
    op.drop_constraint("uq_compositions_tenant_idempotency", "compositions", type_="unique")
    op.drop_column("compositions", "idempotency_key")
    op.drop_column("compositions", "request_hash")
    op.drop_column("compositions", "cancel_requested_at")


def downgrade() -> None:
    op.add_column("compositions", sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("compositions", sa.Column("request_hash", sa.String(64), nullable=True))
    op.add_column("compositions", sa.Column("idempotency_key", sa.String(200), nullable=True))
    op.execute("""
        UPDATE compositions c SET idempotency_key = s.idempotency_key, request_hash = s.request_hash,
               cancel_requested_at = s.cancel_requested_at, request = coalesce(c.request, s.request)
        FROM submissions s WHERE s.id = c.id
    """)
    op.create_unique_constraint("uq_compositions_tenant_idempotency", "compositions", ["tenant_id", "idempotency_key"])
    op.drop_table("submissions")
