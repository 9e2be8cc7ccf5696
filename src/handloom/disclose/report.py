"""The transparency report: a project's records written up for people who were not there.

:func:`build` reads a :class:`~handloom.disclose.facts.Facts` (``gather`` does all reading
and all k-suppression) and judges it against the scorecards; :func:`document` lays the
figures out as sections of plain blocks (:mod:`~handloom.disclose.report_document`);
:func:`render_html` and :func:`render_markdown` write those blocks out, the HTML
as one self-contained file (inline CSS and SVG, no script, no external address) and the
Markdown with every string escaped. :func:`write_report` writes both files and records
their SHA-256 with the ledger anchor as a ``report.generated`` event, so an auditor can tie
a file to the chain (:func:`check_anchor`). Nothing here reads a worker table.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from sqlalchemy import Connection, func, select

from handloom import ledger
from handloom.disclose import facts as facts_mod
from handloom.disclose import scorecards as sc
from handloom.disclose.facts import Facts
from handloom.disclose.report_document import SECTION_IDS, Document, Suppressed
from handloom.disclose.report_document import document as lay_out
from handloom.errors import Invalid, NotFound
from handloom.store.db import Store
from handloom.store.schema import ledger_events

__all__ = ["SECTION_IDS", "Document", "Report", "build", "check_anchor", "document",
           "md_escape", "render_html", "render_markdown", "report_json", "write_report"]

EVENT = "report.generated"
CSS_PATH = Path(__file__).resolve().parent / "templates" / "report.css"


# ====================================================================== the report
@dataclass
class Report:
    facts: Facts
    scorecards: list[sc.Scorecard]


def from_facts(f: Facts) -> Report:
    return Report(f, sc.all_scorecards(f))


def build(conn: Connection, project: Any, *, k: int | None = None,
          now: datetime | None = None) -> Report:
    """Gather the project's facts (one read) and judge them against the scorecards."""
    return from_facts(facts_mod.gather(conn, project, k=k, now=now))


def report_json(report: Report) -> dict[str, Any]:
    """The report as data: the facts, the scorecards and the ledger anchor."""
    return {"facts": facts_mod.to_dict(report.facts),
            "scorecards": sc.to_dict(report.scorecards),
            "anchor": dataclasses.asdict(report.facts.anchor)}


def document(report: Report) -> Document:
    """The report laid out as sections of blocks (see :mod:`report_document`)."""
    return lay_out(report.facts, report.scorecards)


# ====================================================================== rendering
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>!|&])")
_MD_LINE_START = re.compile(r"^(\s*)([-+=#]|\d+[.)])", re.MULTILINE)


class MdRaw(str):
    """Markdown the template wrote itself (not escaped again)."""

    __slots__ = ()


def md_escape(value: Any) -> str:
    """Any value as inert Markdown text: punctuation that Markdown or HTML would act on is
    backslash-escaped, and a line cannot start a list, heading or rule."""
    if isinstance(value, MdRaw):
        return value
    text = "" if value is None else str(value)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def md_cell(value: Any) -> MdRaw:
    """A table cell: escaped, on one line."""
    return MdRaw(md_escape(" ".join(str(value).split())) or " ")


def _is_suppressed(value: Any) -> bool:
    return isinstance(value, Suppressed)


