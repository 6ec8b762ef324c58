"""Alembic environment: the URL from the config's attributes (tests) or DATABASE_URL (processes)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from infra.database import Base
from infra.settings import ServiceSettings

config = context.config
url = config.attributes.get("url") or ServiceSettings().database_url
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
