"""Domain errors. Front doors turn these into exit codes (CLI) or JSON responses (API)."""

from __future__ import annotations


class HandloomError(Exception):
    """Base class: ``message`` says what was wrong and what to do about it."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.hint = hint

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"error": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        if self.hint:
            out["hint"] = self.hint
        return out


class Invalid(HandloomError):
    status = 422
    code = "invalid"


class NotFound(HandloomError):
    status = 404
    code = "not_found"


class Conflict(HandloomError):
    status = 409
    code = "conflict"


class Forbidden(HandloomError):
    status = 403
    code = "forbidden"


class Unauthorized(HandloomError):
    status = 401
    code = "unauthorized"


class ImportFailed(HandloomError):
    """An import was refused as a whole; nothing was stored."""

    status = 422
    code = "import_failed"

    def __init__(self, source: str, line: int | None, field: str | None, reason: str):
        where = f"{source}, line {line}" if line is not None else source
        what = f" field {field!r}:" if field else ""
        super().__init__(
            f"{where}:{what} {reason}. Nothing was imported; fix the file and import again.",
            field=field,
        )
        self.source = source
        self.line = line
        self.reason = reason

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out["source"] = self.source
        out["line"] = self.line
        out["reason"] = self.reason
        return out