def _environment(markdown: bool) -> Environment:
    if markdown:
        env = Environment(loader=PackageLoader("handloom.disclose", "templates"),
                          autoescape=False, undefined=StrictUndefined, finalize=md_escape,
                          keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
        env.filters["cell"] = md_cell
        env.filters["raw"] = MdRaw
    else:
        env = Environment(loader=PackageLoader("handloom.disclose", "templates"),
                          autoescape=True, undefined=StrictUndefined,
                          trim_blocks=True, lstrip_blocks=True)
    env.tests["suppressed"] = _is_suppressed
    env.globals["status_text"] = sc.STATUS_TEXT
    return env


_HTML = _environment(markdown=False)
_MD = _environment(markdown=True)


def report_css() -> str:
    return CSS_PATH.read_text(encoding="utf-8")


def render_body(report: Report) -> Markup:
    """The report's sections as HTML, for the web page (styled by report.css)."""
    return Markup(_HTML.get_template("_body.html.j2").render(doc=document(report)))  # noqa: S704


def render_html(report: Report) -> str:
    """The whole report as one self-contained HTML document."""
    doc = document(report)
    return _HTML.get_template("report.html.j2").render(doc=doc, css=Markup(report_css()))  # noqa: S704


def render_markdown(report: Report) -> str:
    return _MD.get_template("report.md.j2").render(doc=document(report))


# ====================================================================== files and the ledger
@dataclass(frozen=True)
class WrittenReport:
    folder: Path
    files: dict[str, str]  # file name -> sha256
    anchor: facts_mod.Anchor
    k: int
    event_seq: int

    def to_dict(self) -> dict[str, Any]:
        return {"folder": str(self.folder),
                "files": [{"name": n, "path": str(self.folder / n), "sha256": h}
                          for n, h in self.files.items()],
                "anchor": dataclasses.asdict(self.anchor), "k": self.k,
                "event_seq": self.event_seq}


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_report(store: Store, project_name: str, out: Path, *, k: int | None = None,
                 actor: str, now: datetime | None = None) -> WrittenReport:
    """Write report.html and report.md into *out* and record them on the ledger.

    The figures are read in one read transaction; the files are written; then a
    ``report.generated`` event records each file's SHA-256 and the anchor they cover. If
    the event cannot be written the files are removed, so a report on disk always has its
    event."""
    from handloom.work.projects import get_project

    if out.exists() and not out.is_dir():
        raise Invalid(f"{out} is a file; --out needs a folder.", field="out")
    with store.read() as conn:
        report = build(conn, get_project(conn, project_name), k=k, now=now)
    outputs = {"report.html": render_html(report).encode("utf-8"),
               "report.md": render_markdown(report).encode("utf-8")}
    out.mkdir(parents=True, exist_ok=True)
    digests = {}
    for name, data in outputs.items():
        _atomic_write(out / name, data)
        digests[name] = hashlib.sha256(data).hexdigest()
    f = report.facts
    try:
        with store.write() as conn:
            project = get_project(conn, project_name)
            ledger.append(conn, EVENT, actor=actor, project_id=project.id, body={
                "project": project.id, "k": f.k, "files": digests,
                "anchor": {"seq": f.anchor.seq, "hash": f.anchor.hash}})
            seq = int(conn.execute(select(ledger_events.c.seq).order_by(
                ledger_events.c.seq.desc()).limit(1)).scalar_one())
    except BaseException:
        for name in outputs:
            (out / name).unlink(missing_ok=True)
        raise
    return WrittenReport(out, digests, f.anchor, f.k, seq)


# ====================================================================== verifying an anchor
@dataclass(frozen=True)
class AnchorCheck:
    ok: bool
    message: str
    chain_events: int
    recorded_in: list[int]  # seqs of report.generated events naming the file(s)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def check_anchor(conn: Connection, seq: int, digest: str,
                 files: dict[str, str] | None = None) -> AnchorCheck:
    """Whether the ledger is intact, event *seq* still has hash *digest*, and (given
    ``{name: sha256}``) a ``report.generated`` event recorded those files with that
    anchor."""
    row = conn.execute(select(ledger_events.c.hash).where(ledger_events.c.seq == seq)).first()
    if row is None:
        total = conn.execute(select(func.count()).select_from(ledger_events)).scalar_one()
        raise NotFound(f"No ledger event #{seq}; the ledger has {total} events.")
    result = ledger.verify(conn, (seq, digest))
    if not result.ok and result.broken_at == seq and row.hash != digest:
        return AnchorCheck(False, f"Event #{seq} has hash {row.hash}, not {digest}: the report "
                           "was not made from this ledger.", result.events, [])
    if not result.ok:
        return AnchorCheck(False, f"The ledger is broken at event {result.broken_at}: "
                           f"{result.problem}.", result.events, [])
    found: list[int] = []
    if files:
        for ev in conn.execute(select(ledger_events.c.seq, ledger_events.c.body).where(
                ledger_events.c.event == EVENT, ledger_events.c.seq > seq)):
            body = ev.body or {}
            anchor = body.get("anchor") or {}
            recorded = body.get("files") or {}
            if (anchor.get("seq") == seq and anchor.get("hash") == digest
                    and all(recorded.get(n) == h for n, h in files.items())):
                found.append(int(ev.seq))
        if not found:
            names = ", ".join(sorted(files))
            return AnchorCheck(False, f"The anchor holds, but no {EVENT} event records {names} "
                               "with these contents: the file was changed or made elsewhere.",
                               result.events, [])
    message = (f"Ledger intact ({result.events} events); event #{seq} carries the report's "
               "anchor hash" + (f"; the file(s) were recorded at event "
                                f"#{', #'.join(map(str, found))}." if found else "."))
    return AnchorCheck(True, message, result.events, found)
