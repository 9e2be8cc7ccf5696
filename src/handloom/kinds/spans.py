"""Span labelling: mark character ranges of a text with labels (named entities, evidence,
errors …). Answers are compared with span F1 and combined by per-span majority."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from handloom.kinds._common import check_distinct, check_nonblank, mean
from handloom.kinds.base import Aggregate, KindError, TaskKind, register

SpanKey = tuple[int, int, str]


class SpansConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: list[str] = Field(min_length=1)
    allow_overlap: bool = False


class SpansPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    text: str


class Span(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    start: StrictInt
    end: StrictInt
    label: str


class SpansAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    spans: list[Span]


def _key(span: Mapping[str, Any]) -> SpanKey:
    return (int(span["start"]), int(span["end"]), str(span["label"]))


def span_f1(
    a: Sequence[Mapping[str, Any]],
    b: Sequence[Mapping[str, Any]],
    mode: Literal["exact", "overlap"] = "exact",
) -> float:
    """F1 of spans *b* (predicted) against spans *a* (reference); symmetric in a and b.

    Spans are mappings with ``start``, ``end`` (exclusive) and ``label``. In ``exact`` mode a
    span matches only an identical span; in ``overlap`` mode it matches any span of the other
    side with the same label whose character range overlaps it. 1.0 when both are empty.
    """
    ka, kb = {_key(s) for s in a}, {_key(s) for s in b}
    if not ka and not kb:
        return 1.0
    if not ka or not kb:
        return 0.0
    if mode == "exact":
        return 2 * len(ka & kb) / (len(ka) + len(kb))
    if mode != "overlap":
        raise ValueError(f"mode must be 'exact' or 'overlap', not {mode!r}")

    def hits(xs: set[SpanKey], ys: set[SpanKey]) -> int:
        return sum(any(x[2] == y[2] and x[0] < y[1] and y[0] < x[1] for y in ys) for x in xs)

    precision = hits(kb, ka) / len(kb)
    recall = hits(ka, kb) / len(ka)
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


@register
class Spans(TaskKind):
    name = "spans"
    title = "Span labelling"
    widget = "spans"
    config_model = SpansConfig
    payload_model = SpansPayload
    answer_model = SpansAnswer
    config: SpansConfig

    def __init__(self, config: dict[str, Any] | None = None):
        super().__init__(config)
        check_nonblank(self.config.labels, "labels")
        check_distinct(self.config.labels, "labels", "label")

    def validate_answer(
        self, answer: dict[str, Any], payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """As the base class, then sort the spans by (start, end, label)."""
        result = super().validate_answer(answer, payload)
        result["spans"] = sorted(result["spans"], key=_key)
        return result

    def check_answer(self, answer: Any, payload: dict[str, Any]) -> None:
        text = payload.get("text")
        seen: dict[SpanKey, int] = {}
        for i, span in enumerate(answer.spans):
            where = f"answer.spans.{i}"
            if span.start < 0:
                raise KindError(f"{where}.start", "must be 0 or more")
            if span.end <= span.start:
                raise KindError(f"{where}.end", f"must be greater than start ({span.start})")
            if isinstance(text, str) and span.end > len(text):
                raise KindError(f"{where}.end", f"is past the end of the text ({len(text)})")
            if span.label not in self.config.labels:
                known = self.config.labels
                raise KindError(f"{where}.label", f"{span.label!r} is not one of {known}")
            key = (span.start, span.end, span.label)
            if key in seen:
                raise KindError(where, f"duplicates span {seen[key]}")
            seen[key] = i
        if self.config.allow_overlap:
            return
        spans: list[Span] = answer.spans
        by_start = sorted(range(len(spans)), key=lambda k: (spans[k].start, spans[k].end, k))
        reach = -1  # of the spans seen so far, the one ending furthest right
        for i in by_start:
            if reach >= 0 and spans[i].start < spans[reach].end:
                raise KindError(f"answer.spans.{i}", f"overlaps span {reach}")
            if reach < 0 or spans[i].end > spans[reach].end:
                reach = i

    def answer_key(self, answer: dict[str, Any]) -> Hashable:
        return tuple(sorted(_key(s) for s in answer.get("spans", [])))

    def agreement(self, a: dict[str, Any], b: dict[str, Any]) -> float:
        return span_f1(a.get("spans", []), b.get("spans", []), "exact")

    def aggregate(self, answers: Sequence[dict[str, Any]]) -> Aggregate:
        """Keep each span (exact start, end and label) chosen by more than half of the answers.
        Confidence is the mean, over every span any answer chose, of max(share, 1 - share)."""
        if not answers:
            return Aggregate(answer=None, confidence=0.0, n_answers=0)
        n = len(answers)
        votes = Counter(k for a in answers for k in {_key(s) for s in a.get("spans", [])})
        kept = sorted(k for k, c in votes.items() if 2 * c > n)
        confidence = mean(max(c / n, 1 - c / n) for c in votes.values())
        result = {"spans": [{"start": s, "end": e, "label": lab} for s, e, lab in kept]}
        return Aggregate(answer=result, confidence=confidence, n_answers=n)

    def summarize(self, answer: dict[str, Any]) -> str:
        spans = sorted(_key(s) for s in answer.get("spans", []))
        return ", ".join(f"{lab}[{s}:{e}]" for s, e, lab in spans) or "(none)"
