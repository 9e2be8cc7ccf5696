"""The transparency report page: the same report ``handloom report`` writes, for owners,
managers and auditors, one click from the project's page, with the HTML and Markdown files
to download. Reading it writes nothing (``handloom report`` records a report on the ledger).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from handloom.disclose import report as report_mod
from handloom.web.deps import StoreDep
from handloom.web.pages.render import page
from handloom.web.pages.session import UserDep, template_context
from handloom.web.policies import authorize
from handloom.work import projects

router = APIRouter(include_in_schema=False)

Name = Annotated[str, Path(max_length=120)]
CSS_PATH = "/reports/report.css"
MEDIA = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}


@router.get(CSS_PATH)
def report_css() -> Response:
    """The report's stylesheet (one file serves the page and is inlined into report.html)."""
    return Response(report_mod.report_css(), media_type="text/css",
                    headers={"Cache-Control": "public, max-age=3600"})


@router.get("/manage/{name}/report")
def report_page(name: Name, request: Request, me: UserDep, store: StoreDep) -> Response:
    authorize(me, "report.read")
    with store.read() as conn:
        project = projects.get_project(conn, name)
        report = report_mod.build(conn, project)
        summary = projects.project_summary(conn, project)
    return page("pages/report.html", template_context(
        request, me, p=summary, body=report_mod.render_body(report), css=CSS_PATH,
        anchor=report.facts.anchor, k=report.facts.k))


@router.get("/manage/{name}/report.{fmt}")
def report_download(name: Name, fmt: str, me: UserDep, store: StoreDep) -> Response:
    """report.html or report.md, as the command line would write them (a download)."""
    authorize(me, "report.read")
    if fmt not in MEDIA:
        return Response("Reports download as report.html or report.md.", status_code=404,
                        media_type="text/plain")
    with store.read() as conn:
        report = report_mod.build(conn, projects.get_project(conn, name))
    body = (report_mod.render_html(report) if fmt == "html"
            else report_mod.render_markdown(report))
    return Response(body, media_type=MEDIA[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}-report.{fmt}"'})
