"""Tables of the Handloom store (SQLAlchemy 2 Core metadata shared by SQLite and PostgreSQL).

The labor layer (time, pay, exposure, consent, appeals, guideline issues) has its tables here
from the first migration, even where enforcement arrives later, so that no record of work is
ever lost for want of a column. Money is always an integer in minor units (cents).
"""


from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# BigInteger primary keys autoincrement on PostgreSQL; SQLite needs plain INTEGER for rowid.
PK = BigInteger().with_variant(Integer(), "sqlite")


# Nullable JSON columns store SQL NULL (not the JSON text 'null') when the value is None.
JSON_OR_NULL = JSON(none_as_null=True)


def _ts(name: str, nullable: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


workspace_meta = Table(
    "workspace_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("username", String(120), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("role", String(20), nullable=False),  # owner | manager | reviewer | worker | auditor
    Column("password_hash", Text, nullable=True),
    Column("worker_id", ForeignKey("workers.id"), nullable=True, unique=True),
    Column("active", Boolean, nullable=False, default=True),
    _ts("created_at"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("name", String(120), nullable=False, default=""),
    _ts("created_at"),
    _ts("revoked_at", nullable=True),
)

vendors = Table(
    "vendors",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("parent_id", ForeignKey("vendors.id"), nullable=True),
    Column("country", String(8), nullable=True),
    _ts("created_at"),
)

workers = Table(
    "workers",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    # The identifier the operator knows the worker by; never exported (exports use per-project
    # HMAC pseudonyms).
    Column("ref", String(200), nullable=False, unique=True),
    Column("role_class", String(20), nullable=False),
    Column("jurisdiction", String(16), nullable=True),
    Column("vendor_id", ForeignKey("vendors.id"), nullable=True),
    Column("qualifications", JSON, nullable=False, default=list),
    Column("opt_outs", JSON, nullable=False, default=list),  # content categories refused
    # Self-reported, and only when the worker chose to give it.
    Column("demographics", JSON_OR_NULL, nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    # IANA zone the worker's day is counted in (exposure limits reset at local midnight).
    Column("timezone", String(64), nullable=True),
    _ts("created_at"),
)

projects = Table(
    "projects",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("title", String(300), nullable=False, default=""),
    Column("purpose", Text, nullable=False, default=""),
    Column("downstream_use", String(40), nullable=False, default="training"),
    Column("data_source", Text, nullable=False, default=""),
    Column("kind", String(40), nullable=False),
    Column("kind_config", JSON, nullable=False, default=dict),  # labels, criteria, scale …
    Column("status", String(20), nullable=False, default="open"),  # draft|open|paused|closed
    Column("overlap", Integer, nullable=False, default=3),
    Column("gold_rate", Float, nullable=False, default=0.0),
    Column("lease_seconds", Integer, nullable=False, default=600),
    Column("priority", Integer, nullable=False, default=0),
    Column("required_qualifications", JSON, nullable=False, default=list),
    # Quality: how answers are combined, when an item goes to a reviewer, dynamic overlap and
    # the qualification test (migration 0002).
    Column("aggregation_method", String(20), nullable=False, default="ds", server_default="ds"),
    Column("review_threshold", Float, nullable=False, default=0.9, server_default="0.9"),
    Column("max_overlap", Integer, nullable=True),  # None: overlap is fixed
    Column("qualification_size", Integer, nullable=False, default=0, server_default="0"),
    Column("qualification_pass", Float, nullable=False, default=0.8, server_default="0.8"),
    # Current instruction version, kept with the project so routing reads it with the project.
    Column("instruction_version", Integer, nullable=False, default=0),
    Column("pseudonym_secret", String(64), nullable=False),
    # Pay policy (enforced by the fair-work layer).
    Column("pay_model", String(10), nullable=False, default="piece"),  # piece | hourly
    Column("currency", String(3), nullable=False, default="USD"),
    Column("piece_rate_minor", Integer, nullable=True),
    Column("hourly_rate_minor", Integer, nullable=True),
    Column("est_seconds_per_item", Integer, nullable=True),
    Column("pay_qualification_time", Boolean, nullable=False, default=True),
    Column("pay_rejected_work", Boolean, nullable=False, default=True),
    Column("recruit_jurisdictions", JSON, nullable=False, default=list),
    # Piece rate per item difficulty, minor units ({"hard": 25}); items without a listed
    # difficulty are paid piece_rate_minor (migration 0003).
    Column("piece_rates", JSON_OR_NULL, nullable=True),
    # Exposure policy.
    Column("content_categories", JSON, nullable=False, default=list),
    Column("exposure_limits", JSON, nullable=False, default=dict),  # category -> limits
    Column("break_after_sensitive", Integer, nullable=True),
    # How long a forced break lasts, and after how many sensitive items in a row a
    # non-sensitive one is served when the project has one (migration 0003).
    Column("break_minutes", Integer, nullable=False, default=15, server_default="15"),
    Column("interleave_after", Integer, nullable=True),
    Column("blur_sensitive", Boolean, nullable=False, default=True),
    Column("support_resources", Text, nullable=False, default=""),
    # Voice, appeals and terms.
    Column("appeal_deadline_days", Integer, nullable=False, default=7),
    # Workers must consent to the project's terms (pay, time, warnings, data use, retention,
    # appeals) before routing gives them work (migration 0003).
    Column("terms_required", Boolean, nullable=False, default=True, server_default="1"),
    # A gold accuracy below this (after at least score_review_min_gold gold answers) opens a
    # review of the worker by a person; nothing removes a worker automatically.
    Column("score_review_below", Float, nullable=True),
    Column("score_review_min_gold", Integer, nullable=False, default=10, server_default="10"),
    Column("data_retention", Text, nullable=False, default=""),
    Column("known_limitations", Text, nullable=False, default=""),
    # What only a person can know, stated by the project for its disclosure records
    # (assumptions, data collection, biases, social impact, maintenance, licence …) and the
    # report's k; see disclose/statement.py (migration 0004).
    Column("disclosure", JSON_OR_NULL, nullable=True),
    _ts("created_at"),
    _ts("opened_at", nullable=True),
)

instruction_versions = Table(
    "instruction_versions",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("change_note", Text, nullable=False, default=""),
    Column("answers_issues", JSON, nullable=False, default=list),  # guideline issue ids
    Column("created_by", ForeignKey("users.id"), nullable=True),
    _ts("created_at"),
    UniqueConstraint("project_id", "version", name="uq_instruction_versions_project_version"),
)

items = Table(
    "items",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False),
    Column("external_id", String(300), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("sensitivity", JSON, nullable=False, default=list),  # content category tags
    Column("gold_answer", JSON_OR_NULL, nullable=True),
    Column("is_gold", Boolean, nullable=False, default=False),
    Column("priority", Integer, nullable=False, default=0),
    # Counters kept in the routing transaction so that "room left" is one indexed read.
    Column("answers", Integer, nullable=False, default=0),
    Column("leased", Integer, nullable=False, default=0),
    # True once answers + leased reach the overlap: routing scans only items with room.
    Column("full", Boolean, nullable=False, default=False),
    Column("final_answer", JSON_OR_NULL, nullable=True),  # set by adjudication
    Column("difficulty", String(40), nullable=True),  # selects a piece rate (migration 0003)
    # Gold items reserved for the qualification test (never served as ordinary gold).
    Column("is_qualification", Boolean, nullable=False, default=False, server_default="0"),
    # Answers asked for beyond the project's overlap by dynamic overlap.
    Column("extra_answers", Integer, nullable=False, default=0, server_default="0"),
    # The latest aggregate: answer, posterior confidence and the method that produced it.
    Column("agg_answer", JSON_OR_NULL, nullable=True),
    Column("agg_confidence", Float, nullable=True),
    Column("agg_method", String(20), nullable=True),
    # Waiting for a reviewer: low_confidence | gold_failed (None once no longer waiting).
    Column("review_reason", String(20), nullable=True),
    _ts("created_at"),
    UniqueConstraint("project_id", "external_id", name="uq_items_project_external_id"),
)
Index("ix_items_review", items.c.project_id, items.c.review_reason, items.c.id)
Index(
    "ix_items_routing",
    items.c.project_id, items.c.is_gold, items.c.full, items.c.priority.desc(), items.c.id,
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("worker_id", ForeignKey("workers.id"), nullable=False),
    # leased | submitted | skipped | released | expired
    Column("status", String(12), nullable=False),
    Column("is_gold", Boolean, nullable=False, default=False),
    Column("instruction_version", Integer, nullable=False),
    _ts("leased_at"),
    _ts("expires_at"),
    _ts("closed_at", nullable=True),
    Column("skip_reason", Text, nullable=True),
    # One assignment per worker and item, ever: the database itself forbids a second answer.
    UniqueConstraint("item_id", "worker_id", name="uq_assignments_item_worker"),
)
Index("ix_assignments_open",
      assignments.c.project_id, assignments.c.status, assignments.c.expires_at)
Index("ix_assignments_worker",
      assignments.c.worker_id, assignments.c.project_id, assignments.c.status)

annotations = Table(
    "annotations",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False, index=True),
    Column("item_id", ForeignKey("items.id"), nullable=False, index=True),
    Column("worker_id", ForeignKey("workers.id"), nullable=False),
    Column("assignment_id", ForeignKey("assignments.id"), nullable=False, unique=True),
    Column("answer", JSON, nullable=False),
    Column("instruction_version", Integer, nullable=False),
    _ts("served_at"),
    _ts("submitted_at"),
    Column("active_seconds", Float, nullable=True),  # reported by the client's heartbeats
    Column("idempotency_key", String(200), nullable=False),
    Column("suggestion", JSON_OR_NULL, nullable=True),  # the model suggestion shown, if any
    Column("client_meta", JSON, nullable=False, default=dict),
    Column("is_gold", Boolean, nullable=False, default=False),
    Column("gold_correct", Boolean, nullable=True),
    # accepted | rejected | overturned  (review outcome of this answer)
    Column("review_status", String(12), nullable=False, default="accepted"),
    # Who rejected (or restored) the answer, why (shown to the worker), and whether the
    # reviewer confirmed fraud, the one case in which rejected work goes unpaid by default.
    Column("reviewed_by", ForeignKey("users.id"), nullable=True),
    Column("review_note", Text, nullable=True),
    Column("fraud", Boolean, nullable=False, default=False, server_default="0"),
    _ts("reviewed_at", nullable=True),
    UniqueConstraint("worker_id", "idempotency_key", name="uq_annotations_worker_key"),
    UniqueConstraint("item_id", "worker_id", name="uq_annotations_item_worker"),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False, index=True),
    Column("item_id", ForeignKey("items.id"), nullable=False, index=True),
    Column("reviewer_id", ForeignKey("users.id"), nullable=False),
    Column("final_answer", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    _ts("created_at"),
)

worker_scores = Table(
    "worker_scores",
    metadata,
    # How a worker is judged in a project; shown to the worker. Gold figures are kept up to
    # date at each gold answer; agreement and skill at each aggregation run.
    Column("project_id", ForeignKey("projects.id"), primary_key=True),
    Column("worker_id", ForeignKey("workers.id"), primary_key=True),
    Column("gold_answered", Integer, nullable=False, default=0),
    Column("gold_correct", Integer, nullable=False, default=0),
    Column("agreement", Float, nullable=True),  # share of answers equal to the aggregate
    Column("agreement_n", Integer, nullable=False, default=0),
    Column("skill", Float, nullable=True),  # the aggregation method's estimate of accuracy
    Column("method", String(20), nullable=True),
    _ts("updated_at"),
)

qualification_results = Table(
    "qualification_results",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False),
    Column("worker_id", ForeignKey("workers.id"), nullable=False),
    Column("answered", Integer, nullable=False),
    Column("correct", Integer, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("pass_mark", Float, nullable=False),
    _ts("completed_at"),
    UniqueConstraint("project_id", "worker_id", name="uq_qualification_results_project_worker"),
)

# ---------------------------------------------------------------- labor layer
pay_floors = Table(
    "pay_floors",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("jurisdiction", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("hourly_minor", Integer, nullable=False),
    Column("source", Text, nullable=False),
    Column("effective_date", String(10), nullable=False),
    Column("note", Text, nullable=True),
    # True for the shipped example values: fine for trying Handloom, never for payroll.
    Column("is_example", Boolean, nullable=False, default=False, server_default="0"),
    _ts("imported_at"),
    # A jurisdiction may state its floor in several currencies (a project pays in one).
    UniqueConstraint("jurisdiction", "currency", "effective_date",
                     name="uq_pay_floors_jurisdiction_currency_date"),
)

time_entries = Table(
    "time_entries",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False, index=True),
    Column("worker_id", ForeignKey("workers.id"), nullable=False, index=True),
    # annotation | instructions | qualification | skipped | rejected | appeal | wellbeing
    Column("reason", String(20), nullable=False),
    Column("seconds", Float, nullable=False),
    Column("ref_id", BigInteger, nullable=True),  # annotation / assignment / appeal it belongs to
    _ts("recorded_at"),
)

pay_events = Table(
    "pay_events",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False, index=True),
    Column("worker_id", ForeignKey("workers.id"), nullable=False, index=True),
    # piece | hourly | top_up | restored | clawback
    Column("kind", String(12), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("annotation_id", ForeignKey("annotations.id"), nullable=True),
    Column("time_entry_id", ForeignKey("time_entries.id"), nullable=True),
    Column("appeal_id", ForeignKey("appeals.id"), nullable=True),
    Column("reason", Text, nullable=False, default=""),
    Column("approved_by", ForeignKey("users.id"), nullable=True),
    _ts("created_at"),
    _ts("paid_at", nullable=True),
)

exposure_events = Table(
    "exposure_events",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False),
    Column("worker_id", ForeignKey("workers.id"), nullable=False),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("category", String(40), nullable=False),
    Column("seconds", Float, nullable=False, default=0.0),
    _ts("at"),
)
# Reports and the manager's summary read a project's exposure (migration 0004).
Index("ix_exposure_events_project_id", exposure_events.c.project_id)
Index("ix_exposure_worker_day",
      exposure_events.c.worker_id, exposure_events.c.category, exposure_events.c.at)

consents = Table(
    "consents",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False),
    Column("worker_id", ForeignKey("workers.id"), nullable=False),
    Column("terms_hash", String(64), nullable=False),
    Column("terms", JSON_OR_NULL, nullable=True),  # what the worker was shown (0003)
    _ts("given_at"),
    _ts("withdrawn_at", nullable=True),
)
Index("ix_consents_project_worker", consents.c.project_id, consents.c.worker_id)

