"""REST API v1 for disclosure: a project's transparency report, as data (its facts, the
scorecards and the ledger anchor) or as the HTML and Markdown documents. Reading a report
writes nothing; ``handloom report`` is what records a report on the ledger."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response

from handloom.disclose import report as report_mod
from handloom.web.api.routes import ERRORS, action
from handloom.web.deps import PrincipalDep, StoreDep
from handloom.web.policies import authorize
from handloom.work.projects import get_project

router = APIRouter(prefix="/api/v1", tags=["disclosure"])

Name = Annotated[str, Path(max_length=120)]
REPORT_FORMATS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "text/html": {}, "text/markdown": {}},
          "description": "The report: JSON (facts, scorecards, anchor), or the HTML or "
                         "Markdown document (as a download)."}}
MEDIA = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}


@router.get("/projects/{name}/report", responses={**ERRORS, **REPORT_FORMATS},
            response_class=Response, openapi_extra=action("report.read"))
def project_report(
    name: Name, principal: PrincipalDep, store: StoreDep,
    format: Literal["json", "html", "md"] = "json",
    k: Annotated[int | None, Query(ge=5, le=1000, description=(
        "Smallest number of workers a figure may describe: raises the project's k, never "
        "lowers it."))] = None,
) -> Response:
    """The project's transparency report. ``format=json`` (default) gives the figures
    (``facts``, every worker figure already k-suppressed), the ``scorecards`` with each
    point's status, evidence and rule, and the ledger ``anchor``; ``html`` and ``md`` give
    the documents ``handloom report`` writes."""
    authorize(principal, "report.read")
    with store.read() as conn:
        report = report_mod.build(conn, get_project(conn, name), k=k)
    if format == "json":
        return JSONResponse(report_mod.report_json(report))
    body = (report_mod.render_html(report) if format == "html"
            else report_mod.render_markdown(report))
    return Response(body, media_type=MEDIA[format], headers={
        "Content-Disposition": f'attachment; filename="{name}-report.{format}"'})
