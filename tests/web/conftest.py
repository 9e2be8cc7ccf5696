"""Fixtures for the web layer: the real ASGI app in a real uvicorn, and people with tokens.

``live_server`` serves ``create_app(store)`` for the ``store`` fixture's database (SQLite or
PostgreSQL, whichever the test is parametrized on) from a uvicorn running in a background
thread on 127.0.0.1, and yields its base URL. ``people`` creates users of each role and
workers, each with an API token, through :mod:`handloom.work.accounts` (never raw inserts).
The helpers themselves live in ``web_helpers.py`` so that tests can import them.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from web_helpers import People, start_live_server, stop_live_server

from handloom.store.db import Store
from handloom.web.app import create_app


@pytest.fixture
def people(store: Store) -> People:
    """Users of each role and workers, each with an API token, in the test's store."""
    return People(store)


@pytest.fixture
def live_app(store: Store) -> FastAPI:
    """The ASGI app over the test's store (one per test, like one ``handloom serve``)."""
    return create_app(store)


@pytest.fixture
def live_server(live_app: FastAPI) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT``) of uvicorn serving the app over ``store``."""
    live = start_live_server(live_app)
    try:
        yield live.url
    finally:
        stop_live_server(live)


@pytest.fixture
def api(live_server: str) -> Iterator[httpx.Client]:
    """A plain HTTP client of the live server (no token: pass ``headers=`` per request).

    (Starlette's TestClient is not used: with plain httpx installed it emits a deprecation
    warning at import, which this project's ``filterwarnings = error`` turns into a failure.)
    """
    with httpx.Client(base_url=live_server, timeout=30.0) as c:
        yield c
