"""Client-side costs: LightGBM autologging overhead and background ``log_metric`` throughput.

* ``lightgbm_autolog_1000_rounds``: one LightGBM training of 1,000 rounds on breast-cancer data
  with a validation set, without and with ``runyard.lightgbm.autolog()`` (file store); the
  ratio is the overhead (target: at most 1.5x).
* ``xgboost_autolog_1000_rounds``: the same for XGBoost (``xgboost.train`` with a validation
  set and early stopping that does not trigger), plain, with ``runyard.xgboost.autolog()`` and
  with ``mlflow.xgboost.autolog()``, each in its own process; the ratio is runyard's time over
  MLflow's. Each autologged process checks that its run holds the training's metrics.
* ``async_log_metric_calls_per_s``: ``runyard.log_metric(..., synchronous=False)`` calls per
  second accepted into the queue from user code, next to MLflow's
  ``mlflow.log_metric(..., synchronous=False)`` (target: 100,000/s); also the bare
  ``async_logging.submit`` path and the end-to-end rate until everything is stored.

Run: ``python -m bench.bench_client [--quick]``; writes ``bench-output/client.json``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from typing import Any

from bench.common import markdown_table, write_json

AUTOLOG_SCRIPT = textwrap.dedent(
    """
    import gc, sys, time
    import lightgbm as lgb
    from sklearn.datasets import load_breast_cancer
    import runyard
    mode, rounds = sys.argv[1], int(sys.argv[2])
    runyard.set_tracking_uri(sys.argv[3])
    X, y = load_breast_cancer(return_X_y=True)
    train, valid = lgb.Dataset(X[:450], y[:450]), lgb.Dataset(X[450:], y[450:])
    params = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "verbose": -1}
    if mode == "autolog":
        runyard.lightgbm.autolog()
    lgb.train(params, train, 10, valid_sets=[valid])  # warm-up: imports, thread pools
    # Fresh datasets, as a user's training has: LightGBM frees a constructed dataset's raw
    # data, and autologging logs a dataset (digest, schema, profile) only while it has them.
    train, valid = lgb.Dataset(X[:450], y[:450]), lgb.Dataset(X[450:], y[450:])
    # The imports leave a young heap: the first burst of allocations after them (autologging's,
    # here) would pay a full collection of it. Collected first in both modes, as timeit does.
    gc.collect()
    start = time.perf_counter()
    lgb.train(params, train, rounds, valid_sets=[valid])
    print(time.perf_counter() - start)
    """
)

XGBOOST_SCRIPT = textwrap.dedent(
    """
    import gc, sys, time
    import xgboost as xgb
    from sklearn.datasets import load_breast_cancer
    mode, rounds = sys.argv[1], int(sys.argv[2])
    if mode == "plain":
        lib = None
    else:
        lib = __import__(mode)
        __import__(mode + ".xgboost")
        lib.set_tracking_uri(sys.argv[3])
        lib.xgboost.autolog()
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    params = {"objective": "binary:logistic", "eta": 0.05, "max_depth": 4, "nthread": 2}

    def train(count):
        dtrain = xgb.DMatrix(X[:450], y[:450])
        evals = [(xgb.DMatrix(X[450:], y[450:]), "valid")]
        return xgb.train(params, dtrain, count, evals=evals, early_stopping_rounds=count,
                         verbose_eval=False)

    train(10)  # warm-up: imports, thread pools, the store
    gc.collect()
    start = time.perf_counter()
    train(rounds)
    elapsed = time.perf_counter() - start
    logged = 0
    if lib is not None:
        run = lib.last_active_run()
        logged = len(lib.MlflowClient().get_metric_history(run.info.run_id, "valid-logloss"))
    print(elapsed, logged)
    """
)

ASYNC_SCRIPT = textwrap.dedent(
    """
    import sys, time
    which, calls = sys.argv[1], int(sys.argv[2])
    if which == "mlflow":
        import mlflow as lib
    else:
        import runyard as lib
        from runyard.tracking import async_logging
    lib.set_tracking_uri(sys.argv[3])
    run = lib.start_run()
    lib.log_metric("warmup", 0.0, step=0, synchronous=False)
    start = time.perf_counter()
    for i in range(calls):
        lib.log_metric("loss", 0.5, step=i, synchronous=False)
    accepted = time.perf_counter() - start
    if which == "runyard-submit":
        from runyard.entities import Metric
        client, rid = lib.Client(), run.info.run_id
        points = [Metric("raw", 0.5, 0, i) for i in range(calls)]
        start = time.perf_counter()
        for p in points:
            async_logging.submit(client, rid, [p])
        accepted = time.perf_counter() - start
    lib.end_run()
    total = time.perf_counter() - start
    print(accepted, total)
    """
)


def _python(code: str, *args: str, cwd: str | None = None) -> str:
    """The last line ``code`` prints, run with ``args`` in a fresh interpreter (in ``cwd``:
    a store's default artifact root, ``./mlruns``, is relative to it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNYARD_", "MLFLOW_"))}
    env["RUNYARD_ASYNC_LOGGING_QUEUE_SIZE"] = "10000000"
    env["MLFLOW_ALLOW_FILE_STORE"] = "true"
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return done.stdout.strip().splitlines()[-1]


def bench_autolog(rounds: int, repeats: int) -> dict[str, Any]:
    timings: dict[str, list[float]] = {"plain": [], "autolog": []}
    for _ in range(repeats):
        for mode in ("plain", "autolog"):
            with tempfile.TemporaryDirectory() as tmp:
                uri = "file:" + os.path.join(tmp, "mlruns")
                timings[mode].append(float(_python(AUTOLOG_SCRIPT, mode, str(rounds), uri)))
    plain, logged = min(timings["plain"]), min(timings["autolog"])
    ratio = logged / plain
    return {
        "workload": f"lightgbm_autolog_{rounds}_rounds",
        "engine": "file",
        "plain_s": round(plain, 3),
        "runyard": round(logged, 3),
        "mlflow": "-",
        "unit": "s",
        "ratio": round(ratio, 3),
        "overhead_percent": round(100 * (ratio - 1), 1),
        "target": "<= 1.5x plain",
        "met": ratio <= 1.5,
    }


def bench_xgboost_autolog(rounds: int, repeats: int) -> dict[str, Any]:
    """Best of ``repeats`` processes per mode; an autologged process must have logged every
    round's validation metric, else the figure would time nothing."""
    timings: dict[str, list[float]] = {"plain": [], "runyard": [], "mlflow": []}
    for _ in range(repeats):
        for mode in timings:
            with tempfile.TemporaryDirectory() as tmp:
                uri = "sqlite:///" + os.path.join(tmp, "runs.db")
                elapsed, logged = _python(XGBOOST_SCRIPT, mode, str(rounds), uri, cwd=tmp).split()
            if mode != "plain" and int(logged) < rounds:
                raise RuntimeError(f"{mode} autologging logged {logged} of {rounds} points")
            timings[mode].append(float(elapsed))
    plain, ours, theirs = (min(timings[mode]) for mode in ("plain", "runyard", "mlflow"))
    return {
        "workload": f"xgboost_autolog_{rounds}_rounds",
        "engine": "sqlite",
        "plain_s": round(plain, 3),
        "runyard": round(ours, 3),
        "mlflow": round(theirs, 3),
        "unit": "s",
        "ratio": round(ours / theirs, 3),
        "runyard_over_plain": round(ours / plain, 3),
        "mlflow_over_plain": round(theirs / plain, 3),
        "target": "<= 1.5x plain",
        "met": ours / plain <= 1.5,
    }


def bench_async(calls: int) -> dict[str, Any]:
    rates = {}
    totals = {}
    for which in ("runyard", "mlflow", "runyard-submit"):
        with tempfile.TemporaryDirectory() as tmp:
            uri = "file:" + os.path.join(tmp, "mlruns")
            accepted, total = (
                float(v) for v in _python(ASYNC_SCRIPT, which, str(calls), uri).split()
            )
        rates[which] = calls / accepted
        totals[which] = calls / total
    return {
        "workload": "async_log_metric_calls_per_s",
        "engine": "file",
        "runyard": round(rates["runyard"]),
        "mlflow": round(rates["mlflow"]),
        "unit": "calls/s",
        "ratio": round(rates["runyard"] / rates["mlflow"], 2),
        "submit_only_calls_per_s": round(rates["runyard-submit"]),
        "runyard_end_to_end_calls_per_s": round(totals["runyard"]),
        "mlflow_end_to_end_calls_per_s": round(totals["mlflow"]),
        "target": ">= 100000 calls/s",
        "met": rates["runyard"] >= 100_000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls")
    args = parser.parse_args(argv)
    rounds = 200 if args.quick else 1000
    calls = 20_000 if args.quick else 200_000
    started = time.time()
    repeats = 1 if args.quick else 3
    rows = [
        bench_autolog(rounds, repeats),
        bench_xgboost_autolog(rounds, repeats),
        bench_async(calls),
    ]
    columns = ["workload", "engine", "runyard", "mlflow", "unit", "ratio", "target", "met"]
    print(markdown_table(rows, columns))
    extra = {k: v for row in rows for k, v in row.items() if k not in columns}
    print(extra)
    write_json("client.json", {"rows": rows, "quick": args.quick, "seconds": time.time() - started})
    return 0


if __name__ == "__main__":
    sys.exit(main())