appeals = Table(
    "appeals",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False, index=True),
    Column("worker_id", ForeignKey("workers.id"), nullable=False, index=True),
    # rejection | gold_failure | score | removal
    Column("subject_type", String(20), nullable=False),
    Column("subject_id", BigInteger, nullable=True),
    Column("statement", Text, nullable=False),  # private: never in reports or exports
    Column("status", String(12), nullable=False, default="open"),  # open | upheld | denied
    Column("contested_by", ForeignKey("users.id"), nullable=True),  # who made the decision
    Column("decided_by", ForeignKey("users.id"), nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("restored", JSON_OR_NULL, nullable=True),  # what an upheld appeal gave back
    _ts("created_at"),
    _ts("due_at"),
    _ts("decided_at", nullable=True),
)

guideline_issues = Table(
    "guideline_issues",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False, index=True),
    Column("worker_id", ForeignKey("workers.id"), nullable=True),
    Column("item_id", ForeignKey("items.id"), nullable=True),
    Column("kind", String(20), nullable=False),  # unclear | out_of_scope
    Column("note", Text, nullable=False),
    Column("instruction_version", Integer, nullable=False),
    Column("supporters", Integer, nullable=False, default=1),
    Column("status", String(12), nullable=False, default="open"),  # open | answered
    Column("answer", Text, nullable=True),
    Column("resolved_in_version", Integer, nullable=True),
    _ts("created_at"),
)

