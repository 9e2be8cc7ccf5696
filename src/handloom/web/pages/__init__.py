"""The browser workbench: server-rendered pages (Jinja2 + htmx) and small widget scripts."""

from __future__ import annotations

from fastapi import APIRouter

from handloom.web.pages import auth, fairwork, manage, review, voice, worker
from handloom.web.pages import disclosure as disclosure_pages
from handloom.web.pages import exposure as exposure_pages
from handloom.web.pages import pay as pay_pages
from handloom.web.pages import report as report_pages

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
# Before review: /review/appeals would otherwise be read as the queue of a project "appeals".
router.include_router(voice.router)
router.include_router(worker.router)
router.include_router(manage.router)
router.include_router(review.router)
router.include_router(exposure_pages.router)
router.include_router(pay_pages.router)
router.include_router(fairwork.router)
router.include_router(disclosure_pages.router)
router.include_router(report_pages.router)
