"""Revisions: the API's own revision submissions; in the read model, one row per run of a composition
(revision 0 is the composition itself), the composition's current revision and what a user edits
(plan, chords, lyrics), and the revision each public event belongs to.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)
JSONB = postgresql.JSONB
NOW = sa.func.now()


def upgrade() -> None:
    op.create_table(
        "revision_submissions",
        sa.Column("composition_id", UUID, primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("changes", JSONB, nullable=False),
        sa.Column("request", JSONB, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delete_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_revision_submissions_tenant_idempotency"),
    )
    op.create_table(
        "revisions",
        sa.Column("composition_id", UUID, primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(16), nullable=True),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("stages", JSONB, nullable=True),
        sa.Column("stages_run", JSONB, nullable=True),
        sa.Column("artifacts", JSONB, nullable=True),
        sa.Column("quality", JSONB, nullable=True),
        sa.Column("error", JSONB, nullable=True),
        sa.Column("duration_ms", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("compositions", sa.Column("current_revision", sa.Integer, nullable=False, server_default="0"))
    op.add_column("compositions", sa.Column("plan", JSONB, nullable=True))
    op.add_column("compositions", sa.Column("harmony", JSONB, nullable=True))
    op.add_column("compositions", sa.Column("lyrics", JSONB, nullable=True))
    op.add_column("composition_events", sa.Column("revision", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("composition_events", "revision")
    for column in ("lyrics", "harmony", "plan", "current_revision"):
        op.drop_column("compositions", column)
    op.drop_table("revisions")
    op.drop_table("revision_submissions")
