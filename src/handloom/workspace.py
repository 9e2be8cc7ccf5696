"""Creating and opening workspaces: the settings file, the store, and the first owner."""

from __future__ import annotations

from pathlib import Path

from handloom.config import CONFIG_FILE, Workspace, load_workspace, render_default_config
from handloom.errors import Conflict
from handloom.store.db import Store, migrate
from handloom.work import accounts


def init_workspace(root: Path, *, database_url: str = "", owner: str = "owner",
                   password: str | None = None) -> tuple[Workspace, str]:
    """Create ``handloom.toml``, migrate the store and create the owner; returns the
    workspace and the owner's first API token (shown once)."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / CONFIG_FILE
    if config.exists():
        raise Conflict(f"{root} is already a Handloom workspace ({CONFIG_FILE} exists).")
    config.write_text(render_default_config(database_url), encoding="utf-8")
    workspace = load_workspace(root)
    store = open_store(workspace)
    try:
        with store.write() as conn:
            accounts.create_user(conn, owner, "owner", password=password, actor="cli:init")
            token = accounts.create_token(conn, owner, name="created by init", actor="cli:init")
    finally:
        store.dispose()
    return workspace, token


def open_store(workspace: Workspace, *, upgrade: bool = True) -> Store:
    """The workspace's store, migrated to the latest schema."""
    store = Store.for_workspace(workspace)
    if upgrade:
        migrate(store)
    return store
