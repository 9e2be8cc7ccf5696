"""``handloom aggregate`` and ``handloom agreement``: the quality engine from the command line,
on a label file from anywhere or on a Handloom project. Registered on the main app by
:mod:`handloom.cli`."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from handloom.cli import (
    ACTOR,
    JsonOpt,
    WorkspaceOpt,
    _errors,
    _fail,
    _print_json,
    _store,
    app,
    console,
    err_console,
)
from handloom.quality.aggregate import (
    ALL_METHODS,
    DEFAULT_METHOD,
    BradleyTerry,
    make_aggregator,
)
from handloom.quality.agreement import LEVELS, METRICS, AgreementResult, Level, Metric, agreement
from handloom.quality.encoding import encode_labels, encode_values
from handloom.quality.files import (
    CATEGORICAL_COLUMNS,
    PAIRWISE_COLUMNS,
    LabelFileError,
    pairwise_codes,
    read_table,
    write_rows,
)
from handloom.store.schema import items

MethodOpt = Annotated[str | None, typer.Option(
    "--method", "-m", help=f"One of {', '.join(ALL_METHODS)} (default {DEFAULT_METHOD}; for a "
                           "project, its own method).")]
ProjectOpt = Annotated[str | None, typer.Option(
    "--project", "-p", help="Work on this Handloom project instead of a file.")]


def _fit_bar(total: int) -> tuple[Progress, Any]:
    bar = Progress(TextColumn("{task.description}"), BarColumn(),
                   TextColumn("iteration {task.completed}"), TimeElapsedColumn(),
                   console=err_console, transient=True)
    task = bar.add_task("Fitting", total=total)

    def update(iteration: int, _loss: float) -> None:
        bar.update(task, completed=iteration)

    return bar, update


def _read(path: Path, columns: tuple[str, ...]) -> dict[str, list[Any]]:
    try:
        return read_table(path, columns)
    except LabelFileError as exc:
        _fail(str(exc))


@app.command("aggregate")
def aggregate_cmd(
    labels: Annotated[Path | None, typer.Argument(
        help="CSV or Parquet with item,worker,label (bt: item,worker,left,right,winner).")
    ] = None,
    method: MethodOpt = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write item,label,confidence here (.csv or .parquet); bt writes "
                            "object,score,rank.")] = None,
    project: ProjectOpt = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="With --project: compute and report, but store nothing.")] = False,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Combine several workers' answers into one label per item, with a confidence.

    On a file: `handloom aggregate labels.csv --method ds --out labels.agg.csv`. On a
    project (stores the aggregate, updates the review queue and the workers' scores, and
    writes a ledger event): `handloom aggregate --project toxicity`.
    """
    if (labels is None) == (project is None):
        _fail("Give a label file or --project NAME (one of the two).")
    if project is not None:
        _aggregate_project(project, method, out, dry_run, workspace, as_json)
        return
    assert labels is not None
    name = method or DEFAULT_METHOD
    if name not in ALL_METHODS:
        _fail(f"Unknown method {name!r}; choose one of {', '.join(ALL_METHODS)}.")
    started = time.perf_counter()
    if name == "bt":
        summary = _aggregate_pairwise(labels, out)
    else:
        table = _read(labels, CATEGORICAL_COLUMNS)
        enc = encode_labels(table["item"], table["worker"], table["label"])
        estimator = make_aggregator(name)
        bar, update = _fit_bar(getattr(estimator, "n_iter", 100))
        with bar:
            estimator.fit(enc.items, enc.workers, enc.labels, n_items=enc.n_items,
                          n_workers=enc.n_workers, n_classes=enc.n_classes, progress=update)
        rows = [(item, enc.classes[int(code)], round(float(conf), 6))
                for item, code, conf in zip(enc.item_values, estimator.labels_,
                                            estimator.confidence_, strict=True)]
        if out is not None:
            write_rows(out, ("item", "label", "confidence"), rows)
        elif not as_json:
            for row in rows:
                print(",".join(str(v) for v in row))
        summary = {"method": name, "params": estimator.params(), "items": enc.n_items,
                   "workers": enc.n_workers, "answers": len(enc.items),
                   "classes": enc.n_classes, "iterations": estimator.n_iter_,
                   "mean_confidence": round(float(estimator.confidence_.mean()), 6)}
    summary["seconds"] = round(time.perf_counter() - started, 3)
    if out is not None:
        summary["out"] = str(out)
    if as_json:
        _print_json(summary)
    else:
        err_console.print(" · ".join(f"{k} {v}" for k, v in summary.items() if k != "params"),
                          highlight=False)


def _aggregate_pairwise(path: Path, out: Path | None) -> dict[str, Any]:
    table = _read(path, PAIRWISE_COLUMNS)
    try:
        left, right, winner = pairwise_codes(table, path)
    except LabelFileError as exc:
        _fail(str(exc))
    sides, objects = encode_values([str(v) for v in left + right])
    n = len(left)
    workers, _ = encode_values([str(w) for w in table["worker"]])
    try:
        bt = BradleyTerry().fit(sides[:n], sides[n:], np.array(winner), workers=workers,
                                n_objects=len(objects))
    except ValueError as exc:
        _fail(f"{path}: {exc}")
    rows = [(objects[int(o)], round(float(bt.scores_[int(o)]), 6), rank)
            for rank, o in enumerate(bt.ranking_, start=1)]
    if out is not None:
        write_rows(out, ("object", "score", "rank"), rows)
    else:
        for row in rows:
            print(",".join(str(v) for v in row))
    return {"method": "bt", "params": bt.params(), "objects": len(objects), "comparisons": n,
            "ties": int(sum(1 for w in winner if w == 2)),
            "tie_strength": round(bt.tie_strength_, 6)}


