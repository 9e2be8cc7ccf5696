"""The demo workspace: every example project, a cast of staff and workers, ready to serve."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from handloom.config import Workspace
from handloom.errors import NotFound
from handloom.work import accounts, projects
from handloom.work.importing import import_items
from handloom.workspace import init_workspace, open_store

DEMO_PASSWORD = "handloom-demo"
STAFF = (("manager", "manager"), ("reviewer", "reviewer"), ("auditor", "auditor"))
# (ref, role class, jurisdiction, vendor, parent vendor)
WORKERS = (
    ("amara", "vendor", "KE", "Savanna Labeling", "Northwind Data Services"),
    ("joseph", "vendor", "KE", "Savanna Labeling", "Northwind Data Services"),
    ("maria", "contractor", "PH", None, None),
    ("lena", "in-house", "DE", None, None),
    ("sam", "crowd", "US", None, None),
    ("priya", "expert", "US", None, None),
)


def find_examples() -> Path:
    """The examples folder: ./examples, or the one beside the source checkout."""
    for candidate in (Path.cwd() / "examples", Path(__file__).resolve().parents[2] / "examples"):
        if (candidate / "README.md").exists():
            return candidate
    raise NotFound("No examples folder found; run from the Handloom checkout or pass --examples.")


def build_demo(root: Path, examples: Path, *,
               progress: Callable[[str], None] = lambda _m: None) -> tuple[Workspace, str]:
    """Create the demo workspace; returns it and the text listing the demo logins."""
    workspace, owner_token = init_workspace(root, password=DEMO_PASSWORD)
    store = open_store(workspace)
    lines = ["Demo logins (password for all: " + DEMO_PASSWORD + ")",
             "  owner     owner      API token: " + owner_token]
    try:
        with store.write() as conn:
            for username, role in STAFF:
                accounts.create_user(conn, username, role, password=DEMO_PASSWORD, actor="demo")
                lines.append(f"  {username:<9} {role}")
            for ref, role_class, jurisdiction, vendor, parent in WORKERS:
                if vendor:
                    accounts.ensure_vendor(conn, vendor, parent=parent, actor="demo")
                accounts.add_worker(conn, ref, role_class=role_class, jurisdiction=jurisdiction,
                                    vendor=vendor, password=DEMO_PASSWORD, actor="demo")
                lines.append(f"  {ref:<9} worker ({role_class}, {jurisdiction})")
        for spec_path in sorted(examples.glob("*/project.toml")):
            spec = projects.load_spec(spec_path)
            with store.write() as conn:
                projects.create_project(conn, spec, actor="demo")
            for item_file in sorted(spec_path.parent.glob("items.*")):
                result = import_items(store, spec.name, str(item_file), actor="demo")
                progress(f"  {spec.name}: {result.imported} items")
    finally:
        store.dispose()
    return workspace, "\n".join(lines) + "\n"
