"""Run crowd-kit's truth-inference methods for benchmarks/bench_aggregation.py.

This script runs under the peer environment's interpreter (`.venv-peers/crowdkit/bin/python`,
crowd-kit 1.4.2 with pinned pandas/numpy/scikit-learn, see crowdkit-requirements.txt), never
under Handloom's own environment. It only imports the standard library, numpy, pandas and
crowd-kit.

Input (one of):
  --csv FILE       labels as CSV with a header `item,worker,label` (values read as strings)
  --npz FILE       integer-coded labels: arrays `items`, `workers`, `labels` (synthetic data);
                   for --pairwise: arrays `left`, `right`, `winner` (0 = left won,
                   1 = right won, 2 = tie: ties are dropped, crowd-kit has no tie outcome)

Methods (crowd-kit classes with their DEFAULT parameters):
  mv MajorityVote, wawa Wawa, ds DawidSkene, onecoin OneCoinDawidSkene, glad GLAD, mace MACE,
  zbs ZeroBasedSkill, kos KOS (binary only), mmsr MMSR; pairwise: bt BradleyTerry. BradleyTerry
  has no default for `n_iter`, so it gets n_iter=100, the value crowd-kit's own examples use.

Measurement:
  * `seconds` is the wall time (time.perf_counter) of `fit_predict()` only (crowd-kit's Wawa
    computes its labels in `predict`, so `fit` alone would not be comparable): reading the
    file and building the pandas DataFrame are excluded. With --runs N the method is fitted
    N times (fewer when --time-budget seconds are used up first: at least once) and `seconds`
    is the median (`all_seconds` lists each run). Before the timed runs
    every method is fitted once on a small slice (--warmup, default 1000 rows) so lazy
    imports and first-call costs are not timed, the same as on Handloom's side.
  * `peak_rss_mb` is the process's peak resident set (VmHWM in /proc/self/status, or
    `resource.getrusage(RUSAGE_SELF).ru_maxrss` where /proc is missing) read after the
    method's runs, and `rss_before_mb` is the same figure read just before them;
    `peak_rss_delta_mb` is the difference. VmHWM rather than ru_maxrss because Linux carries
    ru_maxrss across fork and exec: a child's ru_maxrss starts at its parent's resident set.
    Either is a process-lifetime maximum, so it is only a clean per-method figure when the
    process runs a single method: the benchmark starts one process per method for the
    synthetic sets.

Output: one JSON object on stdout:
  {"crowdkit_version": ..., "n_labels": ..., "methods": {name: {"seconds": ..., "all_seconds":
   [...], "peak_rss_mb": ..., "rss_before_mb": ..., "peak_rss_delta_mb": ...,
   "pred": {item: label} (CSV input) or [label code per item, -1 if unanswered] (npz input),
   "scores": [score per object] (bt)} | {"error": "..."}}}
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

METHOD_CLASSES = {
    "mv": "MajorityVote",
    "wawa": "Wawa",
    "ds": "DawidSkene",
    "onecoin": "OneCoinDawidSkene",
    "glad": "GLAD",
    "mace": "MACE",
    "zbs": "ZeroBasedSkill",
    "kos": "KOS",
    "mmsr": "MMSR",
}
BT_N_ITER = 100


def rss_mb() -> float:
    """Peak resident set of this process in MiB: VmHWM from /proc/self/status, else ru_maxrss.

    VmHWM belongs to the process's own address space. ru_maxrss is not clean in a child: Linux
    carries the high-water mark across fork and exec, so a child's ru_maxrss starts at its
    parent's resident set and a small method would report the parent's memory."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_estimator(name: str) -> Any:
    import crowdkit.aggregation as agg

    if name == "bt":
        return agg.BradleyTerry(n_iter=BT_N_ITER)
    return getattr(agg, METHOD_CLASSES[name])()


def load_categorical(args: argparse.Namespace) -> tuple[pd.DataFrame, int | None]:
    if args.csv:
        df = pd.read_csv(args.csv, dtype=str, keep_default_na=False)
        df = df.rename(columns={"item": "task"})[["task", "worker", "label"]]
        return df, None
    z = np.load(args.npz)
    df = pd.DataFrame({"task": z["items"], "worker": z["workers"], "label": z["labels"]})
    n_items = int(z["n_items"]) if "n_items" in z.files else int(df["task"].max()) + 1
    return df, n_items


