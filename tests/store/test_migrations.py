"""Alembic migrations: one linear history that builds exactly the schema the code declares."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from handloom.store.db import Store, alembic_config, migrate
from handloom.store.schema import metadata

EXPECTED_TABLES = {t.name for t in metadata.sorted_tables}


def table_names(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return set(inspect(conn).get_table_names()) - {"alembic_version"}


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_exactly_one_head(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'heads.db'}")
    try:
        script = ScriptDirectory.from_config(alembic_config(store))
        heads = script.get_heads()
        assert len(heads) == 1, f"Alembic has several heads: {heads}; merge them"
        # A linear history: every revision has at most one parent and one child.
        for revision in script.walk_revisions():
            assert not isinstance(revision.down_revision, tuple | list), revision.revision
            assert len(revision.nextrev) <= 1, revision.revision
    finally:
        store.dispose()


def test_fresh_sqlite_file_migrates_to_head(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert table_names(store) == set()
        migrate(store)
        assert table_names(store) == EXPECTED_TABLES
        migrate(store)  # migrating again is a no-op
        heads = ScriptDirectory.from_config(alembic_config(store)).get_heads()
        assert current_revision(store) == heads[0]
    finally:
        store.dispose()


def test_upgrade_downgrade_upgrade(store: Store) -> None:
    cfg = alembic_config(store)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert current_revision(store) == head
    assert table_names(store) == EXPECTED_TABLES
    try:
        command.downgrade(cfg, "base")
        assert table_names(store) == set()
        assert current_revision(store) is None
    finally:
        command.upgrade(cfg, "head")
    assert table_names(store) == EXPECTED_TABLES
    assert current_revision(store) == head


def test_migrated_schema_matches_metadata(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        diffs = compare_metadata(context, metadata)
    assert diffs == []
