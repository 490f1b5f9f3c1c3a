"""Fixtures for the container tests: the Docker engine, the offline-built images, and a
stack of PostgreSQL + S3 + two runyard servers on one network, removed after the module.
Container logs go to test-output/container/<test>/ when a test fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.container.docker_stack import Stack
from tests.container.images import build_images
from tests.requirements import require


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def docker_client() -> Any:
    try:
        import docker

        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:
        require("docker", f"no usable Docker engine: {exc}")
    return client


@pytest.fixture(scope="session")
def images(docker_client: Any) -> None:
    build_images()


@pytest.fixture(scope="module")
def stack(docker_client: Any, images: None) -> Iterator[Stack]:
    """PostgreSQL and S3 stand-ins, a migrated schema and servers `a` and `b`."""
    stack = Stack(docker_client)
    try:
        stack.start_postgres()
        stack.start_s3()
        stack.migrate()
        stack.start_server("a")
        stack.start_server("b")
        yield stack
    except BaseException:
        stack.dump_logs("stack-setup")
        raise
    finally:
        stack.close()


@pytest.fixture(autouse=True)
def _dump_logs_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        for name in ("stack", "solo", "late"):
            if name in request.fixturenames:
                path = request.getfixturevalue(name).dump_logs(request.node.name)
                print(f"container logs in {path}")
