"""REST API v1. Each route parses input, authorizes through the policy table, calls one
service function inside one transaction, and returns a schema."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from handloom import ledger
from handloom.disclose import statement
from handloom.disclose.dataset import FILE_FORMATS, FORMATS, export_dataset
from handloom.errors import Invalid
from handloom.kinds.base import kind_catalog
from handloom.web import work_loop
from handloom.web.api import schemas as s
from handloom.web.deps import PrincipalDep, StoreDep, WritesDep
from handloom.web.policies import POLICY, authorize
from handloom.work import accounts, importing, projects, views
from handloom.work.accounts import ROLES

router = APIRouter(prefix="/api/v1")
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": s.ErrorBody} for code in (400, 401, 403, 404, 409, 422)
}


def action(name: str | None) -> dict[str, Any]:
    """Record in the OpenAPI schema which policy action a route needs (and so which roles);
    the authorization tests read it back from there."""
    return {"x-handloom-action": name or "authenticated",
            "x-handloom-roles": sorted(POLICY[name]) if name else sorted(ROLES)}


def _worker_id(principal: accounts.Principal) -> int:
    if principal.worker_id is None:
        raise Invalid("This account is not linked to a worker record.")
    return principal.worker_id


@router.get("/health", tags=["meta"])
def health(store: StoreDep) -> dict[str, str]:
    with store.read() as conn:
        conn.exec_driver_sql("SELECT 1")
    return {"status": "ok", "database": store.dialect}


@router.get("/me", response_model=s.Me, responses=ERRORS, tags=["meta"],
             openapi_extra=action(None))
def me(principal: PrincipalDep) -> s.Me:
    return s.Me(user_id=principal.user_id, username=principal.username, role=principal.role,
                worker_id=principal.worker_id)


@router.get("/kinds", responses=ERRORS, tags=["meta"],
             openapi_extra=action("kinds.read"))
def list_kinds(principal: PrincipalDep) -> list[dict[str, str]]:
    authorize(principal, "kinds.read")
    return kind_catalog()


# ------------------------------------------------------------------ projects
@router.get("/projects", responses=ERRORS, tags=["projects"],
             openapi_extra=action("project.list"))
def list_projects(principal: PrincipalDep, store: StoreDep) -> list[dict[str, Any]]:
    authorize(principal, "project.list")
    with store.read() as conn:
        if principal.role == "worker":
            return views.worker_project_cards(conn, _worker_id(principal))
        return projects.list_projects(conn)


@router.post("/projects", status_code=201, responses=ERRORS, tags=["projects"],
             openapi_extra=action("project.create"))
def create_project(spec: dict[str, Any], request: Request, principal: PrincipalDep,
                   store: StoreDep) -> dict[str, Any]:
    """Create a project from a spec (the same keys as a project TOML file)."""
    authorize(principal, "project.create")
    parsed = projects.parse_spec(spec, source="request body")
    workspace = request.app.state.workspace
    lease = workspace.settings.default_lease_seconds if workspace is not None else 600
    with store.write() as conn:
        project_id = projects.create_project(conn, parsed, actor=principal.actor,
                                             created_by=principal.user_id,
                                             default_lease_seconds=lease)
        return projects.describe_project(conn, projects.get_project(conn, project_id))


@router.get("/projects/{name}", responses=ERRORS, tags=["projects"],
             openapi_extra=action("project.read"))
def show_project(name: str, principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    authorize(principal, "project.read")
    with store.read() as conn:
        project = projects.get_project(conn, name)
        if principal.role == "worker":
            views.open_project_card(conn, _worker_id(principal), name)
        described = projects.describe_project(conn, project)
    if principal.role == "worker":
        hidden = ("items", "gold_items", "done", "in_progress", "waiting", "answers", "leased",
                  "workers")
        described = {k: v for k, v in described.items() if k not in hidden}
    return described


@router.post("/projects/{name}/status", responses=ERRORS, tags=["projects"],
             openapi_extra=action("project.status"))
def change_status(name: str, body: s.StatusChange, principal: PrincipalDep,
                  store: StoreDep) -> dict[str, Any]:
    authorize(principal, "project.status")
    with store.write() as conn:
        project = projects.get_project(conn, name)
        projects.set_status(conn, project.id, body.status, actor=principal.actor)
        return projects.project_summary(conn, projects.get_project(conn, name))


@router.get("/projects/{name}/instructions", response_model=s.Instructions, responses=ERRORS,
            tags=["projects"],
             openapi_extra=action("project.read"))
def get_instructions(name: str, principal: PrincipalDep, store: StoreDep) -> s.Instructions:
    authorize(principal, "project.read")
    with store.read() as conn:
        current = projects.current_instructions(conn, projects.get_project(conn, name).id)
    return s.Instructions(version=current["version"], text=current["text"],
                          change_note=current.get("change_note", ""))


@router.post("/projects/{name}/instructions", response_model=s.Instructions, responses=ERRORS,
             tags=["projects"],
             openapi_extra=action("project.instructions"))
def new_instructions(name: str, body: s.InstructionsChange, principal: PrincipalDep,
                     store: StoreDep) -> s.Instructions:
    authorize(principal, "project.instructions")
    with store.write() as conn:
        project = projects.get_project(conn, name)
        version = projects.add_instruction_version(
            conn, project.id, body.text, change_note=body.change_note, actor=principal.actor,
            created_by=principal.user_id, answers_issues=body.answers_issues)
    return s.Instructions(version=version, text=body.text, change_note=body.change_note)


# -- disclosure: the project's statement (what only a person can know) --
def _said(name: str, limit: int | None = None) -> Any:
    """An optional text field of the statement, described as the forms describe it."""
    return Field(None, max_length=limit or statement.max_length(name),
                 description=statement.help_for(name))


class DisclosurePatch(BaseModel):
    """The stated fields to change; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    purpose: str | None = _said("purpose")
    downstream_use: str | None = _said("downstream_use", 40)
    data_source: str | None = _said("data_source")
    assumptions: str | None = _said("assumptions")
    data_collection: str | None = _said("data_collection")
    collection_type: str | None = _said("collection_type")
    collection_timeframe: str | None = _said("collection_timeframe")
    preprocessing: str | None = _said("preprocessing")
    missing_data: str | None = _said("missing_data")
    biases: str | None = _said("biases")
    bias_measures: str | None = _said("bias_measures")
    data_gaps: str | None = _said("data_gaps")
    known_limitations: str | None = _said("known_limitations")
    use_cases: str | None = _said("use_cases")
    social_impact: str | None = _said("social_impact")
    personal_information: str | None = _said("personal_information")
    data_retention: str | None = _said("data_retention")
    maintenance_plan: str | None = _said("maintenance_plan")
    license: str | None = _said("license")
    citation: str | None = _said("citation")
    k: int | None = Field(None, ge=statement.K_MIN, le=1000,
                          description=statement.help_for("k") + " It can only be raised.")


