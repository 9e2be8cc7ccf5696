"""The command line (Typer + Rich). Each command parses arguments, calls one service inside
one transaction and renders the result as a table, or JSON with ``--json``."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from handloom import __version__, ledger
from handloom.config import SETTINGS, ConfigError, Workspace, load_workspace
from handloom.errors import HandloomError, ImportFailed
from handloom.store.db import Store
from handloom.workspace import init_workspace, open_store

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="handloom",
    help="Handloom: human data enrichment with the labor behind every label made legible.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
project_app = typer.Typer(
    help="Create, list and show projects; open, pause or close them; publish instructions.",
    no_args_is_help=True)
worker_app = typer.Typer(help="Add, import and list workers; set their time zone and opt-outs.",
                         no_args_is_help=True)
user_app = typer.Typer(help="Add staff accounts (managers, reviewers, auditors).",
                       no_args_is_help=True)
token_app = typer.Typer(help="Create API tokens.", no_args_is_help=True)
ledger_app = typer.Typer(help="Inspect and verify the audit ledger.", no_args_is_help=True)
app.add_typer(project_app, name="project")
app.add_typer(worker_app, name="worker")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(ledger_app, name="ledger")

WorkspaceOpt = Annotated[
    Path, typer.Option("--workspace", "-w", help="Workspace folder (holds handloom.toml).",
                       envvar="HANDLOOM_WORKSPACE")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ACTOR = "cli"


def _fail(message: str, code: int = 1) -> NoReturn:
    # The message is plain text (it may quote user input or name an extra like
    # 'handloom[hf]'): escape it so Rich does not read its brackets as markup.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True,
                      soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except (HandloomError, ConfigError) as exc:
        _fail(exc.message if isinstance(exc, HandloomError) else str(exc))


@contextmanager
def _store(workspace: Path) -> Iterator[Store]:
    with _errors():
        store = open_store(load_workspace(workspace))
        try:
            yield store
        finally:
            store.dispose()


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n")


def _table(rows: list[dict[str, Any]], columns: list[str], title: str | None = None) -> None:
    table = Table(title=title, show_lines=False)
    for col in columns:
        table.add_column(col.replace("_", " "))
    for row in rows:
        table.add_row(*["" if row.get(c) is None else str(row.get(c)) for c in columns])
    console.print(table)


def _progress(description: str) -> tuple[Progress, Callable[[int], None]]:
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}"),
                   TimeElapsedColumn(), console=err_console, transient=True)
    task = bar.add_task(description, total=None)

    def update(done: int) -> None:
        bar.update(task, completed=done)

    return bar, update


# ------------------------------------------------------------------ workspace
@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Folder to make a workspace.")] = Path("."),
    database_url: Annotated[str, typer.Option(help="PostgreSQL URL; default: SQLite file.")] = "",
    owner: Annotated[str, typer.Option(help="Username of the first owner.")] = "owner",
    password: Annotated[str | None, typer.Option(help="Owner password (for the web UI).")] = None,
) -> None:
    """Create a workspace: handloom.toml, the database, and an owner with an API token.

    Example: `handloom init myspace --owner alice`
    """
    with _errors():
        workspace, token = init_workspace(path, database_url=database_url, owner=owner,
                                          password=password)
    console.print(f"Workspace ready at [bold]{workspace.root}[/] "
                  f"({'SQLite' if workspace.is_sqlite else 'PostgreSQL'}).")
    console.print(f"API token for {owner} (shown once): [bold]{token}[/]")


@app.command()
def serve(
    workspace: WorkspaceOpt = Path("."),
    host: Annotated[str | None, typer.Option(help="Listen address (setting: host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (setting: port).")] = None,
    workers: Annotated[int | None, typer.Option(help="Server processes (setting: serve_workers).")
                       ] = None,
) -> None:
    """Start the web server (API under /api/v1).

    Example: `handloom serve -w myspace --port 8642`
    """
    import uvicorn

    with _errors():
        ws = load_workspace(workspace)
        open_store(ws).dispose()
    os.environ["HANDLOOM_WORKSPACE"] = str(ws.root)
    host = host or ws.settings.host
    port = port or ws.settings.port
    n = workers or ws.settings.serve_workers
    console.print(f"Handloom {__version__} serving {ws.root} on http://{host}:{port}/ "
                  f"(API docs: http://{host}:{port}/api/docs)")
    uvicorn.run("handloom.web.serve:app", factory=True, host=host, port=port, workers=n,
                log_level="warning", access_log=False)


@app.command()
def status(workspace: WorkspaceOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Show the workspace: database, projects and their progress, ledger head.

    Example: `handloom status -w myspace`
    """
    from handloom.work.projects import list_projects

    with _store(workspace) as store, store.read() as conn:
        rows = list_projects(conn)
        count, head = ledger.head(conn)
        info = {"workspace": str(Path(workspace).resolve()), "database": store.dialect,
                "projects": rows, "ledger": {"events": count, "head": head}}
    if as_json:
        _print_json(info)
        return
    console.print(f"Workspace {info['workspace']} on {store.dialect}; ledger: {count} events, "
                  f"head {head[:16]}…")
    _table(rows, ["name", "kind", "status", "items", "done", "in_progress", "waiting",
                  "answers", "workers"], title="Projects")


