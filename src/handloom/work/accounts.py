"""People and credentials: users with roles, API tokens, workers and their vendors."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, select

from handloom import ledger
from handloom.errors import Conflict, Invalid, NotFound, Unauthorized
from handloom.store.db import inserted_id, utcnow
from handloom.store.schema import api_tokens, users, vendors, workers

ROLES = ("owner", "manager", "reviewer", "worker", "auditor")
ROLE_CLASSES = ("crowd", "vendor", "contractor", "in-house", "expert", "volunteer")
TOKEN_PREFIX = "hl_"

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user with a role, and the worker record when the user is a worker."""

    user_id: int
    username: str
    role: str
    worker_id: int | None

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise Invalid("A password needs at least 8 characters.", field="password")
    return _hasher.hash(password)


def create_user(
    conn: Connection,
    username: str,
    role: str,
    *,
    password: str | None = None,
    display_name: str = "",
    worker_id: int | None = None,
    actor: str = "system",
) -> int:
    if role not in ROLES:
        raise Invalid(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.", field="role")
    if not username.strip():
        raise Invalid("A username cannot be empty.", field="username")
    if conn.execute(select(users.c.id).where(users.c.username == username)).first():
        raise Conflict(f"A user named {username!r} already exists.", field="username")
    user_id = inserted_id(conn.execute(
        users.insert().values(
            username=username,
            display_name=display_name or username,
            role=role,
            password_hash=hash_password(password) if password else None,
            worker_id=worker_id,
            active=True,
            created_at=utcnow(),
        )
    ))
    ledger.append(conn, "user.created", actor=actor,
                  body={"user": user_id, "role": role, "worker": worker_id})
    return int(user_id)


def create_token(conn: Connection, username: str, *, name: str = "", actor: str = "system") -> str:
    """Create an API token for *username*; the plain token is returned once and never stored."""
    row = conn.execute(select(users.c.id, users.c.active)
                       .where(users.c.username == username)).first()
    if row is None:
        raise NotFound(f"No user named {username!r}. Create it first (`handloom worker add` or "
                       "`handloom user add`).")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = inserted_id(conn.execute(
        api_tokens.insert().values(
            user_id=row.id, token_hash=hash_token(token), name=name, created_at=utcnow()
        )
    ))
    ledger.append(conn, "token.created", actor=actor,
                  body={"token": token_id, "user": row.id, "name": name})
    return token


def principal_for_token(conn: Connection, token: str) -> Principal:
    row = conn.execute(
        select(users.c.id, users.c.username, users.c.role, users.c.worker_id, users.c.active)
        .join(api_tokens, api_tokens.c.user_id == users.c.id)
        .where(api_tokens.c.token_hash == hash_token(token), api_tokens.c.revoked_at.is_(None))
    ).first()
    if row is None or not row.active:
        raise Unauthorized("This API token is unknown or revoked. Create one with "
                           "`handloom token create USER`.")
    return Principal(row.id, row.username, row.role, row.worker_id)


def principal_for_user(conn: Connection, user_id: int) -> Principal | None:
    row = conn.execute(
        select(users.c.id, users.c.username, users.c.role, users.c.worker_id, users.c.active)
        .where(users.c.id == user_id)
    ).first()
    if row is None or not row.active:
        return None
    return Principal(row.id, row.username, row.role, row.worker_id)


def check_password(conn: Connection, username: str, password: str) -> Principal:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    failure = Unauthorized("Unknown username or wrong password.")
    if row is None or not row.password_hash or not row.active:
        raise failure
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise failure from None
    return Principal(row.id, row.username, row.role, row.worker_id)


def ensure_vendor(conn: Connection, name: str, *, parent: str | None = None,
                  actor: str = "system") -> int:
    """The id of vendor *name*, creating it (under *parent*) when it does not exist."""
    found = conn.execute(select(vendors.c.id).where(vendors.c.name == name)).scalar()
    if found is not None:
        return int(found)
    parent_id = ensure_vendor(conn, parent, actor=actor) if parent else None
    vendor_id = inserted_id(conn.execute(
        vendors.insert().values(name=name, parent_id=parent_id, created_at=utcnow())
    ))
    ledger.append(conn, "vendor.created", actor=actor,
                  body={"vendor": vendor_id, "name": name, "parent": parent_id})
    return int(vendor_id)


def vendor_chain(conn: Connection, vendor_id: int | None) -> list[str]:
    """Names from the worker's direct vendor up to the top contractor."""
    chain: list[str] = []
    seen: set[int] = set()
    while vendor_id is not None and vendor_id not in seen:
        seen.add(vendor_id)
        row = conn.execute(select(vendors.c.name, vendors.c.parent_id)
                           .where(vendors.c.id == vendor_id)).first()
        if row is None:
            break
        chain.append(row.name)
        vendor_id = row.parent_id
    return chain


def add_worker(
    conn: Connection,
    ref: str,
    *,
    role_class: str = "crowd",
    jurisdiction: str | None = None,
    vendor: str | None = None,
    qualifications: list[str] | None = None,
    password: str | None = None,
    actor: str = "system",
) -> int:
    """Create a worker and the user account it signs in with (username = *ref*)."""
    if role_class not in ROLE_CLASSES:
        raise Invalid(f"Unknown role class {role_class!r}; choose one of "
                      f"{', '.join(ROLE_CLASSES)}.", field="role_class")
    if not ref.strip():
        raise Invalid("A worker needs a non-empty id.", field="ref")
    if conn.execute(select(workers.c.id).where(workers.c.ref == ref)).first():
        raise Conflict(f"A worker {ref!r} already exists.", field="ref")
    vendor_id = ensure_vendor(conn, vendor, actor=actor) if vendor else None
    worker_id = int(inserted_id(conn.execute(
        workers.insert().values(
            ref=ref, role_class=role_class, jurisdiction=(jurisdiction or None),
            vendor_id=vendor_id, qualifications=sorted(set(qualifications or [])),
            opt_outs=[], active=True, created_at=utcnow(),
        )
    )))
    ledger.append(conn, "worker.created", actor=actor,
                  body={"worker": worker_id, "role_class": role_class,
                        "jurisdiction": jurisdiction, "vendor": vendor_id,
                        "qualifications": sorted(set(qualifications or []))})
    create_user(conn, ref, "worker", password=password, worker_id=worker_id, actor=actor)
    return worker_id


def grant_qualification(conn: Connection, ref: str, qualification: str, *,
                        actor: str = "system") -> None:
    row = conn.execute(select(workers.c.id, workers.c.qualifications)
                       .where(workers.c.ref == ref)).first()
    if row is None:
        raise NotFound(f"No worker {ref!r}.")
    quals = sorted(set(row.qualifications) | {qualification})
    conn.execute(workers.update().where(workers.c.id == row.id).values(qualifications=quals))
    ledger.append(conn, "worker.qualified", actor=actor,
                  body={"worker": row.id, "qualification": qualification})


def list_workers(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(workers, vendors.c.name.label("vendor"))
        .select_from(workers.outerjoin(vendors, vendors.c.id == workers.c.vendor_id))
        .order_by(workers.c.id)
    ).all()
    return [
        {"id": r.id, "ref": r.ref, "role_class": r.role_class, "jurisdiction": r.jurisdiction,
         "vendor": r.vendor, "qualifications": r.qualifications, "active": r.active}
        for r in rows
    ]