@router.get("/projects/{name}/disclosure", responses=ERRORS, tags=["projects"],
            openapi_extra=action("project.read"))
def get_disclosure(name: str, principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    """The project's disclosure statement: what only a person can know (purpose, data
    source, assumptions, biases, licence …) and the k of its reports, each field as stated
    (empty: not stated)."""
    authorize(principal, "project.read")
    with store.read() as conn:
        project = projects.get_project(conn, name)
        if principal.role == "worker":
            views.open_project_card(conn, _worker_id(principal), name)
        return statement.stated(project)


@router.patch("/projects/{name}/disclosure", responses=ERRORS, tags=["projects"],
              openapi_extra=action("disclosure.edit"))
def edit_disclosure(name: str, body: DisclosurePatch, principal: PrincipalDep,
                    store: StoreDep) -> dict[str, Any]:
    """Change stated fields (those given; null leaves one as it is). Which fields changed
    is recorded on the ledger with the SHA-256 of each new text; k can only go up."""
    authorize(principal, "disclosure.edit")
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    with store.write() as conn:
        project = projects.get_project(conn, name)
        return statement.update_statement(conn, project, changes, actor=principal.actor)


@router.get("/projects/{name}/summary", response_model=s.ProjectSummary, responses=ERRORS,
            tags=["projects"],
             openapi_extra=action("project.summary"))
def summary(name: str, principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    authorize(principal, "project.summary")
    with store.read() as conn:
        return projects.project_summary(conn, projects.get_project(conn, name))


# ------------------------------------------------------------------ items
@router.post("/projects/{name}/items", response_model=s.ImportOutcome, status_code=201,
             responses=ERRORS, tags=["items"],
             openapi_extra=action("items.import"))
def import_items(name: str, body: s.ItemsUpload, principal: PrincipalDep,
                 store: StoreDep) -> s.ImportOutcome:
    """Import items given as JSON objects (the same fields as a JSONL line), all or nothing."""
    authorize(principal, "items.import")
    result = importing.import_items(store, name, body.source, rows=body.items,
                                    actor=principal.actor)
    return s.ImportOutcome(project=name, imported=result.imported, gold=result.gold,
                           sha256=result.sha256)


@router.post("/projects/{name}/items/file", response_model=s.ImportOutcome, status_code=201,
             responses=ERRORS, tags=["items"],
             openapi_extra=action("items.import"))
def upload_items(name: str, file: Annotated[UploadFile, File()], principal: PrincipalDep,
                 store: StoreDep) -> s.ImportOutcome:
    """Import a JSONL, CSV or Parquet file (by its extension), all or nothing."""
    authorize(principal, "items.import")
    filename = file.filename or "upload.jsonl"
    data = file.file.read()
    result = importing.import_items(store, name, filename, data=data, actor=principal.actor)
    return s.ImportOutcome(project=name, imported=result.imported, gold=result.gold,
                           sha256=result.sha256)


@router.get("/projects/{name}/items", responses=ERRORS, tags=["items"],
             openapi_extra=action("items.read"))
def list_items(name: str, principal: PrincipalDep, store: StoreDep,
               after: str | None = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    authorize(principal, "items.read")
    with store.read() as conn:
        return views.list_items(conn, projects.get_project(conn, name), after=after, limit=limit)


@router.get("/projects/{name}/annotations", response_model=list[s.AnnotationOut],
            responses=ERRORS, tags=["items"],
             openapi_extra=action("annotations.read"))
def list_annotations(name: str, principal: PrincipalDep, store: StoreDep,
                     after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    """Answers with pseudonymous workers (never their ids or accounts)."""
    authorize(principal, "annotations.read")
    with store.read() as conn:
        return views.list_annotations(conn, projects.get_project(conn, name),
                                      after_id=after_id, limit=limit)


@router.get("/projects/{name}/export", responses=ERRORS, tags=["items"],
            response_class=FileResponse,
             openapi_extra=action("dataset.export"))
def export(name: str, principal: PrincipalDep, store: StoreDep,
           format: Annotated[str, Query(pattern="^(jsonl|parquet|hf|croissant)$")] = "jsonl",
           answers: bool = True,
           k: Annotated[int | None, Query(ge=5, le=1000)] = None) -> FileResponse:
    """The project's dataset: a JSONL or Parquet file, or (``hf``, ``croissant``) the
    export folder as a zip archive. ``answers=false`` leaves out the individual answers;
    ``k`` can only raise the project's k. Every export is recorded on the ledger."""
    authorize(principal, "dataset.export")
    import shutil
    import tempfile
    from pathlib import Path

    if format not in FORMATS:
        raise Invalid(f"Unknown format {format!r}.", field="format")
    tmp = Path(tempfile.mkdtemp(prefix="handloom-export-"))
    try:
        if format in FILE_FORMATS:
            out = tmp / f"{name}.{format}"
            export_dataset(store, name, format, out, actor=principal.actor, answers=answers,
                           k=k)
            media = ("application/x-ndjson" if format == "jsonl"
                     else "application/vnd.apache.parquet")
        else:
            folder = tmp / f"{name}-{format}"
            export_dataset(store, name, format, folder, actor=principal.actor,
                           answers=answers, k=k)
            out = Path(shutil.make_archive(str(folder), "zip", root_dir=folder))
            media = "application/zip"
    except BaseException:
        _remove_tree(tmp)
        raise
    return FileResponse(out, media_type=media, filename=out.name,
                        background=BackgroundTask(_remove_tree, tmp))


def _remove_tree(path: Any) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------ work
# The work loop is answered by handloom.web.work_loop before FastAPI sees it; these
# declarations give it its OpenAPI schema and call the very same functions.
@router.post("/projects/{name}/next", response_model=s.NextResponse, responses=ERRORS,
             tags=["work"],
             openapi_extra=action("work.next"))
async def next_item(name: str, principal: PrincipalDep, writes: WritesDep) -> dict[str, Any]:
    """Lease the next item to the calling worker (or return the lease it already holds)."""
    return await work_loop.lease_next(writes, name, principal)


@router.post("/projects/{name}/assignments/{assignment_id}/submit",
             response_model=s.SubmitResponse, responses=ERRORS, tags=["work"],
             openapi_extra=action("work.submit"))
async def submit(name: str, assignment_id: int, body: s.SubmitRequest, principal: PrincipalDep,
                 writes: WritesDep) -> dict[str, Any]:
    """Submit an answer. Retrying with the same idempotency key returns the first result."""
    return await work_loop.submit(writes, name, assignment_id, body, principal)


@router.post("/projects/{name}/assignments/{assignment_id}/skip", response_model=s.Closed,
             responses=ERRORS, tags=["work"],
             openapi_extra=action("work.submit"))
async def skip(name: str, assignment_id: int, body: s.SkipRequest, principal: PrincipalDep,
               writes: WritesDep) -> dict[str, Any]:
    """Skip an item: it goes back to the pool and will not be offered to you again."""
    return await work_loop.close(writes, name, assignment_id, principal, "skipped", body.reason,
                                 body.active_seconds)


@router.post("/projects/{name}/assignments/{assignment_id}/release", response_model=s.Closed,
             responses=ERRORS, tags=["work"],
             openapi_extra=action("work.submit"))
async def release(name: str, assignment_id: int, principal: PrincipalDep,
                  writes: WritesDep) -> dict[str, Any]:
    """Hand an item back unanswered (e.g. at the end of a shift)."""
    return await work_loop.close(writes, name, assignment_id, principal, "released", None)


@router.get("/me/assignments", response_model=list[s.OwnAssignment], responses=ERRORS,
            tags=["work"],
             openapi_extra=action("work.own"))
def my_assignments(principal: PrincipalDep, store: StoreDep,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    authorize(principal, "work.own")
    with store.read() as conn:
        return views.own_assignments(conn, _worker_id(principal), limit=limit)


# ------------------------------------------------------------------ people
@router.get("/workers", response_model=list[s.WorkerOut], responses=ERRORS, tags=["people"],
             openapi_extra=action("worker.read"))
def list_workers(principal: PrincipalDep, store: StoreDep) -> list[dict[str, Any]]:
    authorize(principal, "worker.read")
    with store.read() as conn:
        return accounts.list_workers(conn)


@router.post("/workers", response_model=s.WorkerOut, status_code=201, responses=ERRORS,
             tags=["people"],
             openapi_extra=action("worker.create"))
def add_worker(body: s.WorkerCreate, principal: PrincipalDep, store: StoreDep) -> dict[str, Any]:
    authorize(principal, "worker.create")
    with store.write() as conn:
        worker_id = accounts.add_worker(
            conn, body.ref, role_class=body.role_class, jurisdiction=body.jurisdiction,
            vendor=body.vendor, qualifications=body.qualifications, password=body.password,
            actor=principal.actor)
        return next(w for w in accounts.list_workers(conn) if w["id"] == worker_id)


@router.post("/tokens", response_model=s.TokenOut, status_code=201, responses=ERRORS,
             tags=["people"],
             openapi_extra=action("token.create"))
def create_token(body: s.TokenCreate, principal: PrincipalDep, store: StoreDep) -> s.TokenOut:
    authorize(principal, "token.create")
    with store.write() as conn:
        token = accounts.create_token(conn, body.username, name=body.name, actor=principal.actor)
    return s.TokenOut(username=body.username, token=token)


@router.get("/ledger/verify", response_model=s.LedgerStatus, responses=ERRORS, tags=["ledger"],
             openapi_extra=action("ledger.verify"))
def verify_ledger(principal: PrincipalDep, store: StoreDep,
                  anchor: Annotated[str | None, Query(
                      max_length=100, description="SEQ:HASH from a transparency report: also "
                      "check that event SEQ still has HASH.")] = None) -> s.LedgerStatus:
    authorize(principal, "ledger.verify")
    wanted = ledger.parse_anchor(anchor) if anchor else None
    with store.read() as conn:
        result = ledger.verify(conn, wanted)
    return s.LedgerStatus(ok=result.ok, events=result.events, head=result.head,
                          broken_at=result.broken_at, problem=result.problem)
