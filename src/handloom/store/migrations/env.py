"""Alembic environment: runs against the engine the Store hands over, on SQLite or PostgreSQL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from handloom.store.schema import metadata

config = context.config


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
