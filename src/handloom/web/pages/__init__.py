"""The browser workbench: server-rendered pages (Jinja2 + htmx) and small widget scripts."""

from __future__ import annotations

from fastapi import APIRouter

from handloom.web.pages import auth, manage, review, worker

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
router.include_router(worker.router)
router.include_router(manage.router)
router.include_router(review.router)
