"""Property-based API tests from the OpenAPI schema (schemathesis), on SQLite.

For every operation in the schema, schemathesis generates requests from it (valid ones, and
invalid ones where the operation takes parameters or a body) and sends them to the ASGI app
in process with an owner's token (for the work loop, which only workers may use, a worker's
token). No response may be a server error; every response must have a documented status
code, the documented content type and a body that fits the documented schema.

Undocumented status codes are collected rather than raised at once, so that one of them
(say a 400 on every malformed body) does not stop Hypothesis before it finds a 500.

Schemathesis' own pytest integration (``schemathesis.pytest.from_fixture``) does not run
under pytest 9 (it sets ``node._nodeid``), so each operation is one pytest case here that
drives ``operation.as_strategy()`` with Hypothesis directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from web_helpers import Person, create_person, openapi_schema, sqlite_store_copy

from factories import import_rows, make_project, text_items
from handloom.web.app import create_app
from handloom.work import routing

MAX_EXAMPLES = 15
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
METHODS = ("get", "post", "put", "patch", "delete")


def _operations() -> list[Any]:
    """One pytest case per operation and generation mode (negative only where there is
    something to get wrong: parameters or a body)."""
    cases = []
    for path, ops in openapi_schema()["paths"].items():
        for method, op in ops.items():
            if method not in METHODS:
                continue
            modes = [GenerationMode.POSITIVE]
            if op.get("parameters") or op.get("requestBody"):
                modes.append(GenerationMode.NEGATIVE)
            cases += [pytest.param(method.upper(), path, mode,
                                   id=f"{method.upper()} {path} {mode.value}")
                      for mode in modes]
    return cases


OPERATIONS = _operations()


class Api:
    def __init__(self, app: FastAPI, owner: Person, worker: Person, assignment_id: int):
        self.app = app
        self.openapi = app.openapi()
        self.schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
        self.owner = owner
        self.worker = worker
        self.assignment_id = assignment_id

    def cases(self, operation: Any, mode: GenerationMode) -> st.SearchStrategy[Any]:
        """Generated cases; half of them aimed at the project and assignment that exist
        (random names would almost only ever reach the 404 of an unknown project)."""
        def aim(pair: tuple[Any, bool]) -> Any:
            case, real = pair
            if real and case.path_parameters:
                if "name" in case.path_parameters:
                    case.path_parameters["name"] = "p"
                if "assignment_id" in case.path_parameters:
                    case.path_parameters["assignment_id"] = self.assignment_id
            return case
        return st.tuples(operation.as_strategy(generation_mode=mode), st.booleans()).map(aim)


@pytest.fixture
def web_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The app over a fresh SQLite store with project p (20 items), an owner, and a worker
    holding a lease in p."""
    store = sqlite_store_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    try:
        with store.write() as conn:
            make_project(conn, "p", overlap=3)
        import_rows(store, "p", text_items(20))
        owner = create_person(store, "owner")
        worker = create_person(store, "worker")
        with store.write() as conn:
            lease = routing.next_item(conn, routing.load_project(conn, "p"), worker.worker_id)
        assert lease is not None
        app = create_app(store)
        try:
            yield Api(app, owner, worker, lease.assignment_id)
        finally:
            app.state.writes.close()
    finally:
        store.dispose()


@pytest.mark.parametrize(("method", "path", "mode"), OPERATIONS)
def test_operation_conforms_to_its_schema(web_api: Api, method: str, path: str,
                                          mode: GenerationMode) -> None:
    operation = web_api.schema[path][method]
    who = web_api.worker if "work" in (operation.tags or []) else web_api.owner
    headers = {"Authorization": f"Bearer {who.token}"}
    documented = set(web_api.openapi["paths"][path][method.lower()]["responses"])
    undocumented: dict[int, str] = {}

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=web_api.cases(operation, mode))
    def check(case: Any) -> None:
        response = case.call(headers=headers)
        if str(response.status_code) not in documented:
            undocumented.setdefault(
                response.status_code,
                f"{response.status_code} {response.text[:200]!r} for {case.as_curl_command()}")
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()
    assert not undocumented, (
        f"{method} {path} answered with status codes its OpenAPI operation does not document "
        f"(documented: {', '.join(sorted(documented))}):\n" + "\n".join(undocumented.values()))
