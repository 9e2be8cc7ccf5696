"""Pay: every amount owed is a pay event; statements, payroll and floors are read from them.

A pay event (``pay_events``) is written in the same transaction as what caused it: a
submitted answer (``piece`` or ``hourly``), a paid time entry (``hourly``), a clawback of
rejected work, a restoration by an upheld appeal, an approved top-up. Statements and the
payroll report both sum these events, so they agree by construction.

This module is the public face of pay; the work is done in
:mod:`~handloom.labor.earnings` (arithmetic, policy, pay events, figures),
:mod:`~handloom.labor.statements` (statements and payroll),
:mod:`~handloom.labor.floor_check` (the check when a project opens) and
:mod:`~handloom.labor.topups` (floors while it runs, top-ups, managers' aggregates).
"""

from __future__ import annotations

from handloom.labor.earnings import (
    KINDS,
    PAID_TIME_REASONS,
    PILOT_MIN_ANSWERS,
    SECONDS_PER_HOUR,
    TIME_REASONS,
    Figures,
    LedgerEvent,
    PayPolicy,
    answer_pay,
    clawback_annotation,
    collect,
    due_for_time,
    effective_hourly_pay,
    exact_seconds,
    hourly_amount,
    money,
    pay_for_rejection,
    pay_policy,
    per_hour,
    record_answer_pay,
    record_time_pay,
    restore_annotation,
    round_half_up,
    seconds_text,
    worker_floor,
)
from handloom.labor.floor_check import (
    FloorCheck,
    JurisdictionCheck,
    check_open,
    check_record,
    measured_median,
    require_open_allowed,
)
from handloom.labor.statements import (
    REPORT_COLUMNS,
    payroll,
    payroll_csv,
    period,
    statement,
    worker_pay,
)
from handloom.labor.topups import (
    BreachCheck,
    WorkerFloorCheck,
    approve_top_up,
    check_floor_breach,
    dismiss_top_up,
    estimate_at_open,
    floor_alert,
    list_top_ups,
    project_of_adjustment,
    project_pay,
    propose_top_up,
    propose_top_ups,
)

__all__ = [
    "KINDS", "PAID_TIME_REASONS", "PILOT_MIN_ANSWERS", "REPORT_COLUMNS", "SECONDS_PER_HOUR",
    "TIME_REASONS", "BreachCheck", "Figures", "FloorCheck", "JurisdictionCheck", "LedgerEvent",
    "PayPolicy", "WorkerFloorCheck", "answer_pay", "approve_top_up", "check_floor_breach",
    "check_open", "check_record", "clawback_annotation", "collect", "dismiss_top_up",
    "due_for_time", "effective_hourly_pay", "estimate_at_open", "exact_seconds", "floor_alert",
    "hourly_amount", "list_top_ups", "measured_median", "money", "pay_for_rejection",
    "pay_policy", "payroll", "payroll_csv", "per_hour", "period", "project_of_adjustment",
    "project_pay", "propose_top_up", "propose_top_ups", "record_answer_pay", "record_time_pay",
    "require_open_allowed", "restore_annotation", "round_half_up", "seconds_text", "statement",
    "worker_floor", "worker_pay",
]
