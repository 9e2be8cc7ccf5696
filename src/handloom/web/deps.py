"""Request dependencies: the store of the running app and the authenticated principal."""

from __future__ import annotations

import time
from threading import Lock
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from handloom.errors import Unauthorized
from handloom.store.db import Store
from handloom.work.accounts import Principal, hash_token, principal_for_token

_bearer = HTTPBearer(auto_error=False, description="An API token from `handloom token create`.")

# Token lookups are cached briefly: the hot path (next, submit) would otherwise spend a
# query per request on them. Revocation is checked again after TOKEN_CACHE_SECONDS.
TOKEN_CACHE_SECONDS = 5.0


class TokenCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = Lock()

    def get(self, key: str) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) > 10000:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + TOKEN_CACHE_SECONDS, principal)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'. Create one "
                           "with `handloom token create USER`.")
    cache: TokenCache = request.app.state.token_cache
    key = hash_token(credentials.credentials)
    principal = cache.get(key)
    if principal is None:
        with get_store(request).read() as conn:
            principal = principal_for_token(conn, credentials.credentials)
        cache.put(key, principal)
    return principal


StoreDep = Annotated[Store, Depends(get_store)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
