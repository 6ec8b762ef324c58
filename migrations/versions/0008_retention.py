"""Retention: the sweeper's table of swept artifact namespaces, and the indexes its deletes use.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "artifact_sweeps",
        sa.Column("composition_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("through", sa.DateTime(timezone=True), nullable=False),
        sa.Column("swept_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"], postgresql_where=sa.text("sent_at IS NOT NULL"))
    op.create_index("ix_composition_events_occurred_at", "composition_events", ["occurred_at"])
    op.create_index("ix_revisions_finished_at", "revisions", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_revisions_finished_at", table_name="revisions")
    op.drop_index("ix_composition_events_occurred_at", table_name="composition_events")
    op.drop_index("ix_outbox_sent_at", table_name="outbox")
    op.drop_table("artifact_sweeps")
