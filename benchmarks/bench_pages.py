"""Task screen speed: server time to render the task page and to lease the next item.

Builds a workspace with one classification project of N items (default 100,000) and a few
workers, signs a worker in, then times — in process, through the ASGI app, so the figure is
the server's own time without network or browser — the task screen (GET /work/NAME) and the
next-item call it makes (POST /ui/projects/NAME/next, then submit, as a worker would).
Prints p50/p99 per request type over several runs; the target is p99 under 150 ms for the
next item. The last line is one JSON object.

Usage: python benchmarks/bench_pages.py [--items 100000] [--cycles 300] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from handloom.labor import terms
from handloom.store.db import Store
from handloom.web.app import create_app
from handloom.work import accounts, projects
from handloom.work.importing import import_items
from handloom.workspace import init_workspace, open_store

TARGET_MS = 150.0
PASSWORD = "bench-password"


def build(root: Path, n_items: int) -> Store:
    workspace, _ = init_workspace(root)
    store = open_store(workspace)
    with store.write() as conn:
        projects.create_project(conn, projects.parse_spec({
            "name": "speed", "kind": "classification", "overlap": 3,
            "labels": ["toxic", "not_toxic", "unsure"],
            "instructions": "Mark a comment toxic if it insults, threatens or demeans.\n" * 20,
        }))
        for i in range(3):
            worker_id = accounts.add_worker(conn, f"w{i}", password=PASSWORD)
            terms.consent(conn, projects.get_project(conn, "speed"), worker_id)
    rows = [{"id": f"c{i}", "text": f"comment number {i} with a few more words in it"}
            for i in range(n_items)]
    import_items(store, "speed", "bench", rows=rows)
    return store


async def sign_in(client: httpx.AsyncClient, username: str) -> str:
    page = await client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    await client.post("/login", data={"username": username, "password": PASSWORD,
                                      "csrf": token.group(1), "next": "/"})
    screen = await client.get("/work/speed")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', screen.text)
    assert csrf is not None
    return csrf.group(1)


async def measure(store: Store, cycles: int) -> dict[str, list[float]]:
    app = create_app(store)
    timings: dict[str, list[float]] = {"task_page": [], "next": [], "submit": []}
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=transport, base_url="http://bench") as client:
        csrf = await sign_in(client, "w0")
        headers = {"X-CSRF-Token": csrf}
        for i in range(cycles):
            if i % 10 == 0:
                t0 = time.perf_counter()
                response = await client.get("/work/speed")
                timings["task_page"].append(time.perf_counter() - t0)
                assert response.status_code == 200
            t0 = time.perf_counter()
            lease = (await client.post("/ui/projects/speed/next", headers=headers)).json()
            timings["next"].append(time.perf_counter() - t0)
            assignment = lease["assignment"]
            assert assignment is not None, lease
            t0 = time.perf_counter()
            done = await client.post(
                f"/ui/projects/speed/assignments/{assignment['assignment_id']}/submit",
                headers=headers, json={"answer": {"label": "toxic"},
                                       "idempotency_key": uuid.uuid4().hex,
                                       "active_seconds": 3.0})
            timings["submit"].append(time.perf_counter() - t0)
            assert done.status_code == 200, done.text
    return timings


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[tuple[float, float]]] = {"task_page": [], "next": [], "submit": []}
    with tempfile.TemporaryDirectory(prefix="hl-bench-pages-") as tmp:
        started = time.perf_counter()
        store = build(Path(tmp) / "ws", args.items)
        print(f"built a project of {args.items:,} items in {time.perf_counter() - started:.1f} s",
              flush=True)
        try:
            for run in range(args.runs):
                timings = asyncio.run(measure(store, args.cycles))
                for name, values in timings.items():
                    runs[name].append((pct(values, 0.5), pct(values, 0.99)))
                print(f"run {run + 1}: " + ", ".join(
                    f"{n} p50 {pct(v, 0.5):.2f} ms p99 {pct(v, 0.99):.2f} ms"
                    for n, v in timings.items()), flush=True)
        finally:
            store.dispose()
    result: dict[str, object] = {"items": args.items, "target_ms": TARGET_MS}
    for name, pairs in runs.items():
        result[name] = {"p50_ms": round(statistics.median(p for p, _ in pairs), 2),
                        "p99_ms": round(statistics.median(q for _, q in pairs), 2)}
    next_p99 = result["next"]["p99_ms"]  # type: ignore[index]
    result["met"] = next_p99 < TARGET_MS
    print(f"next item p99 {next_p99} ms against the {TARGET_MS:.0f} ms budget: "
          f"{TARGET_MS / next_p99:.1f}x headroom")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
