"""Workspace settings: defaults, handloom.toml, HANDLOOM_* overrides, errors and docs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from factories import REPO_ROOT
from handloom.config import (
    SETTINGS,
    ConfigError,
    WorkspaceSettings,
    load_workspace,
    render_default_config,
)

DOCS = REPO_ROOT / "docs" / "settings.md"


def write_config(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "handloom.toml").write_text(text, encoding="utf-8")
    return root


def test_defaults_match_the_settings_table(tmp_path: Path) -> None:
    workspace = load_workspace(tmp_path, must_exist=False)
    assert workspace.root == tmp_path.resolve()
    for setting in SETTINGS:
        assert getattr(workspace.settings, setting.name) == setting.default, setting.name
    assert workspace.settings.port == 8642 and workspace.settings.host == "127.0.0.1"
    assert workspace.is_sqlite
    assert workspace.database_url == f"sqlite:///{(tmp_path / 'handloom.db').resolve()}"


def test_every_setting_is_declared_once_and_validated() -> None:
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert set(names) == set(WorkspaceSettings.model_fields)
    assert all(s.help.strip() for s in SETTINGS)


def test_rendered_default_config_loads_back(tmp_path: Path) -> None:
    text = render_default_config()
    assert set(tomllib.loads(text)) == {s.name for s in SETTINGS}
    for setting in SETTINGS:
        assert f"# {setting.help}" in text
    workspace = load_workspace(write_config(tmp_path, text))
    assert workspace.settings == WorkspaceSettings()
    pg = load_workspace(write_config(tmp_path / "pg",
                                     render_default_config("postgresql://u@h:5432/db")))
    assert pg.database_url == "postgresql://u@h:5432/db" and not pg.is_sqlite


def test_missing_workspace_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_workspace(tmp_path / "nowhere")
    assert "handloom init" in str(info.value) and "handloom.toml" in str(info.value)


def test_file_values_are_read(tmp_path: Path) -> None:
    root = write_config(tmp_path, 'port = 9100\nsqlite_synchronous = "normal"\nk_anonymity = 10\n')
    settings = load_workspace(root).settings
    assert settings.port == 9100
    assert settings.sqlite_synchronous == "NORMAL"
    assert settings.k_anonymity == 10


def test_env_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_config(tmp_path, "port = 9100\n")
    monkeypatch.setenv("HANDLOOM_PORT", "9300")
    monkeypatch.setenv("HANDLOOM_HOST", "0.0.0.0")
    settings = load_workspace(root).settings
    assert settings.port == 9300 and settings.host == "0.0.0.0"


def test_env_database_url_selects_the_store(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDLOOM_DATABASE_URL", "postgresql://postgres@db:5432/handloom")
    workspace = load_workspace(tmp_path, must_exist=False)
    assert workspace.database_url == "postgresql://postgres@db:5432/handloom"
    assert not workspace.is_sqlite


@pytest.mark.parametrize(
    ("env", "value", "setting"),
    [
        ("HANDLOOM_PORT", "not-a-port", "port"),
        ("HANDLOOM_PORT", "70000", "port"),
        ("HANDLOOM_K_ANONYMITY", "2", "k_anonymity"),
        ("HANDLOOM_SQLITE_SYNCHRONOUS", "SOMETIMES", "sqlite_synchronous"),
        ("HANDLOOM_DEFAULT_LEASE_SECONDS", "1", "default_lease_seconds"),
        ("HANDLOOM_SERVE_WORKERS", "0", "serve_workers"),
    ],
)
def test_invalid_env_value_names_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             env: str, value: str, setting: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_workspace(tmp_path, must_exist=False)
    assert re.search(rf"\b{setting}\b", str(info.value)), str(info.value)


def test_invalid_file_value_names_the_setting(tmp_path: Path) -> None:
    root = write_config(tmp_path, "k_anonymity = 3\n")
    with pytest.raises(ConfigError) as info:
        load_workspace(root)
    assert "k_anonymity" in str(info.value) and "handloom.toml" in str(info.value)


def test_unknown_setting_is_refused(tmp_path: Path) -> None:
    root = write_config(tmp_path, "prot = 9000\n")
    with pytest.raises(ConfigError) as info:
        load_workspace(root)
    assert "prot" in str(info.value)


def test_broken_toml_is_reported(tmp_path: Path) -> None:
    root = write_config(tmp_path, "port = \n")
    with pytest.raises(ConfigError) as info:
        load_workspace(root)
    assert "not valid TOML" in str(info.value)


# ---------------------------------------------------------------- documentation
def test_docs_settings_file_exists() -> None:
    assert DOCS.is_file(), f"{DOCS.relative_to(REPO_ROOT)} is missing: document every setting"


def test_every_setting_is_documented() -> None:
    if not DOCS.is_file():
        pytest.fail(f"{DOCS.relative_to(REPO_ROOT)} is missing, so no setting is documented")
    text = DOCS.read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if not re.search(rf"\b{re.escape(s.name)}\b", text)]
    assert not missing, f"settings not mentioned in docs/settings.md: {', '.join(missing)}"