def load_pairwise(args: argparse.Namespace) -> tuple[pd.DataFrame, int]:
    z = np.load(args.npz)
    left, right, winner = z["left"], z["right"], z["winner"]
    keep = winner != 2
    left, right, winner = left[keep], right[keep], winner[keep]
    label = np.where(winner == 0, left, right)
    df = pd.DataFrame({"worker": np.zeros(len(left), dtype=np.int64), "left": left,
                       "right": right, "label": label})
    n_objects = int(z["n_objects"]) if "n_objects" in z.files else int(
        max(left.max(), right.max())) + 1
    return df, n_objects


def run_method(name: str, df: pd.DataFrame, runs: int, warmup: int,
               budget: float = float("inf")) -> tuple[Any, dict[str, Any]]:
    if warmup > 0:
        make_estimator(name).fit_predict(df.iloc[:warmup].copy())
    before = rss_mb()
    times: list[float] = []
    est: Any = None
    result: Any = None
    for _ in range(runs):
        est = make_estimator(name)
        t0 = time.perf_counter()
        result = est.fit_predict(df)
        times.append(time.perf_counter() - t0)
        if sum(times) > budget:
            break
    peak = rss_mb()
    info = {"seconds": statistics.median(times), "all_seconds": times, "peak_rss_mb": peak,
            "rss_before_mb": before, "peak_rss_delta_mb": peak - before}
    return (est, result), info


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--csv", help="labels CSV: item,worker,label")
    src.add_argument("--npz", help="integer-coded labels (or comparisons with --pairwise)")
    p.add_argument("--methods", default="mv,wawa,ds,onecoin,glad,mace",
                   help="comma-separated: " + ",".join(METHOD_CLASSES) + " (or bt)")
    p.add_argument("--pairwise", action="store_true", help="run BradleyTerry on comparisons")
    p.add_argument("--runs", type=int, default=1, help="fits per method; median time reported")
    p.add_argument("--time-budget", type=float, default=float("inf"),
                   help="stop repeating a method's fits once they took this many seconds")
    p.add_argument("--warmup", type=int, default=1000, help="rows in the untimed warm-up fit")
    p.add_argument("--no-pred", action="store_true", help="omit per-item predictions")
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore")

    import crowdkit

    out: dict[str, Any] = {"crowdkit_version": getattr(crowdkit, "__version__", None),
                           "pandas_version": pd.__version__, "numpy_version": np.__version__,
                           "methods": {}}
    if not out["crowdkit_version"]:
        from importlib.metadata import version

        out["crowdkit_version"] = version("crowd-kit")

    if args.pairwise:
        df, n_objects = load_pairwise(args)
        out["n_comparisons"] = len(df)
        (est, s), info = run_method("bt", df, args.runs, args.warmup, args.time_budget)
        scores = np.full(n_objects, np.nan)
        scores[s.index.to_numpy(dtype=np.int64)] = s.to_numpy(dtype=float)
        info["scores"] = [None if np.isnan(v) else float(v) for v in scores]
        info["n_iter_run"] = len(getattr(est, "loss_history_", []) or [])
        out["methods"]["bt"] = info
        print(json.dumps(out))
        return 0

    df, n_items = load_categorical(args)
    out["n_labels"] = len(df)
    for name in [m for m in args.methods.split(",") if m]:
        if name not in METHOD_CLASSES:
            out["methods"][name] = {"error": f"unknown method {name!r}"}
            continue
        try:
            (est, labels), info = run_method(name, df, args.runs, args.warmup,
                                              args.time_budget)
        except Exception as exc:  # a peer failure is reported, not fatal
            out["methods"][name] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        if not args.no_pred:
            if n_items is None:
                info["pred"] = {str(k): str(v) for k, v in labels.items()}
            else:
                pred = np.full(n_items, -1, dtype=np.int64)
                pred[labels.index.to_numpy(dtype=np.int64)] = labels.to_numpy(dtype=np.int64)
                info["pred"] = pred.tolist()
        for attr in ("loss_history_", "log_likelihood_"):
            hist = getattr(est, attr, None)
            if hist is not None and hasattr(hist, "__len__"):
                info["n_iter_run"] = len(hist)
                break
        out["methods"][name] = info
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
