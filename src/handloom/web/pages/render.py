"""Template rendering: Jinja2 with autoescaping everywhere, and safe Markdown for
instructions (raw HTML in Markdown is escaped, never passed through)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.responses import HTMLResponse

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def markdown(text: str | None) -> Markup:
    """Render Markdown to HTML with raw HTML disabled (it is shown as text)."""
    return Markup(_markdown.render(text or ""))  # noqa: S704 - markdown-it escapes raw HTML


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters["markdown"] = markdown
templates.env.autoescape = True


def page(name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(context["request"], name, context, status_code=status_code)
