"""The analytics consumer's own tables (stream_processors/analytics/models.py).

Revision ID: 0006
Revises: 0004 (until 0004 and 0005, written meanwhile, land: then 0005)
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

UUID = postgresql.UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "analytics_events",
        sa.Column("event_id", UUID, primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "analytics_compositions",
        sa.Column("composition_id", UUID, primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="running"),
        sa.Column("genre", sa.String(32)),
        sa.Column("mood", sa.String(32)),
        sa.Column("tempo_bpm", sa.Float),
        sa.Column("tempo_third", sa.String(8)),
        sa.Column("requested_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("duration_ms", sa.Integer),
    )
    op.create_index("ix_analytics_compositions_tenant_day", "analytics_compositions", ["tenant_id", "day"])
    op.create_table(
        "analytics_attempts",
        sa.Column("composition_id", UUID, primary_key=True),
        sa.Column("stage", sa.String(32), primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False, server_default="running"),
        sa.Column("duration_ms", sa.Integer),
    )
    op.create_index("ix_analytics_attempts_tenant_day", "analytics_attempts", ["tenant_id", "day"])
    op.create_table(
        "analytics_ratings",
        sa.Column("event_id", UUID, primary_key=True),
        sa.Column("composition_id", UUID, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("rating", sa.SmallInteger, nullable=False),
    )
    op.create_index("ix_analytics_ratings_composition_id", "analytics_ratings", ["composition_id"])
    op.create_index("ix_analytics_ratings_tenant_day", "analytics_ratings", ["tenant_id", "day"])


def downgrade() -> None:
    for table in ("analytics_ratings", "analytics_attempts", "analytics_compositions", "analytics_events"):
        op.drop_table(table)
