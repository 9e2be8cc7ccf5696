"""``handloom report``: the transparency report from the command line, and ``handloom ledger
anchor`` to check a report's ledger anchor. Registered on the main app by
:mod:`handloom.cli`."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from handloom.cli import (
    ACTOR,
    JsonOpt,
    WorkspaceOpt,
    _errors,
    _fail,
    _print_json,
    _store,
    app,
    console,
    err_console,
    ledger_app,
)

_HTML_ANCHOR = re.compile(r'<meta name="handloom-anchor" content="(\d+) ([0-9a-f]{64})">')
_MD_ANCHOR = re.compile(r"ledger up to event \\?#(\d+) \(([0-9a-f]{64})\)")


@app.command("report")
def report_cmd(
    project: Annotated[str, typer.Argument(help="Project name.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write report.html and "
                                                         "report.md into (created if missing).")],
    k: Annotated[int | None, typer.Option(
        help="Smallest number of workers any figure may describe; can raise the project's "
             "k (at least 5), never lower it.")] = None,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Write the project's transparency report: report.html (self-contained, with charts) and
    report.md, and record both files' SHA-256 with the ledger anchor on the ledger.

    Example: `handloom report toxicity --out reports/toxicity`
    """
    from handloom.disclose.report import write_report

    with _store(workspace) as store, _errors():
        written = write_report(store, project, out, k=k, actor=ACTOR)
    if as_json:
        _print_json(written.to_dict())
        return
    for name, digest in written.files.items():
        console.print(f"Wrote {out / name} (sha256 {digest}).", markup=False, highlight=False)
    console.print(f"Figures cover the ledger up to event #{written.anchor.seq} "
                  f"({written.anchor.hash}); no figure describes fewer than {written.k} "
                  f"workers. Recorded as ledger event #{written.event_seq}.",
                  markup=False, highlight=False)


def _anchor_in(text: str) -> tuple[int, str] | None:
    found = _HTML_ANCHOR.search(text) or _MD_ANCHOR.search(text)
    return (int(found.group(1)), found.group(2)) if found else None


@ledger_app.command("anchor")
def ledger_anchor(
    seq: Annotated[int | None, typer.Argument(help="The anchor's event number.")] = None,
    digest: Annotated[str | None, typer.Argument(help="The anchor's hash.")] = None,
    file: Annotated[list[Path] | None, typer.Option(
        "--file", "-f", help="A report file (report.html or report.md) to check against its "
                             "report.generated event; its anchor is read from it.")] = None,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Check a transparency report's ledger anchor: the whole chain verifies, event SEQ
    still carries HASH and, with --file, Handloom recorded that very file.

    Example: `handloom ledger anchor --file reports/toxicity/report.html`
    """
    from handloom.disclose.report import check_anchor

    files: dict[str, str] = {}
    for path in file or []:
        if not path.is_file():
            _fail(f"{path} is not a file.")
        data = path.read_bytes()
        files[path.name] = hashlib.sha256(data).hexdigest()
        found = _anchor_in(data.decode("utf-8", errors="replace"))
        if seq is None and found:
            seq, digest = found
    if seq is None or digest is None:
        _fail("Give the anchor as SEQ HASH, or a report file with --file to read it from.")
    with _store(workspace) as store, _errors(), store.read() as conn:
        result = check_anchor(conn, seq, digest, files or None)
    if as_json:
        _print_json(result.to_dict())
    elif result.ok:
        console.print(result.message, markup=False, highlight=False)
    else:
        err_console.print(f"[bold red]Anchor does not hold:[/] {escape(result.message)}",
                          highlight=False)
    if not result.ok:
        raise typer.Exit(2)
