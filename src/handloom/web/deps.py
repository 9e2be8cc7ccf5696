"""Request dependencies: the store of the running app and the authenticated principal."""

from __future__ import annotations

import time
from threading import Lock
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from handloom.errors import Unauthorized
from handloom.store.db import Store
from handloom.store.writer import WriteQueue
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


def get_writes(request: Request) -> WriteQueue:
    writes: WriteQueue = request.app.state.writes
    return writes


async def principal_from_header(header: str | None, cache: TokenCache,
                                store: Store) -> Principal:
    """The principal behind an ``Authorization: Bearer`` header (cached briefly)."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'. Create one "
                           "with `handloom token create USER`.")
    token = token.strip()
    key = hash_token(token)
    principal = cache.get(key)
    if principal is None:
        def lookup() -> Principal:
            with store.read() as conn:
                return principal_for_token(conn, token)

        principal = await anyio.to_thread.run_sync(lookup)
        cache.put(key, principal)
    return principal


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
    return await principal_from_header(header, request.app.state.token_cache, get_store(request))


StoreDep = Annotated[Store, Depends(get_store)]
WritesDep = Annotated[WriteQueue, Depends(get_writes)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
