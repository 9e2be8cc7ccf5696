"""Workspace settings: declared once, read from ``handloom.toml`` and ``HANDLOOM_*`` variables.

Every setting is one :class:`Setting` row in :data:`SETTINGS`; the same table validates
``handloom.toml``, feeds ``handloom settings`` and is checked against ``docs/settings.md`` by a
test, so a setting cannot exist without documentation.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CONFIG_FILE = "handloom.toml"
DEFAULT_DB_FILE = "handloom.db"
ENV_PREFIX = "HANDLOOM_"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "database_url",
        "",
        "SQLAlchemy URL of the store. Empty means the embedded SQLite file handloom.db in the "
        "workspace; postgresql://user@host:5432/db selects PostgreSQL (psycopg 3).",
    ),
    Setting("host", "127.0.0.1", "Address `handloom serve` listens on."),
    Setting("port", 8642, "Port `handloom serve` listens on."),
    Setting(
        "default_lease_seconds",
        600,
        "How long an item stays leased to a worker when a project does not say otherwise.",
    ),
    Setting(
        "sqlite_synchronous",
        "FULL",
        "SQLite's synchronous pragma. FULL (default) makes an acknowledged submission survive "
        "power loss; NORMAL survives a crash of the process only, and is faster.",
    ),
    Setting(
        "k_anonymity",
        5,
        "Smallest number of workers any report cell may describe; smaller groups are "
        "suppressed. Can be raised, never lowered below 5.",
    ),
    Setting(
        "serve_workers",
        1,
        "Number of server processes `handloom serve` starts. Keep 1 on SQLite; raise it on "
        "PostgreSQL.",
    ),
)


class WorkspaceSettings(BaseModel):
    """Validated settings of one workspace."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(8642, ge=1, le=65535)
    default_lease_seconds: int = Field(600, ge=5)
    sqlite_synchronous: str = "FULL"
    k_anonymity: int = Field(5, ge=5)
    serve_workers: int = Field(1, ge=1, le=64)

    @field_validator("sqlite_synchronous")
    @classmethod
    def _known_synchronous(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError("must be one of OFF, NORMAL, FULL, EXTRA")
        return upper


class ConfigError(Exception):
    """A workspace is missing or its settings are invalid."""


@dataclass(frozen=True)
class Workspace:
    """A folder holding ``handloom.toml`` and, by default, the SQLite store."""

    root: Path
    settings: WorkspaceSettings

    @property
    def database_url(self) -> str:
        if self.settings.database_url:
            return self.settings.database_url
        return f"sqlite:///{(self.root / DEFAULT_DB_FILE).resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _env_overrides() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = os.environ.get(ENV_PREFIX + setting.name.upper())
        if raw is not None:
            values[setting.name] = raw
    return values


def load_workspace(root: Path | str, *, must_exist: bool = True) -> Workspace:
    """Read ``handloom.toml`` from *root*, overlaid with ``HANDLOOM_*`` environment variables."""
    root = Path(root).resolve()
    path = root / CONFIG_FILE
    values: dict[str, Any] = {}
    if path.exists():
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    elif must_exist:
        raise ConfigError(
            f"{root} is not a Handloom workspace (no {CONFIG_FILE}). "
            f"Run `handloom init {root}` first, or pass --workspace."
        )
    values.update(_env_overrides())
    try:
        settings = WorkspaceSettings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{path}: invalid setting: {problems}") from exc
    return Workspace(root=root, settings=settings)


def render_default_config(database_url: str = "") -> str:
    """The text of a fresh ``handloom.toml``, every setting with its help as a comment."""
    lines = ["# Handloom workspace settings. Every key is documented in docs/settings.md.", ""]
    for setting in SETTINGS:
        lines.append(f"# {setting.help}")
        value = database_url if setting.name == "database_url" else setting.default
        if isinstance(value, str):
            lines.append(f'{setting.name} = "{value}"')
        else:
            lines.append(f"{setting.name} = {value}")
        lines.append("")
    return "\n".join(lines)
