"""The contract every task kind implements, and the registry that finds kinds by name.

A task kind is one module: a project-level configuration model (labels, criteria …), the item
payload model, the answer model, validation with precise errors, pairwise agreement between
two answers, aggregation of several answers into one with a confidence, and the name of its
browser widget. Kinds know nothing about the database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError


class KindError(ValueError):
    """An item payload, answer or kind configuration is invalid.

    ``field`` is the dotted path of the offending field ("" for the whole object) and
    ``reason`` says what is wrong in words a person can act on.
    """

    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


def raise_from_validation(exc: ValidationError, prefix: str = "") -> KindError:
    """Turn the first Pydantic error into a :class:`KindError` naming the field."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    field = f"{prefix}.{loc}" if prefix and loc else (prefix or loc)
    return KindError(field, err["msg"])


class Aggregate(BaseModel):
    """Several answers combined into one, with the share of support behind it."""

    answer: dict[str, Any] | None
    confidence: float
    n_answers: int
    method: str = "majority"


class TaskKind:
    """Base class of task kinds. Subclasses set the class attributes and override hooks."""

    name: ClassVar[str]
    title: ClassVar[str]
    widget: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    payload_model: ClassVar[type[BaseModel]]
    answer_model: ClassVar[type[BaseModel]]

    def __init__(self, config: dict[str, Any] | None = None):
        try:
            self.config = self.config_model.model_validate(config or {})
        except ValidationError as exc:
            raise raise_from_validation(exc) from exc

    # ------------------------------------------------------------ validation
    def validate_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Check an item payload; return it normalised (unknown extra fields are kept)."""
        try:
            model = self.payload_model.model_validate(payload)
        except ValidationError as exc:
            raise raise_from_validation(exc) from exc
        self.check_payload(model)
        return {**payload, **model.model_dump(exclude_none=True)}

    def validate_answer(
        self, answer: dict[str, Any], payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Check an answer against the schema, the project configuration and the item."""
        if not isinstance(answer, dict):
            raise KindError("answer", "must be a JSON object")
        try:
            model = self.answer_model.model_validate(answer)
        except ValidationError as exc:
            raise raise_from_validation(exc, "answer") from exc
        self.check_answer(model, payload or {})
        return model.model_dump(exclude_none=True)

    def coerce_gold(self, value: Any) -> dict[str, Any]:
        """Turn a gold (reference) answer as written in an import file into a valid answer.

        The default accepts an answer object and checks it with :meth:`validate_answer`
        (without an item, so checks that need the item's payload are skipped); kinds
        override this to accept shorthands such as a bare label.
        """
        if not isinstance(value, dict):
            raise KindError("gold", f"must be an answer object, not {type(value).__name__}")
        try:
            return self.validate_answer(value)
        except KindError as exc:
            raise KindError("gold", f"not a valid answer ({exc})") from exc

    def check_payload(self, payload: Any) -> None:
        """Rules beyond the payload schema (override)."""

    def check_answer(self, answer: Any, payload: dict[str, Any]) -> None:
        """Rules beyond the answer schema, e.g. labels from the configuration (override)."""

    # ------------------------------------------------------------ comparison
    def answer_key(self, answer: dict[str, Any]) -> Hashable:
        """A hashable form of an answer; equal keys mean identical answers."""
        return _freeze(answer)

    def agreement(self, a: dict[str, Any], b: dict[str, Any]) -> float:
        """Agreement of two answers to the same item, from 0 (none) to 1 (identical)."""
        return 1.0 if self.answer_key(a) == self.answer_key(b) else 0.0

    def aggregate(self, answers: Sequence[dict[str, Any]]) -> Aggregate:
        """Combine answers by majority; ties go to the smallest key, so results repeat."""
        if not answers:
            return Aggregate(answer=None, confidence=0.0, n_answers=0)
        counts = Counter(self.answer_key(a) for a in answers)
        best = max(counts.values())
        winners = sorted((k for k, c in counts.items() if c == best), key=repr)
        winner = winners[0]
        chosen = next(a for a in answers if self.answer_key(a) == winner)
        return Aggregate(answer=chosen, confidence=best / len(answers), n_answers=len(answers))

    def categorical_label(self, answer: dict[str, Any]) -> str | None:
        """The single categorical label of an answer, for agreement metrics; None if the
        kind has no such label."""
        return None

    def summarize(self, answer: dict[str, Any]) -> str:
        """A one-line, human-readable form of an answer for tables and review queues."""
        return ", ".join(f"{k}={v}" for k, v in sorted(answer.items()))

    def describe(self) -> dict[str, Any]:
        """What a client needs to render the widget: name, widget and configuration."""
        return {"kind": self.name, "widget": self.widget, "config": self.config.model_dump()}


def _freeze(value: Any) -> Hashable:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value  # type: ignore[no-any-return]


_REGISTRY: dict[str, type[TaskKind]] = {}


def register(kind: type[TaskKind]) -> type[TaskKind]:
    """Class decorator adding a kind to the registry under its ``name``."""
    _REGISTRY[kind.name] = kind
    return kind


def kind_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def kind_catalog() -> list[dict[str, str]]:
    """Name, title and widget of every registered kind."""
    _load_builtin()
    return [{"name": n, "title": _REGISTRY[n].title, "widget": _REGISTRY[n].widget}
            for n in sorted(_REGISTRY)]


def get_kind(name: str, config: dict[str, Any] | None = None) -> TaskKind:
    """An instance of the kind *name* configured with *config*."""
    _load_builtin()
    try:
        cls = _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KindError("kind", f"unknown task kind {name!r}; known: {known}") from None
    return cls(config)


def _load_builtin() -> None:
    if _REGISTRY:
        return
    from handloom.kinds import BUILTIN_MODULES  # noqa: F401  (importing registers them)
