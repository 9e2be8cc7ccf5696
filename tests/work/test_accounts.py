"""Users with roles, API tokens, passwords, workers and the vendor chains they work through."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import select, update

from handloom import ledger
from handloom.errors import Conflict, Invalid, NotFound, Unauthorized
from handloom.store.db import Store, utcnow
from handloom.store.schema import api_tokens, ledger_events, users, vendors, workers
from handloom.work import accounts


def ledger_kinds(store: Store) -> list[str]:
    with store.read() as conn:
        return list(conn.execute(select(ledger_events.c.event).order_by(ledger_events.c.seq))
                    .scalars())


def user_row(store: Store, username: str) -> Any:
    with store.read() as conn:
        return conn.execute(select(users).where(users.c.username == username)).one()


# ---------------------------------------------------------------- users and roles
@pytest.mark.parametrize("role", accounts.ROLES)
def test_create_user_with_each_role(store: Store, role: str) -> None:
    with store.write() as conn:
        user_id = accounts.create_user(conn, f"u-{role}", role, display_name="Dana")
    row = user_row(store, f"u-{role}")
    assert row.id == user_id and row.role == role and row.display_name == "Dana"
    assert row.active and row.password_hash is None and row.worker_id is None
    assert ledger_kinds(store) == ["user.created"]


def test_unknown_role_and_empty_name(store: Store) -> None:
    with pytest.raises(Invalid) as info, store.write() as conn:
        accounts.create_user(conn, "x", "admin")
    assert info.value.field == "role" and "'admin'" in info.value.message
    with pytest.raises(Invalid) as info, store.write() as conn:
        accounts.create_user(conn, "  ", "owner")
    assert info.value.field == "username"
    assert ledger_kinds(store) == []


def test_duplicate_username_conflicts(store: Store) -> None:
    with store.write() as conn:
        accounts.create_user(conn, "dana", "reviewer")
    with pytest.raises(Conflict) as info, store.write() as conn:
        accounts.create_user(conn, "dana", "auditor")
    assert info.value.field == "username" and info.value.status == 409
    assert user_row(store, "dana").role == "reviewer"


# ---------------------------------------------------------------- tokens
def test_token_hash_is_stored_not_the_token(store: Store) -> None:
    with store.write() as conn:
        user_id = accounts.create_user(conn, "owner", "owner")
        token = accounts.create_token(conn, "owner", name="laptop")
    assert token.startswith(accounts.TOKEN_PREFIX) and len(token) > 30
    with store.read() as conn:
        (row,) = conn.execute(select(api_tokens)).all()
        every_value = [str(v) for table in (api_tokens, users, ledger_events)
                       for r in conn.execute(select(table)) for v in r]
    assert row.user_id == user_id and row.name == "laptop"
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in value for value in every_value), "the plain token was stored"
    assert ledger_kinds(store) == ["user.created", "token.created"]


def test_principal_for_token(store: Store) -> None:
    with store.write() as conn:
        accounts.create_user(conn, "rev", "reviewer")
        token = accounts.create_token(conn, "rev")
        other = accounts.create_token(conn, "rev")
    assert token != other
    with store.read() as conn:
        principal = accounts.principal_for_token(conn, token)
        assert accounts.principal_for_token(conn, other) == principal
    assert principal.username == "rev" and principal.role == "reviewer"
    assert principal.worker_id is None and principal.actor == f"user:{principal.user_id}"


@pytest.mark.parametrize("guess", ["", "hl_", "hl_unknown", "not-a-token"])
def test_unknown_token_is_unauthorized(store: Store, guess: str) -> None:
    with store.write() as conn:
        accounts.create_user(conn, "rev", "reviewer")
        token = accounts.create_token(conn, "rev")
    with pytest.raises(Unauthorized) as info, store.read() as conn:
        accounts.principal_for_token(conn, guess)
    assert info.value.status == 401
    with pytest.raises(Unauthorized), store.read() as conn:
        accounts.principal_for_token(conn, token + "x")


def test_revoked_token_and_inactive_user_are_unauthorized(store: Store) -> None:
    with store.write() as conn:
        accounts.create_user(conn, "a", "manager")
        accounts.create_user(conn, "b", "manager")
        revoked = accounts.create_token(conn, "a")
        inactive = accounts.create_token(conn, "b")
        conn.execute(update(api_tokens).where(api_tokens.c.token_hash ==
                                              accounts.hash_token(revoked))
                     .values(revoked_at=utcnow()))
        conn.execute(update(users).where(users.c.username == "b").values(active=False))
    for token in (revoked, inactive):
        with pytest.raises(Unauthorized), store.read() as conn:
            accounts.principal_for_token(conn, token)


def test_token_for_unknown_user(store: Store) -> None:
    with pytest.raises(NotFound) as info, store.write() as conn:
        accounts.create_token(conn, "ghost")
    assert "'ghost'" in info.value.message
    with store.read() as conn:
        assert conn.execute(select(api_tokens)).first() is None


# ---------------------------------------------------------------- passwords
def test_password_is_argon2_and_checked(store: Store) -> None:
    with store.write() as conn:
        accounts.create_user(conn, "mgr", "manager", password="correct horse")
    row = user_row(store, "mgr")
    assert row.password_hash.startswith("$argon2")
    assert "correct horse" not in row.password_hash
    with store.read() as conn:
        principal = accounts.check_password(conn, "mgr", "correct horse")
    assert principal.username == "mgr" and principal.role == "manager"


@pytest.mark.parametrize(("username", "password"),
                         [("mgr", "wrong horse"), ("mgr", ""), ("mgr", "correct horse "),
                          ("nobody", "correct horse"), ("nopass", "correct horse")])
def test_wrong_password_is_rejected(store: Store, username: str, password: str) -> None:
    with store.write() as conn:
        accounts.create_user(conn, "mgr", "manager", password="correct horse")
        accounts.create_user(conn, "nopass", "manager")
    with pytest.raises(Unauthorized) as info, store.read() as conn:
        accounts.check_password(conn, username, password)
    # The same words whether the user exists or not: no username probing.
    assert info.value.message == "Unknown username or wrong password."


def test_short_password_is_refused(store: Store) -> None:
    with pytest.raises(Invalid) as info, store.write() as conn:
        accounts.create_user(conn, "mgr", "manager", password="short")
    assert info.value.field == "password"


# ---------------------------------------------------------------- workers and vendors
def test_add_worker_creates_worker_and_account(store: Store) -> None:
    with store.write() as conn:
        worker_id = accounts.add_worker(conn, "w-0042", role_class="contractor",
                                        jurisdiction="PH", qualifications=["tl", "en", "tl"],
                                        password="a long password")
        token = accounts.create_token(conn, "w-0042")
    with store.read() as conn:
        worker = conn.execute(select(workers).where(workers.c.id == worker_id)).one()
        principal = accounts.principal_for_token(conn, token)
        assert accounts.check_password(conn, "w-0042", "a long password") == principal
    assert worker.ref == "w-0042" and worker.role_class == "contractor"
    assert worker.jurisdiction == "PH" and worker.vendor_id is None
    assert worker.qualifications == ["en", "tl"] and worker.opt_outs == []
    assert principal.role == "worker" and principal.worker_id == worker_id
    assert ledger_kinds(store) == ["worker.created", "user.created", "token.created"]


def test_worker_with_vendor_chain(store: Store) -> None:
    with store.write() as conn:
        top = accounts.ensure_vendor(conn, "Northwind Data Services")
        sub = accounts.ensure_vendor(conn, "Savanna Labeling", parent="Northwind Data Services")
        assert accounts.ensure_vendor(conn, "Savanna Labeling") == sub  # found, not recreated
        deeper = accounts.ensure_vendor(conn, "Kibera Crew", parent="Savanna Labeling")
        worker_id = accounts.add_worker(conn, "amara", role_class="vendor", vendor="Kibera Crew")
        solo = accounts.add_worker(conn, "sam")
    with store.read() as conn:
        vendor_id = conn.execute(select(workers.c.vendor_id)
                                 .where(workers.c.id == worker_id)).scalar_one()
        assert vendor_id == deeper
        assert accounts.vendor_chain(conn, vendor_id) == [
            "Kibera Crew", "Savanna Labeling", "Northwind Data Services"]
        assert accounts.vendor_chain(conn, top) == ["Northwind Data Services"]
        assert accounts.vendor_chain(conn, None) == []
        listed = {w["ref"]: w for w in accounts.list_workers(conn)}
        assert conn.execute(select(vendors)).all().__len__() == 3
        assert solo in {w["id"] for w in listed.values()}
    assert listed["amara"]["vendor"] == "Kibera Crew" and listed["sam"]["vendor"] is None
    assert ledger_kinds(store).count("vendor.created") == 3


def test_new_vendor_with_new_parent_is_created_on_the_fly(store: Store) -> None:
    with store.write() as conn:
        vendor_id = accounts.ensure_vendor(conn, "Sub", parent="Prime")
        assert accounts.vendor_chain(conn, vendor_id) == ["Sub", "Prime"]


def test_vendor_chain_stops_at_a_cycle(store: Store) -> None:
    with store.write() as conn:
        a = accounts.ensure_vendor(conn, "A")
        b = accounts.ensure_vendor(conn, "B", parent="A")
        conn.execute(update(vendors).where(vendors.c.id == a).values(parent_id=b))
        assert accounts.vendor_chain(conn, b) == ["B", "A"]


def test_duplicate_worker_conflicts(store: Store) -> None:
    with store.write() as conn:
        accounts.add_worker(conn, "w1")
        accounts.create_user(conn, "dana", "reviewer")
    with pytest.raises(Conflict) as info, store.write() as conn:
        accounts.add_worker(conn, "w1")
    assert info.value.field == "ref"
    # A worker whose ref is already a staff username cannot get an account: nothing is kept.
    with pytest.raises(Conflict), store.write() as conn:
        accounts.add_worker(conn, "dana")
    with store.read() as conn:
        assert [w["ref"] for w in accounts.list_workers(conn)] == ["w1"]
        assert ledger.verify(conn).ok


@pytest.mark.parametrize(("kwargs", "field"),
                         [({"ref": "x", "role_class": "gig"}, "role_class"),
                          ({"ref": " "}, "ref")])
def test_bad_worker(store: Store, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as info, store.write() as conn:
        accounts.add_worker(conn, **kwargs)
    assert info.value.field == field


def test_grant_qualification(store: Store) -> None:
    with store.write() as conn:
        accounts.add_worker(conn, "w1", qualifications=["en"])
        accounts.grant_qualification(conn, "w1", "de")
        accounts.grant_qualification(conn, "w1", "en")
    with store.read() as conn:
        (listed,) = accounts.list_workers(conn)
    assert listed["qualifications"] == ["de", "en"]
    assert ledger_kinds(store).count("worker.qualified") == 2
    with pytest.raises(NotFound), store.write() as conn:
        accounts.grant_qualification(conn, "ghost", "en")
