"""Alembic environment: online migrations only, on the project's configured database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from assocdata import config as assocdata_config

url = context.config.attributes.get("url") or assocdata_config.sqlalchemy_url(
    context.get_x_argument(as_dictionary=True).get("dbname")
)


def run_migrations_online() -> None:
    connectable = context.config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("assocdata migrations run online only (they inspect the server).")
run_migrations_online()
