"""Per-tenant write-rate buckets in the database, shared by every API process.

One row per tenant: the tokens left and when they were counted; ``allowed`` says whether the last
take succeeded (``api/ratelimit.py`` takes a token with one atomic upsert and reads it back).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id", ondelete="CASCADE",
                                                            name="fk_rate_limits_tenant_id_tenants"), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("allowed", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
