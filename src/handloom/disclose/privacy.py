"""Privacy by default: per-project worker pseudonyms and small-group suppression."""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(project_secret: str, worker_id: int) -> str:
    """A stable per-project pseudonym: HMAC-SHA256 of the worker id with the project's
    secret. The same worker has unrelated pseudonyms in two projects."""
    digest = hmac.new(project_secret.encode(), str(worker_id).encode(), hashlib.sha256)
    return "w_" + digest.hexdigest()[:16]
