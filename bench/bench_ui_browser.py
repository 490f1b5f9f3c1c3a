"""The UI as a user feels it, in headless Chromium against a running ``runyard server``.

The server's data endpoints are compared with MLflow's in ``bench.bench_ui``; this measures what
the browser adds on top, at the issue's sizes:

* ``first_page``: an experiment of 100,000 runs (10,000 with --quick): navigation start to the
  runs table showing its first rows (``performance.now()`` in the page);
* ``sort``: a click on a metric's column header to the table showing the runs in that order;
* ``scroll``: scrolling through 1,000 rows, three rows per animation frame, the table fetching
  further pages as it goes; the longest frame, the 95th percentile and how many frames took
  over 50 ms (each frame's time is the gap between ``requestAnimationFrame`` callbacks, which
  grows by whatever blocked the page's main thread);
* ``chart_view``: the chart view of one metric over 100 runs of 10,000 points each (1,000 with
  --quick): navigation start to all 100 series drawn.

Targets (issue): first page <= 300 ms, sort <= 500 ms, no frame over 50 ms while scrolling,
chart view first paint <= 1.5 s. Figures are medians of three (scrolling: one pass of 1,000
rows). The machine's load during the run is printed beside them.

Run: ``python -m bench.bench_ui_browser [--quick]``; writes ``bench-output/ui_browser.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import markdown_table, p50, write_json
from bench.load import LoadProbe
from bench.server_procs import running_server

SORT_KEY = "accuracy"
CHART_KEY = "loss"
SCROLL_ROWS = 1000


@dataclass(frozen=True)
class Size:
    runs: int
    view_runs: int = 100
    view_points: int = 10_000
    repeats: int = 3


FULL = Size(runs=100_000)
QUICK = Size(runs=10_000, view_points=1_000)
#: For the smoke test: everything runs, nothing is big.
TINY = Size(runs=300, view_runs=5, view_points=50, repeats=1)

TARGETS_MS = {"first_page": 300.0, "sort": 500.0, "scroll": 50.0, "chart_view": 1500.0}

SCROLL_SCRIPT = """async ([rows, limitMs]) => {
  const wrap = document.querySelector('#runs-wrap');
  const first = document.querySelector('#runs-table tbody tr[data-run-id]');
  const rowHeight = first.getBoundingClientRect().height;
  const step = rowHeight * 3;
  const frames = [];
  const started = performance.now();
  let last = started;
  return await new Promise((resolve) => {
    function tick(now) {
      frames.push(now - last);
      last = now;
      const scrolled = wrap.scrollTop / rowHeight;
      if (scrolled >= rows || now - started > limitMs) {
        resolve({frames: frames.slice(1), rows: Math.floor(scrolled)});
        return;
      }
      wrap.scrollTop += step;  // stays put until the next page of runs has arrived
      requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
  });
}"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def populate(uri: str, artifacts: str, size: Size) -> tuple[str, str, str]:
    """The big experiment, the name of the run that sorts first, and the chart experiment."""
    from runyard.entities import Metric, Param
    from runyard.store.sql import SqlStore

    store = SqlStore(uri, artifacts)
    started = time.perf_counter()
    eid = store.create_experiment("ui-browser-bench")
    ts = 1_700_000_000_000
    for i in range(size.runs):
        run = store.create_run(eid, "bench", ts + i, run_name=f"run-{i:06d}")
        metrics = [
            Metric(SORT_KEY, (i * 7919 % size.runs) / size.runs, ts + i, 0),
            Metric(CHART_KEY, 1.0 / (i + 1), ts + i, 0),
            *(Metric(f"m{k}", float(k * i % 97), ts + i, 0) for k in range(3)),
        ]
        params = [Param(f"p{k}", f"v{(i + k) % 11}") for k in range(5)]
        store.log_batch(run.info.run_id, metrics=metrics, params=params)
        if i and i % 10_000 == 0:
            log(f"  {i} runs ({time.perf_counter() - started:.0f}s)")
    top = max(range(size.runs), key=lambda i: (i * 7919 % size.runs, i))
    view_eid = store.create_experiment("ui-browser-chart")
    for r in range(size.view_runs):
        run = store.create_run(view_eid, "bench", ts + r, run_name=f"curve-{r:03d}")
        points = [
            Metric(CHART_KEY, 1.0 / (s + 1) + r * 0.001, ts + s, s) for s in range(size.view_points)
        ]
        for start in range(0, len(points), 1000):
            store.log_batch(run.info.run_id, metrics=points[start : start + 1000])
    store.engine.dispose()
    log(f"  populated in {time.perf_counter() - started:.0f}s")
    return eid, f"run-{top:06d}", view_eid


def chromium() -> Any:
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    executable = os.environ.get("RUNYARD_CHROMIUM") or "/usr/bin/chromium"
    browser = driver.chromium.launch(
        executable_path=executable if os.path.exists(executable) else None, headless=True
    )
    return driver, browser


TABLE_READY = (
    "() => document.querySelector('#runs-table[aria-busy=false]')"
    " && document.querySelectorAll('#runs-table tbody tr[data-run-id]').length > 0"
)


def first_page(page: Any, url: str) -> float:
    page.goto(url, wait_until="commit")
    page.wait_for_function(TABLE_READY, timeout=120_000)
    return float(page.evaluate("performance.now()"))


def sort(page: Any, url: str, top_run: str) -> float:
    first_page(page, url)
    started = page.evaluate("performance.now()")
    page.click(f"#runs-table thead th[data-column='metrics.{SORT_KEY}'] button")
    page.wait_for_function(
        "(name) => document.querySelector('#runs-table[aria-busy=false]')"
        " && document.querySelector('#runs-table tbody td.name a')?.textContent === name",
        arg=top_run,
        timeout=120_000,
    )
    return float(page.evaluate("performance.now()") - started)


def scroll(page: Any, url: str, rows: int) -> dict[str, float]:
    first_page(page, url)
    result = page.evaluate(SCROLL_SCRIPT, [rows, 120_000])
    frames = sorted(result["frames"])
    return {
        "max_frame_ms": round(frames[-1], 1),
        "p95_frame_ms": round(frames[int(0.95 * (len(frames) - 1))], 1),
        "frames_over_50ms": sum(1 for f in frames if f > 50),
        "frames": len(frames),
        "rows": result["rows"],
    }


def chart_view(page: Any, url: str, runs: int) -> float:
    page.goto(url, wait_until="commit")
    page.wait_for_function(
        "([spec, n]) => document.querySelectorAll("
        "`#panels section[data-spec='${spec}'] svg.chart path.series:not(.raw)`).length === n",
        arg=[f"line:{CHART_KEY}", runs],
        timeout=120_000,
    )
    return float(page.evaluate("performance.now()"))


def measure(size: Size, workdir: Path) -> dict[str, Any]:
    uri = f"sqlite:///{workdir / 'ui.db'}"
    eid, top_run, view_eid = populate(uri, str(workdir / "artifacts"), size)
    with running_server("runyard", uri, workdir, 2) as server:
        driver, browser = chromium()
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            table = f"{server.url}/experiments/{eid}"
            charts = f"{server.url}/experiments/{view_eid}/charts?panel=line:{CHART_KEY}"
            first_page(page, table)  # warm-up: server caches, browser cache of scripts
            probe = LoadProbe([os.getpid(), server.process.pid])  # type: ignore[union-attr]
            figures: dict[str, Any] = {
                "first_page": p50([first_page(page, table) for _ in range(size.repeats)]),
                "sort": p50([sort(page, table, top_run) for _ in range(size.repeats)]),
                "scroll": scroll(page, table, min(SCROLL_ROWS, size.runs // 2)),
                "chart_view": p50(
                    [chart_view(page, charts, size.view_runs) for _ in range(size.repeats)]
                ),
            }
            figures["load"] = probe.stop().describe()
            context.close()
        finally:
            browser.close()
            driver.stop()
    return figures


def rows_of(figures: dict[str, Any], size: Size) -> list[dict[str, Any]]:
    scroll_figures = figures["scroll"]
    measured = {
        "first_page": (figures["first_page"], f"{size.runs:,} runs, first rows shown"),
        "sort": (figures["sort"], f"click on metrics.{SORT_KEY} to sorted rows"),
        "scroll": (
            scroll_figures["max_frame_ms"],
            f"longest frame over {scroll_figures['rows']} rows (p95 "
            f"{scroll_figures['p95_frame_ms']} ms, {scroll_figures['frames_over_50ms']} of "
            f"{scroll_figures['frames']} frames over 50 ms)",
        ),
        "chart_view": (
            figures["chart_view"],
            f"{size.view_runs} runs x {size.view_points:,} points, all series drawn",
        ),
    }
    return [
        {
            "workload": f"browser_{name}",
            "engine": "sqlite",
            "unit": "ms",
            "runyard": round(value, 1),
            "target": f"<= {TARGETS_MS[name]:.0f} ms",
            "met": "yes" if value <= TARGETS_MS[name] else "no",
            "what": what,
            "load": figures["load"],
        }
        for name, (value, what) in measured.items()
    ]


def run_benchmark(size: Size, workdir: Path) -> dict[str, Any]:
    figures = measure(size, workdir)
    return {"size": asdict(size), "figures": figures, "rows": rows_of(figures, size)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 runs, 1,000-point curves")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="runyard-bench-ui-browser-") as tmp:
        result = run_benchmark(size, Path(tmp))
    print(markdown_table(result["rows"], ["workload", "runyard", "target", "met", "what", "load"]))
    log(f"wrote {write_json('ui_browser.json', result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
