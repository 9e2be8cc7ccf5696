"""Browser sessions: who is signed in, and the CSRF token every form and fetch must carry."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select

from handloom.errors import Forbidden
from handloom.store.db import Store
from handloom.store.schema import workspace_meta
from handloom.web.deps import get_store
from handloom.work.accounts import Principal, principal_for_user

SESSION_SECRET_KEY = "session_secret"
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """Raised by page dependencies when nobody is signed in; answered with a redirect."""

    def __init__(self, next_path: str):
        self.next_path = next_path


def session_secret(store: Store) -> str:
    """The workspace's session-signing secret, created on first use and kept in the store."""
    with store.read() as conn:
        value = conn.execute(select(workspace_meta.c.value)
                             .where(workspace_meta.c.key == SESSION_SECRET_KEY)).scalar()
    if value:
        return str(value)
    with store.write() as conn:
        value = conn.execute(select(workspace_meta.c.value)
                             .where(workspace_meta.c.key == SESSION_SECRET_KEY)).scalar()
        if not value:
            value = secrets.token_hex(32)
            conn.execute(workspace_meta.insert().values(key=SESSION_SECRET_KEY, value=value))
    return str(value)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not submitted or not hmac.compare_digest(str(expected), submitted):
        raise Forbidden("This form has expired or did not come from this site; reload the page "
                        "and try again.")


def signed_in(request: Request, store: Annotated[Store, Depends(get_store)]) -> Principal:
    user_id = request.session.get("uid")
    principal = None
    if isinstance(user_id, int):
        with store.read() as conn:
            principal = principal_for_user(conn, user_id)
    if principal is None:
        request.session.pop("uid", None)
        raise LoginRequired(request.url.path)
    return principal


async def csrf_protected(request: Request) -> None:
    """For state-changing requests from the page: the token in the header or form field."""
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf")
        submitted = value if isinstance(value, str) else None
    check_csrf(request, submitted)


UserDep = Annotated[Principal, Depends(signed_in)]
CsrfDep = Annotated[None, Depends(csrf_protected)]


def template_context(request: Request, principal: Principal | None, **extra: Any) -> dict[str, Any]:
    return {"request": request, "me": principal, "csrf": csrf_token(request), **extra}
