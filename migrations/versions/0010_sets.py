"""DJ sets: one row per set, written by the API when it accepts one and by the projector as the set
workflow's events arrive (status, progress, stages, tracklist, files, measurements).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dj_sets",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("request", JSONB),
        sa.Column("stages", JSONB),
        sa.Column("tracklist", JSONB),
        sa.Column("artifacts", JSONB),
        sa.Column("result", JSONB),
        sa.Column("error", JSONB),
        sa.Column("duration_ms", sa.BigInteger),
        sa.Column("cancel_requested_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_dj_sets_tenant_created", "dj_sets", ["tenant_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_dj_sets_tenant_created", table_name="dj_sets")
    op.drop_table("dj_sets")
