"""The docs stay true to the code: the CLI reference is regenerated from --help."""

from __future__ import annotations

import subprocess
import sys

from factories import REPO_ROOT


def test_cli_reference_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "gen_cli_docs.py"), "--check"],
        capture_output=True, text=True, cwd=REPO_ROOT, check=False,
    )
    assert result.returncode == 0, (
        "docs/cli.md is out of date; run `python scripts/gen_cli_docs.py`.\n" + result.stdout
        + result.stderr)


def test_readme_shows_the_two_commands() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
