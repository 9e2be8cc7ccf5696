"""Krippendorff's alpha on large sparse reliability data: handloom against the ``krippendorff``
package, at all four levels of measurement.

The data (deterministic seed) stand for a big crowdsourcing project: C coders (default
1,000) and U units (default 100,000), each coder answering each unit with probability
``--density`` (default 0.01, so about 10 answers per unit, a generous redundancy for paid
annotation; each coder answers about 1,000 units). Every unit has a true grade on a 1..5
scale and each coder reports it with their own Gaussian noise (sigma 0.3 to 1.5), rounded
and clipped, so alpha is far from 0 and 1 and the ordinal, interval and ratio levels differ.

Each side gets its natural input, built outside the timing: handloom the three answer
columns (item, coder, value; about a million rows by default), the peer a dense coders ×
units matrix with NaN for missing (``reliability_data``, what its docs lead with). The peer
also accepts a units × values count matrix (``value_counts``), which skips its most costly
step; that path is timed too, its counts built outside the timing, and the speed-up is
also reported against whichever peer path is faster. Each level first checks that the three
figures agree to 1e-9, then times the median of ``--runs`` runs. Handloom's bootstrap CI
(``--n-boot`` replicates resampling units, which the peer does not offer) is timed once.

The last line printed is one JSON object:

  {"metric": "krippendorff_alpha", "coders": 1000, "units": 100000, ..., "levels":
   {"nominal": {"ours_s": …, "peer_s": …, "peer_value_counts_s": …, "speedup": …,
   "speedup_vs_fastest_peer": …, "max_abs_diff": …, ...}, ...}, "met": true}

``met`` is true when every level agrees to 1e-9 and handloom is faster than the peer's
faster path at every level.

Usage: python benchmarks/bench_agreement.py [--coders 1000] [--units 100000]
       [--density 0.01] [--runs 5] [--n-boot 1000] [--quick]
(needs the bench extra: pip install -e '.[bench]')
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from handloom.quality.agreement import LEVELS, Level, bootstrap_ci, krippendorff_alpha

SEED = 20240611
SCALE = 5  # grades 1..5
TOLERANCE = 1e-9


def generate(coders: int, units: int, density: float,
             seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Answer columns (items, coders, values), sorted by unit, for the sparse design above."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, SCALE + 1, units)
    noise = rng.uniform(0.3, 1.5, coders)
    items, workers = [], []
    step = max(1, (1 << 24) // max(coders, 1))
    for start in range(0, units, step):
        stop = min(units, start + step)
        unit, coder = np.nonzero(rng.random((stop - start, coders)) < density)
        items.append(unit + start)
        workers.append(coder)
    item = np.concatenate(items).astype(np.int64)
    worker = np.concatenate(workers).astype(np.int64)
    grade = truth[item] + rng.normal(0.0, 1.0, len(item)) * noise[worker]
    values = np.clip(np.round(grade), 1, SCALE).astype(np.float64)
    return item, worker, values


def timed(fn: Callable[[], float], runs: int) -> tuple[float, float]:
    """Median wall seconds of *runs* calls, and the value of the last one."""
    times = []
    value = float("nan")
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--coders", type=int, default=1000, help="coders (workers)")
    parser.add_argument("--units", type=int, default=100_000, help="units (items)")
    parser.add_argument("--density", type=float, default=None,
                        help="share of the coders × units cells answered (default 0.01; "
                             "0.05 with --quick: 10 answers per unit either way)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs (median reported)")
    parser.add_argument("--n-boot", type=int, default=1000,
                        help="bootstrap replicates for handloom's CI timing (0: skip)")
    parser.add_argument("--quick", action="store_true",
                        help="200 coders × 10,000 units, 3 runs, 200 replicates")
    args = parser.parse_args()
    if args.quick:
        args.coders, args.units, args.runs, args.n_boot = 200, 10_000, 3, 200
    if args.density is None:
        args.density = 0.05 if args.quick else 0.01
    runs = max(1, args.runs)
    try:
        import krippendorff
    except ImportError:
        raise SystemExit("the peer is not installed: pip install -e '.[bench]'") from None

    t0 = time.perf_counter()
    items, workers, values = generate(args.coders, args.units, args.density)
    reliability = np.full((args.coders, args.units), np.nan)
    reliability[workers, items] = values
    domain = np.arange(1, SCALE + 1, dtype=np.float64)
    value_counts = np.bincount(items * SCALE + (values.astype(np.int64) - 1),
                               minlength=args.units * SCALE).reshape(args.units, SCALE)
    print(f"generated {len(items):,} answers: {args.coders:,} coders × {args.units:,} units, "
          f"density {args.density:g} ({len(items) / args.units:.1f} answers per unit); "
          f"peer matrix {reliability.nbytes / 1e6:,.0f} MB; "
          f"({time.perf_counter() - t0:.1f} s)", flush=True)

    report: dict[str, dict[str, Any]] = {}
    for level in LEVELS:
        def ours(level: Level = level) -> float:
            return krippendorff_alpha(items, workers, values, level=level,
                                      n_items=args.units, n_workers=args.coders)

        def peer(level: Level = level) -> float:
            return float(krippendorff.alpha(reliability_data=reliability,
                                            level_of_measurement=level))

        def peer_counts(level: Level = level) -> float:
            return float(krippendorff.alpha(value_counts=value_counts, value_domain=domain,
                                            level_of_measurement=level))

        ours_s, ours_alpha = timed(ours, runs)
        peer_s, peer_alpha = timed(peer, runs)
        counts_s, counts_alpha = timed(peer_counts, runs)
        diff = max(abs(ours_alpha - peer_alpha), abs(ours_alpha - counts_alpha))
        row: dict[str, Any] = {
            "alpha": round(ours_alpha, 12), "ours_s": round(ours_s, 4),
            "peer_s": round(peer_s, 4), "peer_value_counts_s": round(counts_s, 4),
            "speedup": round(peer_s / ours_s, 2),
            "speedup_vs_fastest_peer": round(min(peer_s, counts_s) / ours_s, 2),
            "max_abs_diff": diff,
        }
        line = (f"{level:>8}: alpha {ours_alpha:.6f}  |diff| {diff:.1e}  handloom "
                f"{ours_s * 1e3:7.1f} ms  peer {peer_s * 1e3:8.1f} ms  "
                f"peer value_counts {counts_s * 1e3:7.1f} ms")
        if args.n_boot > 0:
            def boot(level: Level = level) -> float:
                return bootstrap_ci(krippendorff_alpha, items, workers, values, level=level,
                                    n_boot=args.n_boot)[0]

            boot_s, _ = timed(boot, 1)
            row["ours_bootstrap_s"] = round(boot_s, 3)
            line += f"  handloom {args.n_boot}-replicate CI {boot_s:.2f} s"
        report[level] = row
        print(line, flush=True)
        if diff > TOLERANCE:
            print(f"         MISMATCH at {level}: handloom {ours_alpha!r}, peer {peer_alpha!r}, "
                  f"peer value_counts {counts_alpha!r}")

    print(f"{'level':>8} {'handloom s':>11} {'peer s':>9} {'peer vc s':>10} "
          f"{'peer/ours':>10} {'fastest/ours':>13}")
    for name, row in report.items():
        print(f"{name:>8} {row['ours_s']:>11.4f} {row['peer_s']:>9.4f} "
              f"{row['peer_value_counts_s']:>10.4f} {row['speedup']:>10.2f} "
              f"{row['speedup_vs_fastest_peer']:>13.2f}")
    met = all(r["max_abs_diff"] <= TOLERANCE and r["speedup_vs_fastest_peer"] > 1.0
              for r in report.values())
    print(json.dumps({"metric": "krippendorff_alpha", "coders": args.coders,
                      "units": args.units, "density": args.density, "answers": len(items),
                      "runs": runs, "n_boot": args.n_boot, "levels": report, "met": met}))


if __name__ == "__main__":
    main()