wellbeing_checkins = Table(
    "wellbeing_checkins",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False),
    Column("worker_id", ForeignKey("workers.id"), nullable=False),
    Column("answers", JSON, nullable=False),  # private to the worker
    Column("shared", Boolean, nullable=False, default=False),
    Column("trigger", String(20), nullable=False, default="session", server_default="session"),
    _ts("created_at"),
)

worker_reviews = Table(
    "worker_reviews",
    metadata,
    # A person's review of a worker's place in a project: opened by a low score (or by a
    # manager), decided by a person: kept or removed, with a reason the worker sees.
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False),
    Column("worker_id", ForeignKey("workers.id"), nullable=False),
    Column("trigger", String(20), nullable=False),  # low_score | manual
    Column("score", Float, nullable=True),
    Column("threshold", Float, nullable=True),
    Column("status", String(12), nullable=False, default="open"),  # open|kept|removed|reinstated
    Column("opened_by", ForeignKey("users.id"), nullable=True),
    _ts("opened_at"),
    Column("decided_by", ForeignKey("users.id"), nullable=True),
    _ts("decided_at", nullable=True),
    Column("reason", Text, nullable=True),
)
Index("ix_worker_reviews_project_worker",
      worker_reviews.c.project_id, worker_reviews.c.worker_id, worker_reviews.c.status)

