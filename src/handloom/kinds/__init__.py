"""Task kinds: one module per kind, registered by name (see :mod:`handloom.kinds.base`)."""

from __future__ import annotations

from handloom.kinds import (
    classification,
    freetext,
    moderation,
    pairwise,
    ranking,
    rating,
    redteam,
    spans,
)

BUILTIN_MODULES = (
    classification,
    pairwise,
    ranking,
    rating,
    freetext,
    spans,
    moderation,
    redteam,
)
