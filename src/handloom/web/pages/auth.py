"""Sign-in and sign-out with a password (argon2) and a signed session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from handloom.errors import Unauthorized
from handloom.web.deps import StoreDep
from handloom.web.pages.render import page
from handloom.web.pages.session import check_csrf, template_context
from handloom.work.accounts import check_password

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # Only local paths: never bounce a signed-in user to another site.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    return page("pages/login.html", template_context(request, None, next=_safe_next(next),
                                                     error=None))


@router.post("/login", include_in_schema=False)
def login(request: Request, store: StoreDep, username: Annotated[str, Form()],
          password: Annotated[str, Form()], csrf: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:
    check_csrf(request, csrf)
    try:
        with store.read() as conn:
            principal = check_password(conn, username, password)
    except Unauthorized as exc:
        context = template_context(request, None, next=_safe_next(next), error=exc.message,
                                   username=username)
        return page("pages/login.html", context, status_code=401)
    request.session.clear()
    request.session["uid"] = principal.user_id
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
