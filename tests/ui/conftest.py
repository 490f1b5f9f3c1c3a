"""UI fixtures: a Flask test client with seeded runs, a live server, and headless Chromium.

The browser is Debian's ``chromium`` driven by Playwright (``RUNYARD_CHROMIUM`` may point at
another binary); without it the browser tests skip, or fail when ``RUNYARD_REQUIRE`` lists
``chromium``.
"""

from __future__ import annotations

import os
import shutil
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from runyard.entities import Metric, Param, RunTag
from runyard.server.app import create_app

from tests.live_server import LiveServer, start_live_server
from tests.requirements import require

SCREENSHOTS = Path("test-output/ui")
HOSTILE = "<script>window.__xss=1</script><img src=x onerror=window.__xss=2>"


def tiny_png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (220, 40, 40)) -> bytes:
    """A valid PNG of one colour, built by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return (
            struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


ARTIFACTS: dict[str, bytes] = {
    "notes.txt": b"hello from the run\nsecond line\n",
    "config/params.json": b'{"lr": 0.01, "layers": [64, 32]}',
    "config/model.yaml": b"name: cnn\ndepth: 3\n",
    "data/table.csv": b"epoch,loss\n1,0.9\n2,0.5\n3,0.25\n",
    "plots/red.png": tiny_png(),
    "report.html": b"<html><body><script>window.__xss=3</script>report</body></html>",
}


@dataclass
class Seed:
    """Ids of the seeded experiment and runs, by role."""

    experiment_id: str
    runs: dict[str, str] = field(default_factory=dict)


def seed_runs(store: Any, name: str = "vision") -> Seed:
    """Three finished runs with params, metrics (100 steps) and tags, and one hostile run."""
    eid = store.create_experiment(name)
    seed = Seed(eid)
    now = int(time.time() * 1000) - 100_000
    specs = {
        "alpha": ("cnn", 0.91, "a"),
        "beta": ("mlp", 0.72, "b"),
        "gamma": ("cnn", 0.85, "a"),
    }
    for index, (run_name, (model, acc, team)) in enumerate(specs.items()):
        run = store.create_run(eid, "alice", now + index * 1000, run_name=run_name)
        rid = run.info.run_id
        metrics = [
            Metric("loss", 1.0 / (step + 1) + index, now + step * 10, step) for step in range(100)
        ]
        metrics.append(Metric("accuracy", acc, now + 2000, 99))
        store.log_batch(
            rid,
            metrics=metrics,
            params=[Param("model", model), Param("lr", str(0.01 * (index + 1)))],
            tags=[RunTag("team", team), RunTag("mlflow.source.name", "train.py")],
        )
        store.update_run_info(rid, status=_finished(), end_time=now + 60_000)
        seed.runs[run_name] = rid
    return seed


def _finished():  # type: ignore[no-untyped-def]
    from runyard.entities import RunStatus

    return RunStatus.FINISHED


@pytest.fixture
def app(tmp_path):  # type: ignore[no-untyped-def]
    app = create_app(
        {
            "backend_store_uri": f"sqlite:///{tmp_path / 'ui.db'}",
            "artifacts_destination": str(tmp_path / "artifacts"),
        }
    )
    yield app
    app.config["RUNYARD_STORE"].close()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def store(app):  # type: ignore[no-untyped-def]
    return app.config["RUNYARD_STORE"]


@pytest.fixture
def seeded(store) -> Seed:  # type: ignore[no-untyped-def]
    return seed_runs(store)


def write_artifacts(destination: Path, artifact_uri: str, files: dict[str, bytes]) -> None:
    """Place files where the server keeps a proxied run's artifacts."""
    inner = artifact_uri.split(":", 1)[1].lstrip("/")
    root = destination / inner
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


# ---- live server and browser --------------------------------------------------------------------
@dataclass
class LiveUi:
    server: LiveServer
    store: Any
    seed: Seed
    destination: Path

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def live_ui(tmp_path_factory) -> Iterator[LiveUi]:  # type: ignore[no-untyped-def]
    from runyard.store import store_for_uri

    root = tmp_path_factory.mktemp("live-ui")
    db_uri = f"sqlite:///{root / 'ui.db'}"
    destination = root / "artifacts"
    with start_live_server(db_uri, artifacts_destination=str(destination)) as server:
        store = store_for_uri(db_uri, "mlflow-artifacts:/")
        seed = seed_runs(store)
        run = store.get_run(seed.runs["alpha"])
        write_artifacts(destination, run.info.artifact_uri, ARTIFACTS)
        try:
            yield LiveUi(server, store, seed, destination)
        finally:
            store.close()


def chromium_path() -> str:
    path = os.environ.get("RUNYARD_CHROMIUM") or "/usr/bin/chromium"
    if not (os.path.exists(path) or shutil.which(path)):
        require("chromium", f"no Chromium at {path}")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require("chromium", "playwright is not installed")
    with sync_playwright() as playwright:
        try:
            # Scrollbars as a user sees them (headless mode hides them by default).
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, ignore_default_args=["--hide-scrollbars"]
            )
        except Exception as exc:
            require("chromium", f"Chromium at {executable} does not start: {exc}")
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A fresh page that records console errors and CSP violations."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda msg: page.errors.append(msg.text) if msg.type == "error" else None,  # type: ignore[attr-defined]
    )
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)
    return path


def hold_requests(page: Any, pattern: str, wanted: str) -> list[Any]:
    """Holds back the first request to ``pattern`` whose URL contains ``wanted``; the test
    releases it with ``continue_()`` once a later request has been answered."""
    held: list[Any] = []

    def route(request_route: Any) -> None:
        if not held and wanted in request_route.request.url:
            held.append(request_route)
        else:
            request_route.continue_()

    page.route(pattern, route)
    return held


def release_late(page: Any, held: list[Any]) -> None:
    """Lets the held request through and gives the page time to (wrongly) act on its answer."""
    with page.expect_event("requestfinished"):
        held[0].continue_()
    page.wait_for_timeout(300)
