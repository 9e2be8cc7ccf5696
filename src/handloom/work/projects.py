"""Projects: the spec (TOML or JSON), creation, versioned instructions and status."""

from __future__ import annotations

import hashlib
import json
import secrets
import tomllib
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Connection, func, select

from handloom import ledger
from handloom.disclose.statement import DisclosureSpec, disclosure_of
from handloom.errors import Conflict, Invalid, NotFound
from handloom.kinds.base import KindError, TaskKind, get_kind
from handloom.store import schema
from handloom.store.db import inserted_id, utcnow
from handloom.store.schema import assignments, instruction_versions, items, projects

DOWNSTREAM_USES = ("training", "evaluation", "safety_classifier", "moderation", "research", "other")
STATUSES = ("draft", "open", "paused", "closed")
# Rates are stored as 32-bit integers of minor units; no real rate comes near this.
MAX_MINOR_UNITS = 10**9
_ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW", "CLP", "VND", "ISK", "UGX", "XAF", "XOF"}


def to_minor_units(amount: str | int | float, currency: str) -> int:
    """Convert an amount in major units ("0.12") to integer minor units (12), exactly."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValueError(f"{amount!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{amount!r} is not a finite amount")
    exponent = 0 if currency.upper() in _ZERO_DECIMAL_CURRENCIES else 2
    minor = value.scaleb(exponent)
    if minor > MAX_MINOR_UNITS:
        raise ValueError(f"{amount} {currency} is larger than any rate Handloom accepts")
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} {currency} has more decimals than the currency allows")
    if minor < 0:
        raise ValueError("an amount of pay cannot be negative")
    return int(minor)


def from_minor_units(minor: int, currency: str) -> str:
    exponent = 0 if currency.upper() in _ZERO_DECIMAL_CURRENCIES else 2
    return str(Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent)))


class PaySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: Literal["piece", "hourly"] = "piece"
    currency: str = Field("USD", min_length=3, max_length=3)
    piece_rate: str | None = None
    # Piece rate by item difficulty ({"hard": "0.20"}); an item's ``difficulty`` picks one.
    piece_rates: dict[str, str] = {}
    hourly_rate: str | None = None
    est_seconds_per_item: int | None = Field(None, gt=0)
    jurisdictions: list[str] = []
    pay_qualification_time: bool = True
    pay_rejected_work: bool = True

    @field_validator("piece_rate", "hourly_rate", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return None if value is None else str(value)

    @field_validator("piece_rates", mode="before")
    @classmethod
    def _rates_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value


class ExposureLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    daily_items: int | None = Field(None, ge=0)
    daily_minutes: int | None = Field(None, ge=0)


class ExposureSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    blur_sensitive: bool = True
    # A break of break_minutes (no sensitive items) after this many sensitive items.
    break_after_sensitive: int | None = Field(None, gt=0)
    break_minutes: int = Field(15, ge=1, le=24 * 60)
    # After this many sensitive items in a row, serve a non-sensitive one if there is one.
    interleave_after: int | None = Field(None, gt=0)
    support_resources: str = ""
    limits: dict[str, ExposureLimit] = {}


class QualitySpec(BaseModel):
    """How answers are combined and checked (the ``[quality]`` table of a spec)."""

    model_config = ConfigDict(extra="forbid")

    # Truth-inference method for categorical kinds (see handloom.quality.aggregate).
    method: str = "ds"
    # An item whose aggregate confidence is below this goes to a reviewer.
    review_below: float = Field(0.9, ge=0.0, le=1.0)
    # Dynamic overlap: ask for one more answer while the answers disagree, up to this many.
    max_overlap: int | None = Field(None, ge=1, le=1000)
    # Qualification test: this many gold items, with feedback, before real work.
    qualification_size: int = Field(0, ge=0, le=1000)
    qualification_pass: float = Field(0.8, ge=0.0, le=1.0)

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        from handloom.quality.aggregate import METHODS

        if value not in METHODS:
            raise ValueError(f"must be one of {', '.join(METHODS)}")
        return value


class ProjectSpec(BaseModel):
    """Everything a project is created from. Keys other than these are the kind's own
    configuration (``labels``, ``criteria`` …) and are checked by the kind."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,119}$")
    kind: str
    title: str = ""
    purpose: str = ""
    downstream_use: str = "training"
    data_source: str = ""
    instructions: str = ""
    overlap: int = Field(3, ge=1, le=1000)
    gold_rate: float = Field(0.0, ge=0.0, le=1.0)
    lease_seconds: int | None = Field(None, ge=5, le=7 * 24 * 3600)
    priority: int = 0
    required_qualifications: list[str] = []
    content_categories: list[str] = []
    appeal_deadline_days: int = Field(7, ge=1, le=365)
    # A gold accuracy below this, after score_review_min_gold gold answers, opens a review
    # of the worker by a person (never an automatic removal).
    score_review_below: float | None = Field(None, ge=0.0, le=1.0)
    score_review_min_gold: int = Field(10, ge=1, le=100000)
    # Terms (pay, time, warnings, data use, retention, appeals) a worker consents to first.
    terms_required: bool = True
    data_retention: str = ""
    known_limitations: str = ""
    status: Literal["draft", "open"] = "open"
    pay: PaySpec = PaySpec()
    exposure: ExposureSpec = ExposureSpec()
    quality: QualitySpec = QualitySpec()
    # Stated, not measured: what reports and Croissant files show as the project's word.
    disclosure: DisclosureSpec = DisclosureSpec()

    @field_validator("downstream_use")
    @classmethod
    def _known_use(cls, value: str) -> str:
        if value not in DOWNSTREAM_USES:
            raise ValueError(f"must be one of {', '.join(DOWNSTREAM_USES)}")
        return value

    def kind_config(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def load_spec(path: Path) -> ProjectSpec:
    """Read a project spec from a TOML (or JSON) file, with errors that name the key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise Invalid(f"Cannot read project spec {path}: {exc.strerror}.") from exc
    try:
        raw = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        fmt = "JSON" if path.suffix == ".json" else "TOML"
        raise Invalid(f"{path}: not valid {fmt}: {exc}") from None
    return parse_spec(raw, source=str(path))


def parse_spec(raw: dict[str, Any], *, source: str = "project spec") -> ProjectSpec:
    try:
        spec = ProjectSpec.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise Invalid(f"{source}: {loc}: {err['msg']}", field=loc) from exc
    try:
        get_kind(spec.kind, spec.kind_config())
    except KindError as exc:
        field = exc.field or "kind"
        raise Invalid(f"{source}: {field}: {exc.reason}", field=field) from exc
    return spec


def create_project(conn: Connection, spec: ProjectSpec, *, actor: str = "system",
                   default_lease_seconds: int = 600, created_by: int | None = None) -> int:
    if conn.execute(select(projects.c.id).where(projects.c.name == spec.name)).first():
        raise Conflict(f"A project named {spec.name!r} already exists.", field="name")
    pay = spec.pay
    rates: dict[str, int | None] = {}
    for key in ("piece_rate", "hourly_rate"):
        amount = getattr(pay, key)
        try:
            rates[key] = to_minor_units(amount, pay.currency) if amount else None
        except ValueError as exc:
            raise Invalid(f"pay.{key}: {exc}", field=f"pay.{key}") from exc
    piece, hourly = rates["piece_rate"], rates["hourly_rate"]
    by_difficulty: dict[str, int] = {}
    for difficulty, amount in pay.piece_rates.items():
        try:
            by_difficulty[difficulty] = to_minor_units(amount, pay.currency)
        except ValueError as exc:
            raise Invalid(f"pay.piece_rates.{difficulty}: {exc}",
                          field=f"pay.piece_rates.{difficulty}") from exc
    quality = spec.quality
    if quality.max_overlap is not None and quality.max_overlap < spec.overlap:
        raise Invalid(f"quality.max_overlap ({quality.max_overlap}) is below overlap "
                      f"({spec.overlap}); it is the most answers an item may get.",
                      field="quality.max_overlap")
    unknown = set(spec.exposure.limits) - set(spec.content_categories)
    if unknown:
        raise Invalid(f"exposure.limits names categories not in content_categories: "
                      f"{', '.join(sorted(unknown))}.", field="exposure.limits")
    now = utcnow()
    project_id = int(inserted_id(conn.execute(
        projects.insert().values(
            name=spec.name, title=spec.title or spec.name, purpose=spec.purpose,
            downstream_use=spec.downstream_use, data_source=spec.data_source, kind=spec.kind,
            kind_config=spec.kind_config(), status=spec.status, overlap=spec.overlap,
            gold_rate=spec.gold_rate,
            lease_seconds=spec.lease_seconds or default_lease_seconds,
            priority=spec.priority, required_qualifications=spec.required_qualifications,
            aggregation_method=quality.method, review_threshold=quality.review_below,
            max_overlap=quality.max_overlap, qualification_size=quality.qualification_size,
            qualification_pass=quality.qualification_pass,
            pseudonym_secret=secrets.token_hex(32),
            pay_model=pay.model, currency=pay.currency.upper(), piece_rate_minor=piece,
            hourly_rate_minor=hourly, est_seconds_per_item=pay.est_seconds_per_item,
            piece_rates=by_difficulty or None,
            pay_qualification_time=pay.pay_qualification_time,
            pay_rejected_work=pay.pay_rejected_work,
            recruit_jurisdictions=pay.jurisdictions,
            content_categories=spec.content_categories,
            exposure_limits={k: v.model_dump(exclude_none=True)
                             for k, v in spec.exposure.limits.items()},
            break_after_sensitive=spec.exposure.break_after_sensitive,
            break_minutes=spec.exposure.break_minutes,
            interleave_after=spec.exposure.interleave_after,
            score_review_below=spec.score_review_below,
            score_review_min_gold=spec.score_review_min_gold,
            terms_required=spec.terms_required,
            blur_sensitive=spec.exposure.blur_sensitive,
            support_resources=spec.exposure.support_resources,
            appeal_deadline_days=spec.appeal_deadline_days, data_retention=spec.data_retention,
            known_limitations=spec.known_limitations, disclosure=spec.disclosure.model_dump(),
            created_at=now,
            opened_at=now if spec.status == "open" else None,
        )
    )))
    body = spec.model_dump(mode="json")
    created: dict[str, Any] = {"project": project_id, "spec": body}
    if spec.status == "open":
        # A project created open must meet the pay floors (fair-work layer), as opening does.
        from handloom.labor import pay as pay_rules

        check = pay_rules.require_open_allowed(conn, get_project(conn, project_id))
        created["floor_check"] = pay_rules.check_record(check)
    ledger.append(conn, "project.created", actor=actor, project_id=project_id, body=created)
    add_instruction_version(conn, project_id, spec.instructions, change_note="first version",
                            actor=actor, created_by=created_by)
    return project_id


def add_instruction_version(conn: Connection, project_id: int, text: str, *, change_note: str = "",
                            answers_issues: list[int] | None = None, actor: str = "system",
                            created_by: int | None = None) -> int:
    """Publish a new instruction version. *answers_issues* lists the project's guideline
    flags it answers: they are checked to belong to the project and marked answered in this
    version."""
    from handloom.labor import guidelines  # the labor layer builds on projects

    answers_issues = guidelines.check_issue_ids(conn, project_id, answers_issues or [])
    current = conn.execute(
        select(func.max(instruction_versions.c.version))
        .where(instruction_versions.c.project_id == project_id)
    ).scalar()
    version = (current or 0) + 1
    conn.execute(projects.update().where(projects.c.id == project_id)
                 .values(instruction_version=version))
    conn.execute(instruction_versions.insert().values(
        project_id=project_id, version=version, text=text, change_note=change_note,
        answers_issues=answers_issues or [], created_by=created_by, created_at=utcnow()))
    ledger.append(conn, "instructions.versioned", actor=actor, project_id=project_id,
                  body={"project": project_id, "version": version, "change_note": change_note,
                        "answers_issues": answers_issues or [],
                        "text_sha256": hashlib.sha256(text.encode()).hexdigest()})
    guidelines.answered_by_version(conn, project_id, answers_issues, version)
    return version


def current_instructions(conn: Connection, project_id: int) -> dict[str, Any]:
    row = conn.execute(
        select(instruction_versions).where(instruction_versions.c.project_id == project_id)
        .order_by(instruction_versions.c.version.desc()).limit(1)
    ).first()
    if row is None:
        return {"version": 0, "text": "", "created_at": None}
    return {"version": row.version, "text": row.text, "change_note": row.change_note,
            "created_at": row.created_at}


def get_project(conn: Connection, name_or_id: str | int) -> Any:
    """The project row, by name or id; NotFound names the projects that do exist."""
    cond = (projects.c.id == name_or_id) if isinstance(name_or_id, int) else (
        projects.c.name == name_or_id)
    row = conn.execute(select(projects).where(cond)).first()
    if row is None:
        names = conn.execute(select(projects.c.name).order_by(projects.c.name)).scalars().all()
        known = f" Known projects: {', '.join(names)}." if names else " There are no projects yet."
        raise NotFound(f"No project {name_or_id!r}.{known}")
    return row


def kind_of(project: Any) -> TaskKind:
    """The configured task kind of a project (instances are cached: they are immutable)."""
    return _cached_kind(project.kind, json.dumps(project.kind_config, sort_keys=True))


@lru_cache(maxsize=256)
def _cached_kind(name: str, config_json: str) -> TaskKind:
    return get_kind(name, json.loads(config_json))


def set_status(conn: Connection, project_id: int, status: str, *, actor: str = "system") -> None:
    if status not in STATUSES:
        raise Invalid(f"Unknown status {status!r}; choose one of {', '.join(STATUSES)}.")
    values: dict[str, Any] = {"status": status}
    body: dict[str, Any] = {"project": project_id, "status": status}
    if status == "open":
        values["opened_at"] = utcnow()
        # Refused (Conflict, with the numbers) while the estimated pay is below a floor.
        from handloom.labor import pay as pay_rules

        check = pay_rules.require_open_allowed(conn, get_project(conn, project_id))
        body["floor_check"] = pay_rules.check_record(check)
    changed = conn.execute(projects.update().where(projects.c.id == project_id).values(**values))
    if changed.rowcount == 0:
        raise NotFound(f"No project with id {project_id}.")
    ledger.append(conn, "project.status_changed", actor=actor, project_id=project_id,
                  body=body)


def project_summary(conn: Connection, project: Any) -> dict[str, Any]:
    """Counts a manager reads first: items, answers, done, in progress, waiting."""
    pid = project.id
    n_items = conn.execute(select(func.count()).select_from(items).where(
        items.c.project_id == pid, items.c.is_gold.is_(False))).scalar_one()
    n_gold = conn.execute(select(func.count()).select_from(items).where(
        items.c.project_id == pid, items.c.is_gold.is_(True))).scalar_one()
    done = conn.execute(select(func.count()).select_from(items).where(
        items.c.project_id == pid, items.c.is_gold.is_(False),
        items.c.answers >= project.overlap)).scalar_one()
    started = conn.execute(select(func.count()).select_from(items).where(
        items.c.project_id == pid, items.c.is_gold.is_(False),
        items.c.answers < project.overlap, (items.c.answers + items.c.leased) > 0)).scalar_one()
    n_answers = conn.execute(select(func.count()).select_from(schema.annotations).where(
        schema.annotations.c.project_id == pid)).scalar_one()
    leased = conn.execute(select(func.count()).select_from(assignments).where(
        assignments.c.project_id == pid, assignments.c.status == "leased")).scalar_one()
    workers_active = conn.execute(select(func.count(func.distinct(schema.annotations.c.worker_id)))
                                  .where(schema.annotations.c.project_id == pid)).scalar_one()
    return {
        "name": project.name, "title": project.title, "kind": project.kind,
        "status": project.status, "overlap": project.overlap, "items": n_items,
        "gold_items": n_gold, "done": done, "in_progress": started,
        "waiting": n_items - done - started, "answers": n_answers, "leased": leased,
        "workers": workers_active,
    }


def list_projects(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(projects).order_by(projects.c.id)).all()
    return [project_summary(conn, r) for r in rows]


def describe_project(conn: Connection, project: Any) -> dict[str, Any]:
    """The full, public description of a project (never its pseudonym secret)."""
    instr = current_instructions(conn, project.id)
    out = project_summary(conn, project)
    out.update({
        "id": project.id, "purpose": project.purpose, "downstream_use": project.downstream_use,
        "data_source": project.data_source, "kind_config": project.kind_config,
        "gold_rate": project.gold_rate, "lease_seconds": project.lease_seconds,
        "priority": project.priority, "required_qualifications": project.required_qualifications,
        "content_categories": project.content_categories,
        "instructions_version": instr["version"], "instructions": instr["text"],
        "pay": {"model": project.pay_model, "currency": project.currency,
                "piece_rate": (from_minor_units(project.piece_rate_minor, project.currency)
                               if project.piece_rate_minor is not None else None),
                "hourly_rate": (from_minor_units(project.hourly_rate_minor, project.currency)
                                if project.hourly_rate_minor is not None else None),
                "piece_rates": {k: from_minor_units(v, project.currency)
                                for k, v in (project.piece_rates or {}).items()},
                "est_seconds_per_item": project.est_seconds_per_item,
                "jurisdictions": project.recruit_jurisdictions,
                "pay_qualification_time": project.pay_qualification_time,
                "pay_rejected_work": project.pay_rejected_work},
        "exposure": {"blur_sensitive": project.blur_sensitive,
                     "break_after_sensitive": project.break_after_sensitive,
                     "break_minutes": project.break_minutes,
                     "interleave_after": project.interleave_after,
                     "limits": project.exposure_limits,
                     "support_resources": project.support_resources},
        "appeal_deadline_days": project.appeal_deadline_days,
        "score_review_below": project.score_review_below,
        "score_review_min_gold": project.score_review_min_gold,
        "terms_required": project.terms_required,
        "data_retention": project.data_retention,
        "known_limitations": project.known_limitations,
        "disclosure": disclosure_of(project).model_dump(),
        "quality": {"method": project.aggregation_method,
                    "review_below": project.review_threshold,
                    "max_overlap": project.max_overlap,
                    "qualification_size": project.qualification_size,
                    "qualification_pass": project.qualification_pass},
    })
    return out
