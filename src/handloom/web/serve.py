"""Entry point for ``uvicorn --factory``: builds the app for $HANDLOOM_WORKSPACE."""

from __future__ import annotations

import os

from fastapi import FastAPI

from handloom.config import load_workspace
from handloom.web.app import app_for_workspace


def app() -> FastAPI:
    return app_for_workspace(load_workspace(os.environ.get("HANDLOOM_WORKSPACE", ".")))
