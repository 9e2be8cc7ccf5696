"""Truth inference: Handloom's estimators against crowd-kit 1.4.2, accuracy and speed.

What it measures, all in one run:

1. Real data. Every categorical set in ``../shared/data/aggregation/`` (the folders not
   starting with ``num_``; ``labels.csv`` item,worker,label and ``gold.csv`` item,label). Each
   method (mv, wawa, ds, onecoin, glad, mace) runs with its defaults on our side and with
   crowd-kit's defaults on the peer side. Accuracy is the share of gold items that have at
   least one answer whose predicted label equals the gold label, computed here, the same way,
   from both sides' per-item predictions. Printed per (set, method): our accuracy, crowd-kit's,
   the difference in percentage points, crowd-kit's published figure
   (``crowdkit_accuracy.json``), both wall times and the speed-up (crowd-kit s / ours s). Then
   the mean accuracy of each method over the sets, and our DEFAULT_METHOD per set and on mean
   next to every crowd-kit method's mean (ZeroBasedSkill is measured on the peer side too,
   for that comparison only).
2. Synthetic speed and memory: 1,000,000 labels (100,000 items, 1,000 workers, 5 classes,
   10 distinct workers per item; seeded: one-coin workers with Beta-distributed accuracy,
   spammers, class-confusing workers, a non-uniform class prior, uneven worker activity).
   Written once to an .npz in a temporary folder that both sides read. Every method on each
   side runs in its own fresh process; the time is the median of the ``fit`` calls (reading
   the file excluded, one untimed warm-up fit on 1,000 rows first, on both sides) and the
   memory is that process's peak resident set (VmHWM from ``/proc/self/status``, which is
   ``ru_maxrss`` without the parent's resident set that Linux carries into a child's
   ``ru_maxrss``; it includes the interpreter, the libraries and the loaded data). Accuracy
   against the generated truth is printed too.
3. Bradley-Terry on a synthetic pairwise set (1,000 objects, 200,000 comparisons, Davidson
   ties). crowd-kit has no tie outcome, so it gets the comparisons without ties; ours runs on
   all of them and, for a like-for-like time, on the tie-free set too. Printed: times, ratio
   and the Spearman correlation of each side's scores with the true latent strengths.

The last line printed is one JSON object with every figure and the acceptance criteria:
``accuracy_within_0_5pp`` (ours >= crowd-kit - 0.5 pp on every set and method),
``speedup_20x`` (every method >= 20x faster than crowd-kit's on the synthetic set),
``memory_under_1gb`` (every one of our method processes peaks under 1 GiB) and
``default_beats_every_crowdkit_mean`` (our default method's mean accuracy over the real sets
is above every crowd-kit method's mean); ``all_met`` is their conjunction.

How to run it::

    python benchmarks/bench_aggregation.py              # everything (see Time below)
    python benchmarks/bench_aggregation.py --peer-cache # reuse crowd-kit's synthetic timings
    python benchmarks/bench_aggregation.py --quick      # 100k synthetic labels
    python benchmarks/bench_aggregation.py --skip-synthetic --methods ds,glad

The first run creates the peer environment ``.venv-peers/crowdkit`` (python3.11 -m venv, then
``pip install -r benchmarks/peers/crowdkit-requirements.txt``: about a minute) and reuses it
after that (it is rebuilt when the requirements file changes). crowd-kit runs there through
``benchmarks/peers/crowdkit_runner.py``, with its default parameters (BradleyTerry, which has
no default ``n_iter``, gets 100).

Repetitions: ``--runs N`` (default 3) timed fits per method on our side, median reported. On
the real sets crowd-kit fits each method ``--peer-runs`` times (default 1). On the synthetic
set crowd-kit repeats a fit up to ``--runs`` times but stops once its fits have taken
``--peer-time-budget`` seconds (default 60), so MV, Wawa, DS and OneCoinDS get 3 runs and
GLAD and MACE one.

Time (2 cores, measured): the real sets ~6 min (crowd-kit's GLAD and MACE dominate; our side
takes seconds). On the 1M-label synthetic set crowd-kit's MV, Wawa, DS and OneCoinDS take
~3 min together, MACE ~8 min and GLAD ~44 min (2,662 s for 16 iterations, 2.2 GB peak).
A crowd-kit process on the synthetic set is stopped after ``--peer-timeout`` seconds
(default 1200, 0 for none); its time and the speed-up are then printed as lower bounds (">"),
which can prove the 20x target but not disprove it. So the default full run takes ~40 min
(~65 min with ``--peer-timeout 0``); Bradley-Terry takes under a minute. ``--quick`` takes
~15 min (crowd-kit's GLAD on 100k labels ~5 min).

The peer's synthetic results are saved to ``.venv-peers/crowdkit-synthetic.json`` keyed by
crowd-kit version and data hash (a lower bound never replaces a complete measurement there).
``--peer-cache`` (optionally with a file) reuses them instead of re-measuring: the full run
then takes ~10 min. ``--remeasure-peer`` forces a new measurement even then. The table and the
JSON say which figures came from the cache. ``--strict`` exits 1 when a criterion fails.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT.parent / "shared" / "data" / "aggregation"
PEER_ENV = ROOT / ".venv-peers" / "crowdkit"
PEER_PY = PEER_ENV / "bin" / "python"
PEER_REQS = ROOT / "benchmarks" / "peers" / "crowdkit-requirements.txt"
PEER_RUNNER = ROOT / "benchmarks" / "peers" / "crowdkit_runner.py"
PEER_STAMP = PEER_ENV / ".requirements-sha256"
DEFAULT_CACHE = ROOT / ".venv-peers" / "crowdkit-synthetic.json"

# Our method name -> the name crowd-kit's figures use (crowdkit_accuracy.json).
METHOD_NAMES = {"mv": "MV", "wawa": "Wawa", "ds": "DS", "onecoin": "OneCoinDS", "glad": "GLAD",
                "mace": "MACE"}
PEER_ONLY = {"zbs": "ZBS"}  # crowd-kit methods measured only for the mean comparison
ACC_TOLERANCE_PP = 0.5
SPEEDUP_TARGET = 20.0
MEMORY_LIMIT_MB = 1024.0
WARMUP_ROWS = 1000  # untimed warm-up fit before the synthetic timings, both sides
REAL_WARMUP_ROWS = 100  # crowd-kit's warm-up on a real set (ours: the median of --runs)


def log(msg: str = "") -> None:
    print(msg, flush=True)


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


def sha256_arrays(**arrays: np.ndarray) -> str:
    """Hash of the arrays' names, dtypes, shapes and contents (not of the .npz file, whose zip
    entries carry a timestamp)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
        h.update(a.tobytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- peer env


def ensure_peer_env() -> None:
    """Create `.venv-peers/crowdkit` with the pinned crowd-kit when missing or out of date."""
    want = hashlib.sha256(PEER_REQS.read_bytes()).hexdigest()
    if PEER_PY.exists() and PEER_STAMP.exists() and PEER_STAMP.read_text().strip() == want:
        return
    py = shutil.which("python3.11")
    if py is None and sys.version_info[:2] == (3, 11):
        py = sys.executable
    if py is None:
        raise SystemExit("python3.11 is needed to build the crowd-kit peer environment")
    log(f"creating the peer environment {PEER_ENV.relative_to(ROOT)} (crowd-kit 1.4.2) ...")
    t0 = time.perf_counter()
    if PEER_ENV.exists():
        shutil.rmtree(PEER_ENV)
    for cmd in ([py, "-m", "venv", str(PEER_ENV)],
                [str(PEER_PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "-r", str(PEER_REQS)]):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    PEER_STAMP.write_text(want + "\n")
    log(f"  done in {time.perf_counter() - t0:.0f} s")


class ChildTimeout(Exception):
    """A child ran past its time limit; `peak_rss_mb` is its high-water RSS when stopped."""

    def __init__(self, seconds: float, peak_rss_mb: float | None) -> None:
        super().__init__(f"stopped after {seconds:.0f} s")
        self.seconds = seconds
        self.peak_rss_mb = peak_rss_mb


def proc_peak_mb(pid: int) -> float | None:
    """VmHWM (peak resident set) of a running process, from /proc (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_json(cmd: list[str], what: str, timeout: float | None = None) -> dict[str, Any]:
    """Run a child that prints one JSON object as its last stdout line; past `timeout`
    seconds it is killed and ChildTimeout raised."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          cwd=ROOT) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            peak = proc_peak_mb(proc.pid)
            proc.kill()
            proc.communicate()
            raise ChildTimeout(float(timeout or 0), peak) from None
    lines = [ln for ln in stdout.splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}):\n{stderr[-3000:]}")
    return json.loads(lines[-1])


def run_peer(args: list[str], what: str, timeout: float | None = None) -> dict[str, Any]:
    return run_json([str(PEER_PY), str(PEER_RUNNER), *args], what, timeout)


def peer_version() -> str:
    out = subprocess.run([str(PEER_PY), "-c", "from importlib.metadata import version;"
                          "print(version('crowd-kit'))"], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


# --------------------------------------------------------------------------- our side


def _aggregate_api() -> Any:
    import handloom.quality.aggregate as agg

    return agg


def make_ours(name: str) -> Any:
    agg = _aggregate_api()
    if name == "bt":
        return agg.BradleyTerry(seed=0)
    try:
        return agg.make_aggregator(name, seed=0)
    except TypeError:
        return agg.make_aggregator(name)


def default_method() -> str:
    return str(_aggregate_api().DEFAULT_METHOD)


def our_methods() -> list[str]:
    return [str(m) for m in _aggregate_api().METHODS]


def encode(values: list[str]) -> tuple[np.ndarray, list[str]]:
    uniq, codes = np.unique(np.asarray(values, dtype=object).astype(str), return_inverse=True)
    return codes.astype(np.int64).reshape(-1), [str(v) for v in uniq]


def time_fits(name: str, runs: int, *fit_args: Any, **fit_kwargs: Any) -> tuple[Any, list[float]]:
    """Fit a fresh estimator `runs` times; return the last one and each fit's wall time."""
    times: list[float] = []
    est = None
    for _ in range(runs):
        est = make_ours(name)
        t0 = time.perf_counter()
        est.fit(*fit_args, **fit_kwargs)
        times.append(time.perf_counter() - t0)
    return est, times


# --------------------------------------------------------------------------- data


def real_sets(data_dir: Path) -> list[str]:
    if not data_dir.is_dir():
        return []
    return sorted(p.name for p in data_dir.iterdir()
                  if p.is_dir() and not p.name.startswith("num_")
                  and (p / "labels.csv").exists() and (p / "gold.csv").exists())


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def accuracy(pred: dict[str, str | None], gold: dict[str, str], answered: set[str]) -> float:
    """Share of gold items with at least one answer whose prediction equals the gold label."""
    keys = [k for k in gold if k in answered]
    if not keys:
        return float("nan")
    return sum(pred.get(k) == gold[k] for k in keys) / len(keys)


def generate_synthetic(path: Path, n_items: int, n_workers: int, n_classes: int,
                       per_item: int, seed: int) -> dict[str, Any]:
    """Seeded crowd: each item answered by `per_item` distinct workers. Workers are 60%
    one-coin (accuracy ~ Beta(3, 2.5), errors uniform over the other classes), 15% class
    confusers (accuracy ~ Beta(3, 2), 80% of their errors go to the next class) and 25%
    spammers (half uniform random, half always the same class). Worker activity is
    log-normal (sigma 0.7); the true class follows a geometric prior (ratio 0.7)."""
    rng = np.random.default_rng(seed)
    k = n_classes
    prior = 0.7 ** np.arange(k)
    prior /= prior.sum()
    truth = rng.choice(k, size=n_items, p=prior).astype(np.int64)

    kind = rng.choice(3, size=n_workers, p=[0.60, 0.15, 0.25])
    cm = np.empty((n_workers, k, k))
    eye = np.eye(k)
    off = (1.0 - eye) / max(k - 1, 1)
    nxt = np.roll(eye, 1, axis=1)  # class c -> c+1
    for w in range(n_workers):
        if kind[w] == 0:
            a = rng.beta(3, 2.5)
            cm[w] = a * eye + (1 - a) * off
        elif kind[w] == 1:
            a = rng.beta(3, 2)
            cm[w] = a * eye + (1 - a) * (0.8 * nxt + 0.2 * off)
        elif rng.random() < 0.5:
            cm[w] = np.full((k, k), 1.0 / k)
        else:
            cm[w] = np.zeros((k, k))
            cm[w][:, rng.integers(k)] = 1.0

    # `per_item` distinct workers per item, weighted by activity: Gumbel top-k, in chunks.
    log_act = rng.normal(0.0, 0.7, size=n_workers)
    workers = np.empty((n_items, per_item), dtype=np.int64)
    chunk = max(1, 4_000_000 // n_workers)
    for start in range(0, n_items, chunk):
        stop = min(n_items, start + chunk)
        keys = log_act + rng.gumbel(size=(stop - start, n_workers))
        workers[start:stop] = np.argpartition(-keys, per_item, axis=1)[:, :per_item]
    items = np.repeat(np.arange(n_items, dtype=np.int64), per_item)
    workers = workers.reshape(-1)
    cum = np.cumsum(cm[workers, truth[items]], axis=1)
    u = rng.random(len(items))
    labels = np.minimum((u[:, None] > cum).sum(axis=1), k - 1).astype(np.int64)
    order = rng.permutation(len(items))
    items, workers, labels = items[order], workers[order], labels[order]
    np.savez(path, items=items, workers=workers, labels=labels, truth=truth,
             n_items=n_items, n_workers=n_workers, n_classes=k)
    return {"n_labels": int(len(labels)), "n_items": n_items, "n_workers": n_workers,
            "n_classes": k, "per_item": per_item, "seed": seed,
            "workers_one_coin": int((kind == 0).sum()), "workers_confusing": int((kind == 1).sum()),
            "workers_spammers": int((kind == 2).sum()),
            "sha256": sha256_arrays(items=items, workers=workers, labels=labels, truth=truth)}


def generate_pairwise(path: Path, n_objects: int, n_comparisons: int, seed: int,
                      tie_weight: float = 0.3) -> dict[str, Any]:
    """Latent strengths ~ N(0, 1); random distinct pairs; Davidson model with ties:
    P(left) : P(right) : P(tie) = e^{s_l} : e^{s_r} : nu * e^{(s_l + s_r) / 2}."""
    rng = np.random.default_rng(seed)
    strength = rng.normal(0.0, 1.0, size=n_objects)
    left = rng.integers(n_objects, size=n_comparisons)
    right = (left + rng.integers(1, n_objects, size=n_comparisons)) % n_objects
    el, er = np.exp(strength[left]), np.exp(strength[right])
    et = tie_weight * np.sqrt(el * er)
    total = el + er + et
    u = rng.random(n_comparisons) * total
    winner = np.where(u < el, 0, np.where(u < el + er, 1, 2)).astype(np.int64)
    np.savez(path, left=left.astype(np.int64), right=right.astype(np.int64), winner=winner,
             strength=strength, n_objects=n_objects)
    return {"n_objects": n_objects, "n_comparisons": n_comparisons,
            "n_ties": int((winner == 2).sum()), "seed": seed,
            "sha256": sha256_arrays(left=left, right=right, winner=winner)}


# --------------------------------------------------------------------------- child mode


def child_main(args: argparse.Namespace) -> int:
    """One of our methods on one .npz, in this fresh process; prints one JSON line."""
    name = args.one_method
    z = np.load(args.data)
    out: dict[str, Any] = {"method": name}
    if name == "bt":
        left, right, winner = z["left"], z["right"], z["winner"]
        if args.drop_ties:
            keep = winner != 2
            left, right, winner = left[keep], right[keep], winner[keep]
        n_obj = int(z["n_objects"])
        make_ours("bt").fit(left[:WARMUP_ROWS], right[:WARMUP_ROWS], winner[:WARMUP_ROWS])
        before = rss_mb()
        est, times = time_fits("bt", args.runs, left, right, winner, n_objects=n_obj)
        out["scores"] = [float(v) for v in np.asarray(est.scores_, dtype=float)]
    else:
        items, workers, labels = z["items"], z["workers"], z["labels"]
        sizes = {"n_items": int(z["n_items"]), "n_workers": int(z["n_workers"]),
                 "n_classes": int(z["n_classes"])}
        make_ours(name).fit(items[:WARMUP_ROWS], workers[:WARMUP_ROWS], labels[:WARMUP_ROWS],
                            n_classes=sizes["n_classes"])
        before = rss_mb()
        est, times = time_fits(name, args.runs, items, workers, labels, **sizes)
        out["pred"] = np.asarray(est.labels_, dtype=np.int64).tolist()
    peak = rss_mb()
    out.update(seconds=statistics.median(times), all_seconds=times, peak_rss_mb=peak,
               rss_before_mb=before, peak_rss_delta_mb=peak - before)
    print(json.dumps(out))
    return 0


def run_ours_child(name: str, data: Path, runs: int, drop_ties: bool = False) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_one-method", name,
           "--_data", str(data), "--runs", str(runs)]
    if drop_ties:
        cmd.append("--_drop-ties")
    return run_json(cmd, f"our {name}")


# --------------------------------------------------------------------------- parts


def fmt_pct(x: float | None) -> str:
    return "    -" if x is None or x != x else f"{100 * x:5.1f}"


def fmt_s(x: float | None) -> str:
    if x is None:
        return "       -"
    if x < 1:
        return f"{x:8.4f}"
    return f"{x:8.2f}" if x < 100 else f"{x:8.1f}"


def fmt_x(x: float | None) -> str:
    """A speed-up, 8 wide."""
    if x is None:
        return "       -"
    return f"{x:7.1f}x" if x >= 1 else f"{x:7.2f}x"


def speedup(ours: float | None, peer: float | None) -> float | None:
    if ours is None or peer is None:
        return None
    return peer / max(ours, 1e-9)


def real_row(ds_name: str, label: str, e: dict[str, Any]) -> str:
    diff = e.get("diff_pp")
    ok = {True: "yes", False: "FAIL"}.get(e["ok"], "") if "ok" in e else ""
    return (f"{ds_name:<16} {label:<9} {fmt_pct(e['ours_acc'])} "
            f"{fmt_pct(e.get('crowdkit_acc'))} {'     -' if diff is None else f'{diff:+6.1f}'} "
            f"{fmt_pct(e.get('crowdkit_ref_acc'))} {fmt_s(e['ours_s'])} "
            f"{fmt_s(e.get('crowdkit_s'))} {fmt_x(e.get('speedup'))}  {ok}")


def bench_real(args: argparse.Namespace, methods: list[str], default: str) -> dict[str, Any]:
    sets = real_sets(args.data_dir)
    if not sets:
        log(f"no categorical sets under {args.data_dir}: real-data part skipped")
        return {"sets": {}, "skipped": True}
    ref_path = args.data_dir / "crowdkit_accuracy.json"
    ref = json.loads(ref_path.read_text()) if ref_path.exists() else {}
    ours_names = list(dict.fromkeys([*methods, default]))
    peer_names = [m for m in methods if m in METHOD_NAMES] + list(PEER_ONLY)
    results: dict[str, Any] = {}
    log("\n== Real data: accuracy on gold items (%) and fit time (s) ==")
    head = (f"{'set':<16} {'method':<9} {'ours':>5} {'ck':>5} {'diff':>6} {'ckref':>5} "
            f"{'ours s':>8} {'ck s':>8} {'speedup':>8}  ok")
    log(head)
    log("-" * len(head))
    for ds_name in sets:
        folder = args.data_dir / ds_name
        rows = read_csv(folder / "labels.csv")
        gold = {r["item"]: r["label"] for r in read_csv(folder / "gold.csv")}
        item_codes, item_vals = encode([r["item"] for r in rows])
        worker_codes, _ = encode([r["worker"] for r in rows])
        label_codes, classes = encode([r["label"] for r in rows])
        answered = set(item_vals)
        sizes = {"n_items": len(item_vals), "n_workers": int(worker_codes.max()) + 1,
                 "n_classes": len(classes)}

        peer = run_peer(["--csv", str(folder / "labels.csv"), "--methods", ",".join(peer_names),
                         "--runs", str(args.peer_runs), "--warmup", str(REAL_WARMUP_ROWS)],
                        f"crowd-kit on {ds_name}")
        set_res: dict[str, Any] = {"n_labels": len(rows), "n_gold_answered":
                                   sum(k in answered for k in gold), "methods": {}}
        for name in ours_names:
            est, times = time_fits(name, args.runs, item_codes, worker_codes, label_codes,
                                   **sizes)
            codes = np.asarray(est.labels_, dtype=np.int64)
            pred = {item_vals[i]: (classes[c] if c >= 0 else None) for i, c in enumerate(codes)}
            ours_acc = accuracy(pred, gold, answered)
            entry: dict[str, Any] = {"ours_acc": ours_acc, "ours_s": statistics.median(times)}
            ck = peer["methods"].get(name)
            if ck is not None and "error" not in ck:
                entry["crowdkit_acc"] = accuracy(ck["pred"], gold, answered)
                entry["crowdkit_s"] = ck["seconds"]
                entry["diff_pp"] = 100 * (ours_acc - entry["crowdkit_acc"])
                entry["speedup"] = speedup(entry["ours_s"], ck["seconds"])
                entry["ok"] = bool(entry["diff_pp"] >= -ACC_TOLERANCE_PP)
            elif ck is not None:
                entry["crowdkit_error"] = ck["error"]
            ref_acc = ref.get(ds_name, {}).get(METHOD_NAMES.get(name, ""))
            if ref_acc is not None:
                entry["crowdkit_ref_acc"] = ref_acc
            set_res["methods"][name] = entry
            log(real_row(ds_name, name if name in methods else f"{name}*", entry))
        for name in PEER_ONLY:
            ck = peer["methods"].get(name, {})
            if "error" in ck:
                set_res.setdefault("crowdkit_only", {})[name] = {"error": ck["error"]}
                continue
            set_res.setdefault("crowdkit_only", {})[name] = {
                "crowdkit_acc": accuracy(ck["pred"], gold, answered),
                "crowdkit_s": ck["seconds"],
                "crowdkit_ref_acc": ref.get(ds_name, {}).get(PEER_ONLY[name])}
        results[ds_name] = set_res
    return {"sets": results, "skipped": False}


def summarize_real(real: dict[str, Any], methods: list[str], default: str) -> dict[str, Any]:
    sets = real["sets"]
    if not sets:
        return {}

    def mean(values: list[float]) -> float | None:
        vals = [v for v in values if v is not None and v == v]
        return sum(vals) / len(vals) if len(vals) == len(values) and vals else None

    ours_means = {m: mean([s["methods"][m]["ours_acc"] for s in sets.values()])
                  for m in dict.fromkeys([*methods, default])}
    ck_means: dict[str, float | None] = {}
    for m in methods:
        if m in METHOD_NAMES:
            ck_means[m] = mean([s["methods"][m].get("crowdkit_acc") for s in sets.values()])
    for m in PEER_ONLY:
        ck_means[m] = mean([s.get("crowdkit_only", {}).get(m, {}).get("crowdkit_acc")
                            for s in sets.values()])

    log("\n== Real data: mean accuracy over the categorical sets (%) ==")
    log(f"{'method':<9} {'ours':>6} {'ck':>6} {'diff':>6}")
    for m in dict.fromkeys([*methods, *PEER_ONLY]):
        o, c = ours_means.get(m), ck_means.get(m)
        d = "     -" if o is None or c is None else f"{100 * (o - c):+6.1f}"
        log(f"{m:<9} {fmt_pct(o):>6} {fmt_pct(c):>6} {d}")

    default_acc = {n: s["methods"][default]["ours_acc"] for n, s in sets.items()}
    default_mean = ours_means[default]
    known = {m: v for m, v in ck_means.items() if v is not None}
    best = max(known, key=lambda m: known[m]) if known else None
    beats = bool(default_mean is not None and known
                 and all(default_mean > v for v in known.values()))
    log(f"\n== Our default method ({default!r}) per set vs crowd-kit's best method there ==")
    for n, s in sets.items():
        ck_set = {m: e.get("crowdkit_acc") for m, e in s["methods"].items()
                  if e.get("crowdkit_acc") is not None}
        ck_set.update({m: e.get("crowdkit_acc") for m, e in s.get("crowdkit_only", {}).items()
                       if e.get("crowdkit_acc") is not None})
        top = max(ck_set, key=lambda m: ck_set[m]) if ck_set else None
        top_txt = f"crowd-kit best {top} {fmt_pct(ck_set[top])}" if top else ""
        log(f"{n:<16} {fmt_pct(default_acc[n])}   {top_txt}")
    log(f"{'MEAN':<16} {fmt_pct(default_mean)}   vs crowd-kit means: "
        + ", ".join(f"{m} {fmt_pct(v).strip()}" for m, v in known.items())
        + f"  -> beats every crowd-kit mean: {'yes' if beats else 'NO'}")

    compared = [e for s in sets.values() for e in s["methods"].values() if "ok" in e]
    return {"ours_means": ours_means, "crowdkit_means": ck_means, "default_method": default,
            "default_acc": default_acc, "default_mean": default_mean,
            "best_crowdkit_method": best, "best_crowdkit_mean": known.get(best) if best else None,
            "accuracy_within_0_5pp": bool(compared) and all(e["ok"] for e in compared),
            "failures": [f"{n}/{m}" for n, s in sets.items() for m, e in s["methods"].items()
                         if e.get("ok") is False],
            "default_beats_every_crowdkit_mean": beats}


def load_cache(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def bench_synthetic(args: argparse.Namespace, methods: list[str], default: str,
                    tmp: Path) -> dict[str, Any]:
    n_items = 10_000 if args.quick else 100_000
    path = tmp / "synthetic.npz"
    t0 = time.perf_counter()
    info = generate_synthetic(path, n_items=n_items, n_workers=1000, n_classes=5, per_item=10,
                              seed=args.seed)
    log(f"\n== Synthetic: {info['n_labels']:,} labels ({n_items:,} items, 1,000 workers, "
        f"5 classes; {info['workers_one_coin']} one-coin, {info['workers_confusing']} confusing, "
        f"{info['workers_spammers']} spammers), generated in {time.perf_counter() - t0:.1f} s ==")
    truth = np.load(path)["truth"]
    version = peer_version()
    key = f"crowd-kit {version} | {info['sha256']}"
    cache_path = args.peer_cache or DEFAULT_CACHE
    cache = load_cache(cache_path)
    cached_entries = cache.get(key, {})
    head = (f"{'method':<9} {'ours s':>8} {'ck s':>8} {'speedup':>8} {'ours MB':>8} {'ck MB':>8} "
            f"{'ours acc':>8} {'ck acc':>8} {'ck runs':>7}  ok")
    log(head)
    log("-" * len(head))
    rows: dict[str, Any] = {}
    for name in dict.fromkeys([*methods, default]):
        ours = run_ours_child(name, path, args.runs)
        pred = np.asarray(ours.pop("pred"), dtype=np.int64)
        entry: dict[str, Any] = {"ours_s": ours["seconds"], "ours_all_s": ours["all_seconds"],
                                 "ours_peak_mb": ours["peak_rss_mb"],
                                 "ours_acc": float((pred == truth).mean())}
        if name in METHOD_NAMES:
            use_cache = (args.peer_cache is not None and not args.remeasure_peer
                         and name in cached_entries)
            if use_cache:
                ck = dict(cached_entries[name])
            else:
                try:
                    out = run_peer(["--npz", str(path), "--methods", name, "--runs",
                                    str(args.runs), "--time-budget", str(args.peer_time_budget)],
                                   f"crowd-kit {name} on the synthetic set",
                                   timeout=args.peer_timeout or None)
                    ck = out["methods"][name]
                except ChildTimeout as exc:
                    # A lower bound: the process (import, data, warm-up, fit) ran this long.
                    ck = {"seconds": exc.seconds, "all_seconds": [exc.seconds], "timed_out": True,
                          "peak_rss_mb": exc.peak_rss_mb, "accuracy": None}
                if "error" not in ck:
                    if "pred" in ck:
                        ck_pred = np.asarray(ck.pop("pred"), dtype=np.int64)
                        ck["accuracy"] = float((ck_pred == truth).mean())
                    ck["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
                    cache = load_cache(cache_path)  # merge, then save at once
                    prev = cache.get(key, {}).get(name)
                    if not (ck.get("timed_out") and prev and not prev.get("timed_out")):
                        cache.setdefault(key, {})[name] = ck  # a bound never hides a measure
                    cache_path.parent.mkdir(parents=True, exist_ok=True)
                    cache_path.write_text(json.dumps(cache, indent=1) + "\n")
            if "error" in ck:
                entry["crowdkit_error"] = ck["error"]
            else:
                entry.update(crowdkit_s=ck["seconds"], crowdkit_runs=len(ck["all_seconds"]),
                             crowdkit_peak_mb=ck["peak_rss_mb"], crowdkit_acc=ck["accuracy"],
                             crowdkit_cached=use_cache, crowdkit_n_iter=ck.get("n_iter_run"),
                             crowdkit_timed_out=bool(ck.get("timed_out")),
                             speedup=speedup(ours["seconds"], ck["seconds"]))
                # After a timeout crowd-kit's time and the speed-up are lower bounds: they can
                # prove the target, not disprove it.
                entry["speedup_ok"] = bool(entry["speedup"] >= SPEEDUP_TARGET)
        entry["memory_ok"] = bool(entry["ours_peak_mb"] < MEMORY_LIMIT_MB)
        rows[name] = entry
        flags = []
        if entry.get("speedup_ok") is False:
            flags.append("SLOW")
        if not entry["memory_ok"]:
            flags.append("MEM")
        label = name if name in methods else f"{name}*"
        cached = " (cached)" if entry.get("crowdkit_cached") else ""
        bound = entry.get("crowdkit_timed_out")
        if bound:
            cached += " (crowd-kit stopped at its time limit: its time is a lower bound)"
        ck_s, sp = fmt_s(entry.get("crowdkit_s")), fmt_x(entry.get("speedup"))
        if bound:
            ck_s, sp = (">" + ck_s.strip()).rjust(8), (">" + sp.strip()).rjust(8)
        log(f"{label:<9} {fmt_s(entry['ours_s'])} {ck_s} {sp} {entry['ours_peak_mb']:8.0f} "
            f"{entry.get('crowdkit_peak_mb') or float('nan'):8.0f} {fmt_pct(entry['ours_acc']):>8} "
            f"{fmt_pct(entry.get('crowdkit_acc')):>8} {entry.get('crowdkit_runs', '-'):>7}  "
            f"{' '.join(flags) or 'yes'}{cached}")
    compared = [e for e in rows.values() if "speedup_ok" in e]
    return {"data": info, "crowdkit_version": version, "cache_file": str(cache_path),
            "methods": rows,
            "speedup_20x": bool(compared) and all(e["speedup_ok"] for e in compared),
            "memory_under_1gb": all(e["memory_ok"] for e in rows.values()),
            "min_speedup": min((e["speedup"] for e in compared), default=None),
            "max_ours_peak_mb": max(e["ours_peak_mb"] for e in rows.values())}


def spearman(scores: list[float | None], truth: np.ndarray) -> float:
    from scipy.stats import spearmanr

    s = np.array([np.nan if v is None else v for v in scores], dtype=float)
    return float(spearmanr(s, truth, nan_policy="omit").statistic)


def bench_bt(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    n_obj, n_cmp = (200, 20_000) if args.quick else (1000, 200_000)
    path = tmp / "pairwise.npz"
    info = generate_pairwise(path, n_obj, n_cmp, seed=args.seed)
    strength = np.load(path)["strength"]
    log(f"\n== Bradley-Terry: {n_obj:,} objects, {n_cmp:,} comparisons "
        f"({info['n_ties']:,} ties, dropped for crowd-kit) ==")
    ours = run_ours_child("bt", path, args.runs)
    ours_nt = run_ours_child("bt", path, args.runs, drop_ties=True)
    peer = run_peer(["--npz", str(path), "--pairwise", "--runs", str(args.runs)],
                    "crowd-kit BradleyTerry")["methods"]["bt"]
    res = {"data": info,
           "ours_s": ours["seconds"], "ours_spearman": spearman(ours["scores"], strength),
           "ours_peak_mb": ours["peak_rss_mb"],
           "ours_no_ties_s": ours_nt["seconds"],
           "ours_no_ties_spearman": spearman(ours_nt["scores"], strength),
           "crowdkit_s": peer["seconds"], "crowdkit_spearman": spearman(peer["scores"], strength),
           "crowdkit_peak_mb": peer["peak_rss_mb"]}
    res["speedup"] = speedup(ours_nt["seconds"], peer["seconds"])
    log(f"{'side':<28} {'seconds':>8} {'spearman':>9} {'peak MB':>8}")
    log(f"{'ours (with ties)':<28} {fmt_s(res['ours_s'])} {res['ours_spearman']:9.4f} "
        f"{ours['peak_rss_mb']:8.0f}")
    log(f"{'ours (ties dropped)':<28} {fmt_s(res['ours_no_ties_s'])} "
        f"{res['ours_no_ties_spearman']:9.4f} {ours_nt['peak_rss_mb']:8.0f}")
    log(f"{'crowd-kit (ties dropped)':<28} {fmt_s(res['crowdkit_s'])} "
        f"{res['crowdkit_spearman']:9.4f} {peer['peak_rss_mb']:8.0f}")
    log("speed-up on the same tie-free data (crowd-kit s / ours s): "
        f"{fmt_x(res['speedup']).strip()}"
        "\nnote: crowd-kit 1.4.2's BradleyTerry(n_iter=100) stops after its 2nd iteration "
        "whatever n_iter is\n(its p_old aliases p_new, so the measured change is 0): its time "
        "is that of 2 MM steps.")
    return res


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="100k synthetic labels and a 20k-comparison pairwise set")
    p.add_argument("--skip-synthetic", action="store_true",
                   help="skip the synthetic speed/memory part and Bradley-Terry")
    p.add_argument("--skip-real", action="store_true", help="skip the real-data part")
    p.add_argument("--skip-bt", action="store_true", help="skip Bradley-Terry")
    p.add_argument("--methods", default=None,
                   help="comma-separated subset of mv,wawa,ds,onecoin,glad,mace (default: all)")
    p.add_argument("--runs", type=int, default=3,
                   help="timed fits per method on our side, and for crowd-kit's fast methods "
                        "on the synthetic set; the median is reported (default 3)")
    p.add_argument("--peer-runs", type=int, default=1,
                   help="timed fits per crowd-kit method on each real set (default 1)")
    p.add_argument("--peer-time-budget", type=float, default=60.0,
                   help="on the synthetic set crowd-kit repeats a method's fit (up to --runs) "
                        "only while its fits took less than this many seconds in all (default "
                        "60: the slow methods are fitted once)")
    p.add_argument("--peer-cache", type=Path, nargs="?", const=DEFAULT_CACHE, default=None,
                   help="reuse crowd-kit's synthetic figures cached in this file (default "
                        ".venv-peers/crowdkit-synthetic.json) for the same crowd-kit version and "
                        "data; what is measured is always written there")
    p.add_argument("--peer-timeout", type=float, default=1200.0,
                   help="stop a crowd-kit process on the synthetic set after this many seconds "
                        "and report its time as a lower bound (default 1200; 0: no limit)")
    p.add_argument("--remeasure-peer", action="store_true",
                   help="measure crowd-kit on the synthetic set even when cached")
    p.add_argument("--data-dir", type=Path, default=DATA_DIR,
                   help="folder of the real sets (default ../shared/data/aggregation)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic generators")
    p.add_argument("--strict", action="store_true", help="exit 1 when a criterion fails")
    p.add_argument("--_one-method", dest="one_method", help=argparse.SUPPRESS)
    p.add_argument("--_data", dest="data", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--_drop-ties", dest="drop_ties", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one_method:
        return child_main(args)
    t_start = time.perf_counter()
    ensure_peer_env()
    try:
        available = our_methods()
        default = default_method()
    except ImportError as exc:
        raise SystemExit(f"handloom.quality.aggregate is not importable: {exc}") from exc
    if args.methods:
        methods = [m.strip() for m in args.methods.split(",") if m.strip()]
        unknown = [m for m in methods if m not in available]
        if unknown:
            raise SystemExit(f"unknown method(s) {unknown}; ours are {available}")
    else:
        methods = [m for m in METHOD_NAMES if m in available]
    log(f"methods: {', '.join(methods)}; our default method: {default!r} (a row marked * is "
        f"the default method, run although not in --methods); runs: ours {args.runs}, "
        f"crowd-kit {args.peer_runs} on real sets")

    summary: dict[str, Any] = {"quick": args.quick, "methods": methods, "default_method": default,
                               "runs": args.runs, "peer_runs_real": args.peer_runs,
                               "peer_time_budget_synthetic_s": args.peer_time_budget,
                               "peer_timeout_synthetic_s": args.peer_timeout}
    if not args.skip_real:
        real = bench_real(args, methods, default)
        summary["real"] = real["sets"]
        summary.update(summarize_real(real, methods, default))
    with tempfile.TemporaryDirectory(prefix="bench-aggregation-") as tmpdir:
        tmp = Path(tmpdir)
        if not args.skip_synthetic:
            syn = bench_synthetic(args, methods, default, tmp)
            summary["synthetic"] = syn
            if not args.skip_bt:
                summary["bt"] = bench_bt(args, tmp)

    criteria = {
        "accuracy_within_0_5pp": summary.get("accuracy_within_0_5pp"),
        "speedup_20x": summary.get("synthetic", {}).get("speedup_20x"),
        "memory_under_1gb": summary.get("synthetic", {}).get("memory_under_1gb"),
        "default_beats_every_crowdkit_mean": summary.get("default_beats_every_crowdkit_mean"),
    }
    summary.update(criteria)
    summary["all_met"] = all(v is True for v in criteria.values())
    summary["elapsed_s"] = time.perf_counter() - t_start
    log("\n== Criteria ==")
    for k, v in criteria.items():
        log(f"{k:<36} {'pass' if v else ('not measured' if v is None else 'FAIL')}")
    if args.quick and criteria["speedup_20x"] is not None:
        log("(--quick: the speed and memory criteria are defined on the full 1M-label set)")
    log(f"elapsed: {summary['elapsed_s']:.0f} s")
    print(json.dumps(summary, default=float))
    return 1 if args.strict and not summary["all_met"] else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
