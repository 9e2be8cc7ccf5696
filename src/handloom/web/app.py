"""The ASGI application factory: one app per store, built from settings, never at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from handloom import __version__
from handloom.config import Workspace
from handloom.errors import HandloomError
from handloom.store.db import Store
from handloom.store.writer import WriteQueue
from handloom.web.api.disclose_routes import router as disclose_router
from handloom.web.api.exposure_routes import router as exposure_router
from handloom.web.api.labor_routes import router as labor_router
from handloom.web.api.pay_routes import router as pay_router
from handloom.web.api.quality_routes import router as quality_router
from handloom.web.api.routes import router as api_router
from handloom.web.deps import TokenCache
from handloom.web.pages import router as pages_router
from handloom.web.pages.render import STATIC_DIR, page
from handloom.web.pages.session import LoginRequired, session_secret, template_context
from handloom.web.security import SecurityHeaders
from handloom.web.work_loop import WorkLoopApp, validation_error_body

_TITLES = {401: "Please sign in", 403: "Not allowed", 404: "Not found", 409: "Not now",
           422: "That did not work"}


def _wants_html(request: Request) -> bool:
    """Pages get HTML error pages; the API and the page's own JSON calls get JSON."""
    return request.method == "GET" and not request.url.path.startswith(("/api/", "/ui/"))


def _browser_navigation(request: Request) -> bool:
    """An unknown address typed into a browser (it asks for HTML), not an API client."""
    return _wants_html(request) and "text/html" in request.headers.get("accept", "")


def create_app(store: Store, workspace: Workspace | None = None) -> FastAPI:
    writes = WriteQueue(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        writes.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Handloom",
        version=__version__,
        description="Human data enrichment with the labor behind every label made legible.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.store = store
    app.state.workspace = workspace
    app.state.token_cache = TokenCache()
    app.state.writes = writes

    @app.exception_handler(HandloomError)
    async def _domain_error(request: Request, exc: HandloomError) -> Response:
        if _wants_html(request):
            return page("pages/error.html", template_context(
                request, None, title=_TITLES.get(exc.status, "Something went wrong"),
                message=exc.message), status_code=exc.status)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_html(request):
            return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)
        return JSONResponse({"error": "unauthorized",
                             "message": "Your session has ended; sign in again."},
                            status_code=401)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(validation_error_body(exc.errors()), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _browser_navigation(request):
            return page("pages/error.html", template_context(
                request, None, title=_TITLES.get(exc.status_code, "Something went wrong"),
                message="There is no page at this address."
                if exc.status_code == 404 else str(exc.detail)), status_code=exc.status_code)
        messages: dict[int, str] = {
            404: "No such endpoint. The API lives under /api/v1; see /api/v1/openapi.json.",
            405: "This endpoint does not accept that HTTP method.",
        }
        body: dict[str, Any] = {"error": "http_" + str(exc.status_code),
                                "message": messages.get(exc.status_code, str(exc.detail))}
        return JSONResponse(body, status_code=exc.status_code)

    app.include_router(api_router)
    app.include_router(quality_router)
    app.include_router(labor_router)
    app.include_router(pay_router)
    app.include_router(exposure_router)
    app.include_router(disclose_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.add_middleware(SessionMiddleware, secret_key=session_secret(store),
                       session_cookie="handloom_session", same_site="lax", https_only=False,
                       max_age=12 * 3600)
    app.add_middleware(WorkLoopApp, writes=writes, tokens=app.state.token_cache, store=store)
    app.add_middleware(SecurityHeaders)
    return app


def app_for_workspace(workspace: Workspace) -> FastAPI:
    return create_app(Store.for_workspace(workspace), workspace)