guideline_supports = Table(
    "guideline_supports",
    metadata,
    # One +1 per worker and flag (the flag's author counts as its first supporter).
    Column("issue_id", ForeignKey("guideline_issues.id"), primary_key=True),
    Column("worker_id", ForeignKey("workers.id"), primary_key=True),
    _ts("created_at"),
)

pay_adjustments = Table(
    "pay_adjustments",
    metadata,
    # Top-ups computed when measured time pushes pay below a floor; a manager approves one
    # and it becomes a pay event.
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("project_id", ForeignKey("projects.id"), nullable=False, index=True),
    Column("worker_id", ForeignKey("workers.id"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reason", Text, nullable=False),
    Column("basis", JSON, nullable=False, default=dict),  # the figures it was computed from
    Column("status", String(12), nullable=False, default="proposed"),  # proposed|approved|dismissed
    _ts("computed_at"),
    Column("decided_by", ForeignKey("users.id"), nullable=True),
    _ts("decided_at", nullable=True),
    Column("pay_event_id", ForeignKey("pay_events.id"), nullable=True),
)

# ---------------------------------------------------------------- audit ledger
ledger_events = Table(
    "ledger_events",
    metadata,
    Column("seq", PK, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),  # ISO-8601 UTC, part of the hashed body
    Column("event", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("project_id", BigInteger, nullable=True, index=True),
    Column("body", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)

