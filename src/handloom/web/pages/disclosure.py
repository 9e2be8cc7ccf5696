"""The project's disclosure statement in the browser: what only a person can know.

Owners and managers state, on one page, the fields a transparency report and a Croissant
file cannot measure (purpose, data source, assumptions, biases, licence …), each with what
it asks for and where it is published (the EU AI Act Article 10(2) point, the Croissant
property). Readers (reviewers, auditors) see the same page without the form. Each change
is recorded on the ledger by :func:`handloom.disclose.statement.update_statement`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from handloom.disclose import statement
from handloom.errors import HandloomError
from handloom.store.db import Store
from handloom.web.deps import StoreDep, WritesDep
from handloom.web.pages.render import page
from handloom.web.pages.session import CsrfDep, UserDep, template_context
from handloom.web.policies import allowed, authorize
from handloom.work import projects
from handloom.work.accounts import Principal

router = APIRouter(include_in_schema=False)

FLASH_KEY = "disclosure_flash"
Name = Annotated[str, Path(max_length=120)]
# The page's sections, each a run of fields (every stated field appears once).
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Purpose and use", ("purpose", "downstream_use", "use_cases", "social_impact")),
    ("The data", ("data_source", "data_collection", "collection_type", "collection_timeframe",
                  "preprocessing", "missing_data", "personal_information")),
    ("Assumptions, biases and gaps", ("assumptions", "biases", "bias_measures", "data_gaps",
                                      "known_limitations")),
    ("Release", ("license", "citation", "maintenance_plan", "data_retention", "k")),
)
assert sorted(f for _, fields in GROUPS for f in fields) == sorted(statement.FIELDS)
SHORT = 500  # fields this long at most get a one-line input instead of a text box


def _field(name: str, value: Any, error: str | None) -> dict[str, Any]:
    limit = None if name == "k" else statement.max_length(name)
    widget = ("number" if name == "k" else "select" if name == "downstream_use"
              else "input" if limit is not None and limit <= SHORT else "textarea")
    return {"name": name, "label": statement.LABELS[name], "help": statement.help_for(name),
            "feeds": statement.FEEDS[name], "value": "" if value is None else str(value),
            "widget": widget, "max_length": limit, "error": error}


def _render(request: Request, me: Principal, project: Any, values: dict[str, Any],
            errors: dict[str, str], status_code: int = 200) -> Response:
    current = statement.stated(project)
    groups = [{"title": title, "fields": [_field(f, values[f], errors.get(f)) for f in fields]}
              for title, fields in GROUPS]
    texts = [f for f in statement.FIELDS if f != "k"]
    flash = request.session.pop(FLASH_KEY, None)
    return page("pages/manage_disclosure.html", template_context(
        request, me, p={"name": project.name, "title": project.title,
                        "status": project.status},
        groups=groups, errors=errors, can_edit=allowed(me, "disclosure.edit"),
        downstream_uses=projects.DOWNSTREAM_USES, k_min=current["k"],
        stated_count=sum(1 for f in texts if current[f]), field_count=len(texts),
        flash=flash if isinstance(flash, str) else None), status_code=status_code)


def _project(store: Store, name: str) -> Any:
    with store.read() as conn:
        return projects.get_project(conn, name)


@router.get("/manage/{name}/disclosure")
def disclosure_page(name: Name, request: Request, me: UserDep, store: StoreDep) -> Response:
    authorize(me, "project.summary")
    project = _project(store, name)
    return _render(request, me, project, statement.stated(project), {})


def form_changes(form: dict[str, str], current: dict[str, Any]) -> dict[str, Any]:
    """The fields the form changes (text with the browser's CRLF made plain newlines and
    outer white space trimmed; k as the form gives it, checked by the statement)."""
    changes: dict[str, Any] = {}
    for name in statement.FIELDS:
        if name not in form:
            continue
        value = form[name].replace("\r\n", "\n").strip()
        if name == "k":
            if value and value != str(current["k"]):
                changes["k"] = value
        elif value != current[name]:
            changes[name] = value
    return changes


@router.post("/manage/{name}/disclosure")
async def save_disclosure(name: Name, request: Request, me: UserDep, _csrf: CsrfDep,
                          writes: WritesDep, store: StoreDep) -> Response:
    authorize(me, "disclosure.edit")
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}

    def work(conn: Connection) -> list[str]:
        project = projects.get_project(conn, name)
        before = statement.stated(project)
        after = statement.update_statement(conn, project, form_changes(form, before),
                                           actor=me.actor)
        return [statement.LABELS[f] for f in statement.FIELDS if after[f] != before[f]]

    try:
        changed = await writes.run(work)
    except HandloomError as exc:
        field = exc.field if exc.field in statement.FIELDS else None
        errors = {field: exc.message} if field else {"_form": exc.message}
        project = await run_in_threadpool(_project, store, name)
        values = {**statement.stated(project),
                  **{k: v for k, v in form.items() if k in statement.FIELDS}}
        return _render(request, me, project, values, errors,
                       status_code=exc.status if exc.status in (404, 409, 422) else 422)
    request.session[FLASH_KEY] = (f"Saved: {', '.join(changed)}. The change is on the ledger."
                                  if changed else "Nothing changed.")
    return RedirectResponse(f"/manage/{name}/disclosure", status_code=303)