@app.command()
def settings() -> None:
    """List every workspace setting with its default and meaning.

    Example: `handloom settings`
    """
    _table([{"setting": s.name, "default": s.default, "help": s.help} for s in SETTINGS],
           ["setting", "default", "help"])


# ------------------------------------------------------------------ projects
@project_app.command("create")
def project_create(
    spec: Annotated[Path, typer.Argument(help="Project spec (TOML or JSON).")],
    workspace: WorkspaceOpt = Path("."),
    items: Annotated[Path | None, typer.Option(help="Also import this item file.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a project from a spec file.

    Example:
    `handloom project create examples/toxicity/project.toml --items examples/toxicity/items.jsonl`
    """
    from handloom.work import projects

    with _store(workspace) as store:
        with _errors():
            parsed = projects.load_spec(spec)
            with store.write() as conn:
                projects.create_project(conn, parsed, actor=ACTOR,
                                        default_lease_seconds=load_workspace(workspace)
                                        .settings.default_lease_seconds)
        if items is not None:
            _import(store, parsed.name, str(items), quiet=as_json)
        with store.read() as conn:
            described = projects.describe_project(conn, projects.get_project(conn, parsed.name))
    if as_json:
        _print_json(described)
    else:
        console.print(f"Created project [bold]{parsed.name}[/] ({parsed.kind}, overlap "
                      f"{parsed.overlap}, status {described['status']}).")


@project_app.command("list")
def project_list(workspace: WorkspaceOpt = Path("."), as_json: JsonOpt = False) -> None:
    """List projects with their progress.

    Example: `handloom project list --json`
    """
    from handloom.work.projects import list_projects

    with _store(workspace) as store, store.read() as conn:
        rows = list_projects(conn)
    if as_json:
        _print_json(rows)
    else:
        _table(rows, ["name", "title", "kind", "status", "overlap", "items", "done",
                      "in_progress", "waiting", "answers"])


@project_app.command("show")
def project_show(name: str, workspace: WorkspaceOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Show one project: purpose, policies, instructions and progress.

    Example: `handloom project show toxicity`
    """
    from handloom.work import projects

    with _store(workspace) as store, store.read() as conn, _errors():
        described = projects.describe_project(conn, projects.get_project(conn, name))
    if as_json:
        _print_json(described)
        return
    rows = [{"field": k, "value": json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list)
             else v} for k, v in described.items() if k != "instructions"]
    _table(rows, ["field", "value"], title=f"Project {name}")
    console.print(f"[bold]Instructions (version {described['instructions_version']})[/]")
    console.print(described["instructions"] or "(none)", markup=False, highlight=False)


def _set_status(name: str, workspace: Path, status: str) -> None:
    from handloom.work import projects

    with _store(workspace) as store, _errors(), store.write() as conn:
        project = projects.get_project(conn, name)
        projects.set_status(conn, project.id, status, actor=ACTOR)
    console.print(f"Project {name} is now {status}.")


@project_app.command("open")
def project_open(name: str, workspace: WorkspaceOpt = Path(".")) -> None:
    """Open a project for work. Example: `handloom project open toxicity`"""
    _set_status(name, workspace, "open")


@project_app.command("pause")
def project_pause(name: str, workspace: WorkspaceOpt = Path(".")) -> None:
    """Pause a project (no new leases). Example: `handloom project pause toxicity`"""
    _set_status(name, workspace, "paused")


@project_app.command("close")
def project_close(name: str, workspace: WorkspaceOpt = Path(".")) -> None:
    """Close a project for good. Example: `handloom project close toxicity`"""
    _set_status(name, workspace, "closed")


@project_app.command("instructions")
def project_instructions(
    name: str,
    text_file: Annotated[Path, typer.Argument(help="Markdown file with the new instructions.")],
    note: Annotated[str, typer.Option(help="What changed, shown to workers.")] = "",
    answers: Annotated[str, typer.Option(
        help="Guideline flags this version answers, as ids: 3,5 (marked answered).")] = "",
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Publish a new instruction version.

    Example: `handloom project instructions toxicity v2.md --note "clarified sarcasm"
    --answers 3,5`
    """
    from handloom.work import projects

    parts = [p.strip() for p in answers.split(",") if p.strip()]
    if any(not p.isdigit() for p in parts):
        _fail(f"--answers takes flag ids separated by commas (like 3,5), not {answers!r}.")
    with _store(workspace) as store, _errors(), store.write() as conn:
        project = projects.get_project(conn, name)
        version = projects.add_instruction_version(
            conn, project.id, text_file.read_text(encoding="utf-8"), change_note=note,
            answers_issues=[int(p) for p in parts], actor=ACTOR)
    answered = f" It answers flag(s) {', '.join(parts)}." if parts else ""
    console.print(f"Instructions of {name} are now at version {version}.{answered}")


@project_app.command("describe")
def project_describe(
    name: Annotated[str, typer.Argument(help="The project's name.")],
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="FIELD=VALUE, repeatable, e.g. --set license=CC-BY-4.0.")] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", help="TOML file of fields (top-level keys, or a [disclosure] table); "
                       "--set applies after it.")] = None,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Show or change the project's disclosure statement: what only a person can know
    (purpose, data source, assumptions, biases, licence …) and the k of its reports.
    Without --set or --file it shows the statement; a change is recorded on the ledger.

    Fields: purpose, downstream_use, data_source, assumptions, data_collection,
    collection_type, collection_timeframe, preprocessing, missing_data, biases,
    bias_measures, data_gaps, known_limitations, use_cases, social_impact,
    personal_information, data_retention, maintenance_plan, license, citation, k (it can
    only go up).

    Example: `handloom project describe toxicity --set license=CC-BY-4.0 --file
    statement.toml`
    """
    import tomllib

    from handloom.disclose import statement
    from handloom.work import projects

    changes: dict[str, Any] = {}
    if file is not None:
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            _fail(f"Cannot read {file}: {exc.strerror}.")
        except tomllib.TOMLDecodeError as exc:
            _fail(f"{file}: not valid TOML: {exc}.")
        table = raw.pop("disclosure", {})
        if not isinstance(table, dict):
            _fail(f"{file}: disclosure must be a table ([disclosure]).")
        changes.update(raw)
        changes.update(table)
        unknown = sorted(set(changes) - set(statement.FIELDS))
        if unknown:
            _fail(f"{file}: unknown field {unknown[0]!r}; the fields are "
                  f"{', '.join(statement.FIELDS)}.")
    for item in set_ or []:
        field, sep, value = item.partition("=")
        field = field.strip()
        if not sep or not field:
            _fail(f"--set takes FIELD=VALUE (like license=CC-BY-4.0), not {item!r}.")
        if field not in statement.FIELDS:
            _fail(f"--set {field}: unknown field; the fields are "
                  f"{', '.join(statement.FIELDS)}.")
        changes[field] = value
    with _store(workspace) as store, _errors():
        if changes:
            with store.write() as conn:
                project = projects.get_project(conn, name)
                before = statement.stated(project)
                stated = statement.update_statement(conn, project, changes, actor=ACTOR)
        else:
            with store.read() as conn:
                stated = statement.stated(projects.get_project(conn, name))
                before = stated
    if as_json:
        _print_json(stated)
        return
    changed = [f for f in statement.FIELDS if stated[f] != before[f]]
    if changes:
        console.print(f"Changed {', '.join(changed)} of {name}; recorded on the ledger."
                      if changed else f"Nothing changed in the statement of {name}.",
                      markup=False, highlight=False)
    rows = [{"field": f, "value": stated[f] if stated[f] != "" else "(not stated)",
             "feeds": ", ".join(statement.FEEDS[f])} for f in statement.FIELDS]
    _table(rows, ["field", "value", "feeds"], title=f"Disclosure statement of {name}")


# ------------------------------------------------------------------ items
def _import(store: Store, project: str, source: str, *, quiet: bool = False) -> None:
    from handloom.work.importing import import_items

    bar, update = _progress(f"Importing {Path(source).name}")
    try:
        with bar:
            result = import_items(store, project, source, actor=ACTOR, progress=update)
    except ImportFailed as exc:
        _fail(exc.message)
    except HandloomError as exc:
        _fail(exc.message)
    # With --json, stdout carries only JSON; the note goes to stderr.
    (err_console if quiet else console).print(
        f"Imported {result.imported:,} items ({result.gold:,} gold) into {project} from "
        f"{source} (sha256 {result.sha256[:12]}…).")


@app.command("import")
def import_cmd(
    project: Annotated[str, typer.Argument(help="Project name.")],
    source: Annotated[str, typer.Argument(help="JSONL, CSV or Parquet file, or hf:NAME[:split].")],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Import items, all or nothing: one bad row and nothing is imported.

    Example: `handloom import toxicity comments.jsonl`
    """
    with _store(workspace) as store:
        _import(store, project, source)


@app.command("export")
def export_cmd(
    project: Annotated[str, typer.Argument(help="Project name.")],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Output file (jsonl, parquet) or new folder (hf, croissant).")],
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="jsonl, parquet, hf (Hugging Face datasets folder with a "
                               "dataset card) or croissant (Croissant 1.1 JSON-LD with "
                               "Parquet files).")] = "jsonl",
    answers: Annotated[bool, typer.Option(
        "--answers/--no-answers",
        help="Include every individual answer with its provenance.")] = True,
    k: Annotated[int | None, typer.Option(
        "--k", help="Smallest group of workers a figure in the card or Croissant file may "
                    "describe; can only raise the project's k.")] = None,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Export items with their labels and every answer's provenance (pseudonymous workers);
    `hf` and `croissant` also describe the dataset from the records (annotation process,
    annotators, sensitive information, Responsible-AI fields).

    Examples: `handloom export toxicity --format parquet --out toxicity.parquet` ·
    `handloom export toxicity --format croissant --out toxicity-croissant/`
    """
    from handloom.disclose.dataset import export_dataset

    with _store(workspace) as store:
        bar, update = _progress(f"Exporting {project}")
        try:
            with bar:
                result = export_dataset(store, project, fmt, out, actor=ACTOR,
                                        answers=answers, k=k, progress=update)
        except HandloomError as exc:
            _fail(exc.message)
    if as_json:
        _print_json({"format": result.format, "path": str(result.path),
                     "items": result.items, "answers": result.answers,
                     "answers_included": result.answers_included, "k": result.k,
                     "files": result.files})
        return
    what = f"{result.items:,} items" + (f" and {result.answers:,} answers"
                                         if result.answers_included else "")
    console.print(f"Wrote {what} to {out} ({len(result.files)} file"
                  f"{'' if len(result.files) == 1 else 's'}; recorded on the ledger).")


# ------------------------------------------------------------------ people
@worker_app.command("add")
def worker_add(
    ref: Annotated[str, typer.Argument(help="The worker's id (also their username).")],
    workspace: WorkspaceOpt = Path("."),
    role_class: Annotated[str, typer.Option(
        help="crowd, vendor, contractor, in-house, expert or volunteer.")] = "crowd",
    jurisdiction: Annotated[str | None, typer.Option(help="Country or region code, e.g. KE.")
                            ] = None,
    vendor: Annotated[str | None, typer.Option(help="Supplying vendor (created if new).")] = None,
    qualification: Annotated[list[str] | None, typer.Option(help="A qualification held.")] = None,
    password: Annotated[str | None, typer.Option(help="Password for the web UI.")] = None,
    token: Annotated[bool, typer.Option(help="Also create and print an API token.")] = False,
) -> None:
    """Add a worker (and the account they sign in with).

    Example:
    `handloom worker add w-0042 --role-class vendor --vendor "Acme Data" --jurisdiction KE --token`
    """
    from handloom.work import accounts

    with _store(workspace) as store, _errors(), store.write() as conn:
        accounts.add_worker(conn, ref, role_class=role_class, jurisdiction=jurisdiction,
                            vendor=vendor, qualifications=qualification or [],
                            password=password, actor=ACTOR)
        new_token = accounts.create_token(conn, ref, actor=ACTOR) if token else None
    console.print(f"Added worker {ref}.")
    if new_token:
        console.print(f"API token (shown once): [bold]{new_token}[/]")


def _worker_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        for row in reader:
            yield reader.line_num, dict(row)
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ImportFailed(str(path), number, None, f"not valid JSON ({exc})") from None


@worker_app.command("import")
def worker_import(
    path: Annotated[Path, typer.Argument(help="CSV or JSONL with ref, role_class, jurisdiction, "
                                         "vendor, qualifications (;-separated), password.")],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Import workers, all or nothing.

    Example: `handloom worker import workers.csv`
    """
    from handloom.work import accounts

    with _store(workspace) as store, _errors():
        count = 0
        with store.write() as conn:
            for number, row in _worker_rows(path):
                quals = row.get("qualifications") or []
                if isinstance(quals, str):
                    quals = [q.strip() for q in quals.split(";") if q.strip()]
                try:
                    accounts.add_worker(
                        conn, str(row.get("ref") or ""),
                        role_class=row.get("role_class") or "crowd",
                        jurisdiction=row.get("jurisdiction") or None,
                        vendor=row.get("vendor") or None, qualifications=quals,
                        password=row.get("password") or None, actor=ACTOR)
                except HandloomError as exc:
                    raise ImportFailed(str(path), number, exc.field, exc.message) from None
                count += 1
    console.print(f"Imported {count} workers.")


@worker_app.command("list")
def worker_list(workspace: WorkspaceOpt = Path("."), as_json: JsonOpt = False) -> None:
    """List workers. Example: `handloom worker list --json`"""
    from handloom.work.accounts import list_workers

    with _store(workspace) as store, store.read() as conn:
        rows = list_workers(conn)
    if as_json:
        _print_json(rows)
    else:
        _table(rows, ["id", "ref", "role_class", "jurisdiction", "vendor", "qualifications"])


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[str, typer.Option(help="owner, manager, reviewer or auditor.")],
    workspace: WorkspaceOpt = Path("."),
    password: Annotated[str | None, typer.Option(help="Password for the web UI.")] = None,
    token: Annotated[bool, typer.Option(help="Also create and print an API token.")] = False,
) -> None:
    """Add a staff account. Example: `handloom user add dana --role reviewer --token`"""
    from handloom.work import accounts

    if role == "worker":
        _fail("Workers are added with `handloom worker add`, which records their role class.")
    with _store(workspace) as store, _errors(), store.write() as conn:
        accounts.create_user(conn, username, role, password=password, actor=ACTOR)
        new_token = accounts.create_token(conn, username, actor=ACTOR) if token else None
    console.print(f"Added {role} {username}.")
    if new_token:
        console.print(f"API token (shown once): [bold]{new_token}[/]")


@token_app.command("create")
def token_create(
    username: str,
    workspace: WorkspaceOpt = Path("."),
    name: Annotated[str, typer.Option(help="A label to recognise the token by.")] = "",
) -> None:
    """Create an API token for a user or worker; it is shown once.

    Example: `handloom token create w-0042 --name laptop`
    """
    from handloom.work import accounts

    with _store(workspace) as store, _errors(), store.write() as conn:
        token = accounts.create_token(conn, username, name=name, actor=ACTOR)
    sys.stdout.write(token + "\n")


# ------------------------------------------------------------------ ledger
@ledger_app.command("verify")
def ledger_verify(workspace: WorkspaceOpt = Path("."), as_json: JsonOpt = False) -> None:
    """Recompute the hash chain and name the first broken link, if any. (To check a
    transparency report's anchor as well, use `handloom ledger anchor`.)

    Example: `handloom ledger verify`
    """
    with _store(workspace) as store, store.read() as conn:
        result = ledger.verify(conn)
    if as_json:
        _print_json(result.__dict__)
    elif result.ok:
        console.print(f"Ledger intact: {result.events:,} events, head {result.head}.")
    else:
        err_console.print(f"[bold red]Ledger broken[/] at event {result.broken_at}: "
                          f"{result.problem}. {result.events:,} events verified before it.")
    if not result.ok:
        raise typer.Exit(2)


@ledger_app.command("tail")
def ledger_tail(workspace: WorkspaceOpt = Path("."),
                n: Annotated[int, typer.Option("-n", help="How many events.")] = 20,
                as_json: JsonOpt = False) -> None:
    """Show the last events. Example: `handloom ledger tail -n 5`"""
    from sqlalchemy import select

    from handloom.store.schema import ledger_events

    with _store(workspace) as store, store.read() as conn:
        rows = conn.execute(select(ledger_events).order_by(ledger_events.c.seq.desc()).limit(n)
                            ).all()
    events = [{"seq": r.seq, "at": r.at, "event": r.event, "actor": r.actor,
               "project": r.project_id, "body": r.body, "hash": r.hash} for r in reversed(rows)]
    if as_json:
        _print_json(events)
    else:
        _table([{**e, "body": json.dumps(e["body"])[:80], "hash": e["hash"][:12]} for e in events],
               ["seq", "at", "event", "actor", "project", "body", "hash"])


# ------------------------------------------------------------------ demo
@app.command()
def demo(
    workspace: WorkspaceOpt = Path("demo-workspace"),
    examples: Annotated[Path | None, typer.Option(help="Folder of example projects.")] = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the demo and exit.")] = False,
    port: Annotated[int | None, typer.Option(help="Port to serve on.")] = None,
) -> None:
    """Build a demo workspace from the example projects (if absent) and serve it.

    Example: `handloom demo --no-serve -w /tmp/demo`
    """
    from handloom.demo import build_demo, find_examples

    with _errors():
        folder = examples or find_examples()
        ws: Workspace
        if not (workspace / "handloom.toml").exists():
            ws, logins = build_demo(workspace, folder, progress=lambda msg: console.print(msg))
            (workspace / "demo-logins.txt").write_text(logins, encoding="utf-8")
        ws = load_workspace(workspace)
    logins_file = workspace / "demo-logins.txt"
    if logins_file.exists():
        console.print(logins_file.read_text(encoding="utf-8"), markup=False, highlight=False)
    if no_serve:
        console.print(f"Demo workspace ready at {ws.root}.")
        return
    serve(workspace=workspace, host=None, port=port, workers=None)


# The quality commands live in their own module and register themselves on ``app``; so do
# the labor commands (appeals, reviews of workers, flags, terms: cli_labor; pay: cli_pay).
from handloom import cli_disclose, cli_exposure, cli_labor, cli_pay, cli_quality  # noqa: E402, F401


def main() -> None:
    app()


if __name__ == "__main__":
    main()
