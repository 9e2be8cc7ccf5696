"""Running the CLI in tests: one runner, a wide terminal, and output with wrapping undone."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from handloom.cli import app

# Run a test on SQLite and on PostgreSQL (the ``workspace`` fixture takes the engine).
BOTH = pytest.mark.parametrize("workspace", [
    "sqlite", pytest.param("pg", marks=pytest.mark.pg)], indirect=True)


def run(*args: str | Path, ok: bool = True) -> Result:
    # A wide terminal, so Rich tables show whole values.
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    if ok:
        assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}"
    return result


def flat(text: str) -> str:
    """Output with Rich's line wrapping undone."""
    return " ".join(text.split())
