"""Who may do what: one table of actions and the roles allowed to take them.

Kept apart from HTTP so that the authorization matrix can be tested directly, and so that
the API, the CLI and the pages ask the same question the same way.
"""

from __future__ import annotations

from handloom.errors import Forbidden
from handloom.work.accounts import Principal

STAFF = frozenset({"owner", "manager"})
READERS = frozenset({"owner", "manager", "reviewer", "auditor"})
# Who decides about a worker's work (rejections, appeals): never auditors, never workers.
DECIDERS = frozenset({"owner", "manager", "reviewer"})

POLICY: dict[str, frozenset[str]] = {
    "project.list": frozenset({"owner", "manager", "reviewer", "auditor", "worker"}),
    "project.read": frozenset({"owner", "manager", "reviewer", "auditor", "worker"}),
    "project.create": STAFF,
    "project.status": STAFF,
    "project.instructions": STAFF,
    "project.summary": READERS,
    "items.import": STAFF,
    "items.read": READERS,
    "annotations.read": READERS,
    "dataset.export": frozenset({"owner", "manager", "auditor"}),
    "work.next": frozenset({"worker"}),
    "work.submit": frozenset({"worker"}),
    "work.own": frozenset({"worker"}),
    "worker.read": STAFF,
    "worker.create": STAFF,
    "token.create": frozenset({"owner"}),
    "user.create": frozenset({"owner"}),
    "ledger.verify": frozenset({"owner", "auditor"}),
    "kinds.read": frozenset({"owner", "manager", "reviewer", "auditor", "worker"}),
    "quality.read": READERS,
    "quality.aggregate": STAFF,
    # fair work: exposure and well-being
    "exposure.own": frozenset({"worker"}),
    "exposure.settings": frozenset({"worker"}),
    "exposure.read": READERS,
    "items.tag": DECIDERS,
    "wellbeing.checkin": frozenset({"worker"}),
    "wellbeing.own": frozenset({"worker"}),
    # fair work: appeals, reviews of workers, voice and terms
    "annotation.reject": DECIDERS,
    "appeal.file": frozenset({"worker"}),
    "appeal.own": frozenset({"worker"}),
    "appeal.list": DECIDERS,
    "appeal.decide": DECIDERS,
    "worker_review.read": STAFF,
    "worker_review.open": STAFF,
    "worker_review.decide": STAFF,
    "flags.read": frozenset({"owner", "manager", "reviewer", "auditor", "worker"}),
    "flags.raise": frozenset({"worker"}),
    "flags.support": frozenset({"worker"}),
    "flags.answer": STAFF,
    "terms.read": frozenset({"owner", "manager", "reviewer", "auditor", "worker"}),
    "terms.consent": frozenset({"worker"}),
    # fair work: pay and time
    "pay.own": frozenset({"worker"}),
    "pay.read": frozenset({"owner", "manager", "auditor"}),
    "pay.floors": STAFF,
    "pay.approve": STAFF,
    # naming payees by the operator's reference in the payroll (on the ledger)
    "pay.reveal": STAFF,
    # fair work: marking earned pay as paid out (payment timeliness in reports)
    "pay.mark_paid": STAFF,
    # disclosure: the transparency report (owners and auditors read it; managers too)
    "report.read": frozenset({"owner", "manager", "auditor"}),
    # disclosure: the project's stated facts (purpose, assumptions, biases, licence …)
    "disclosure.edit": STAFF,
    # disclosure: a worker's own self-reported demographics (always optional)
    "demographics.own": frozenset({"worker"}),
}


def allowed(principal: Principal, action: str) -> bool:
    return principal.role in POLICY[action]


def authorize(principal: Principal, action: str) -> None:
    if not allowed(principal, action):
        roles = ", ".join(sorted(POLICY[action]))
        raise Forbidden(f"Your role ({principal.role}) may not do this ({action}); it needs one "
                        f"of: {roles}.")