def _aggregate_project(name: str, method: str | None, out: Path | None, dry_run: bool,
                       workspace: Path, as_json: bool) -> None:
    from handloom.work.projects import get_project
    from handloom.work.quality import aggregate_project

    with _store(workspace) as store, _errors():
        started = time.perf_counter()
        bar, update = _fit_bar(100)
        with bar, store.write() as conn:
            project = get_project(conn, name)
            run = aggregate_project(conn, project, method=method, apply=not dry_run,
                                    actor=ACTOR, progress=update)
            external = {int(r[0]): str(r[1]) for r in conn.execute(
                select(items.c.id, items.c.external_id).where(
                    items.c.project_id == project.id))} if out else {}
        if out is not None:
            from handloom.work.projects import kind_of

            kind = kind_of(project)
            write_rows(out, ("item", "label", "confidence"), [
                (external[item_id], kind.summarize(answer), round(conf, 6))
                for item_id, (answer, conf, _soft) in sorted(run.results.items())])
    summary = run.to_dict()
    summary.update({"project": name, "stored": not dry_run,
                    "seconds": round(time.perf_counter() - started, 3)})
    if as_json:
        _print_json(summary)
        return
    console.print(
        f"{name}: {run.items:,} items, {run.answers:,} answers by {run.workers:,} workers, "
        f"method {run.method}; mean confidence "
        f"{'–' if run.mean_confidence is None else f'{run.mean_confidence:.3f}'}; "
        f"{run.below_threshold:,} below the review threshold"
        + ("" if dry_run else f"; {run.queued:,} newly queued for review, "
                              f"{run.unqueued:,} no longer need review") + ".",
        highlight=False)


@app.command("agreement")
def agreement_cmd(
    labels: Annotated[Path | None, typer.Argument(
        help="CSV or Parquet with columns item,worker,label.")] = None,
    metric: Annotated[str, typer.Option(
        "--metric", help=f"One of {', '.join(METRICS)}.")] = "alpha",
    level: Annotated[str, typer.Option(
        "--level", help=f"Krippendorff's alpha level: {', '.join(LEVELS)}.")] = "nominal",
    ci: Annotated[bool, typer.Option(
        "--ci", help="Add a 95% bootstrap confidence interval (items resampled).")] = False,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap samples.")] = 1000,
    project: ProjectOpt = None,
    workspace: WorkspaceOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """How much workers agree: Krippendorff's alpha, Fleiss' or Cohen's kappa, or percent
    agreement.

    `handloom agreement labels.csv --metric alpha --level ordinal --ci`, or on a project:
    `handloom agreement --project toxicity`.
    """
    if (labels is None) == (project is None):
        _fail("Give a label file or --project NAME (one of the two).")
    if metric not in METRICS:
        _fail(f"Unknown metric {metric!r}; choose one of {', '.join(METRICS)}.")
    if level not in LEVELS:
        _fail(f"Unknown level {level!r}; choose one of {', '.join(LEVELS)}.")
    chosen_metric: Metric = metric
    chosen_level: Level = level
    if project is not None:
        from handloom.work.projects import get_project
        from handloom.work.quality import project_agreement

        with _store(workspace) as store, _errors(), store.read() as conn:
            result = project_agreement(conn, get_project(conn, project), metric=chosen_metric,
                                       level=chosen_level, ci=ci, n_boot=n_boot)
    else:
        assert labels is not None
        table = _read(labels, CATEGORICAL_COLUMNS)
        items, _ = encode_values(table["item"])
        workers, _ = encode_values(table["worker"])
        if level == "nominal" or metric != "alpha":
            values: Any = encode_values(table["label"])[0]
        else:
            try:
                values = np.array([float(v) for v in table["label"]], dtype=np.float64)
            except ValueError:
                bad = next(n for n, v in enumerate(table["label"]) if not _is_number(v))
                _fail(f"{labels}, line {bad + 2}, column 'label': {table['label'][bad]!r} is "
                      f"not a number; the {level} level needs numeric labels.")
        try:
            result = agreement(chosen_metric, items, workers, values, level=chosen_level,
                               ci=ci, n_boot=n_boot)
        except ValueError as exc:
            _fail(str(exc))
    _report_agreement(result, metric, level, as_json)


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _report_agreement(result: AgreementResult, metric: str, level: str, as_json: bool) -> None:
    data = {"metric": metric, "level": level if metric == "alpha" else "nominal",
            **dataclasses.asdict(result)}
    if as_json:
        _print_json(data)
        return
    value = "undefined (no item has two answers)" if np.isnan(result.value) \
        else f"{result.value:.4f}"
    interval = "" if result.low is None or result.high is None \
        else f"  95% CI [{result.low:.4f}, {result.high:.4f}]"
    name = {"alpha": f"Krippendorff's alpha ({data['level']})", "fleiss": "Fleiss' kappa",
            "cohen": "Cohen's kappa (mean of pairs)", "percent": "Percent agreement"}[metric]
    console.print(f"{name}: {value}{interval}", highlight=False)
    console.print(f"over {result.n_items:,} items, {result.n_workers:,} workers, "
                  f"{result.n_values:,} answers", highlight=False)
