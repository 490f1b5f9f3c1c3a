"""The backup CronJob's own commands, run in containers on the test network: pg_dump from the
PostgreSQL image into a shared volume, `runyard backup upload` into S3; then the database is
wiped and restored as docs/deploy.md says, and every experiment, run, param, tag and metric
point reads back as before."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.container.docker_stack import BUCKET, PG_DB, PG_USER, Stack
from tests.container.images import POSTGRES_IMAGE, RUNYARD_IMAGE
from tests.container.rest import call
from tests.deploy.manifests import KIND_OVERLAY, find, render

pytestmark = [pytest.mark.container, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def backed(docker_client: Any, images: None) -> Iterator[Stack]:
    stack = Stack(docker_client)
    try:
        stack.start_postgres()
        stack.start_s3()
        stack.migrate()
        stack.start_server("a")
        yield stack
    except BaseException:
        stack.dump_logs("backup-setup")
        raise
    finally:
        stack.close()
        for volume in docker_client.volumes.list(filters={"name": f"{stack.name}-backup"}):
            volume.remove(force=True)


def _backup_job() -> dict[str, Any]:
    cronjob = find(render(KIND_OVERLAY), "CronJob", "runyard-backup")
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def _expand(args: list[str], env: dict[str, str]) -> list[str]:
    """Kubernetes' $(VAR) expansion of a container's args."""
    return [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], arg) for arg in args]


def _fill(base: str) -> None:
    for e in range(3):
        experiment_id = call(base, "POST", "experiments/create", json={"name": f"backup-{e}"})[
            "experiment_id"
        ]
        call(
            base,
            "POST",
            "experiments/set-experiment-tag",
            json={"experiment_id": experiment_id, "key": "team", "value": f"t{e}"},
        )
        for r in range(4):
            run_id = call(base, "POST", "runs/create", json={"experiment_id": experiment_id})[
                "run"
            ]["info"]["run_id"]
            metrics = [
                {
                    "key": key,
                    "value": (s * (r + 1)) / 7,
                    "timestamp": 1_700_000_000_000 + s,
                    "step": s,
                }
                for key in ("loss", "acc")
                for s in range(100)
            ]
            call(
                base,
                "POST",
                "runs/log-batch",
                json={
                    "run_id": run_id,
                    "metrics": metrics,
                    "params": [{"key": f"p{i}", "value": f"{e}.{r}.{i}"} for i in range(5)],
                    "tags": [{"key": f"t{i}", "value": f"tag {e}.{r}.{i}"} for i in range(3)],
                },
            )
            if r == 3:
                call(base, "POST", "runs/delete", json={"run_id": run_id})


def _snapshot(base: str) -> dict[str, Any]:
    """Every experiment (with tags) and every run (info, params, tags, full metric history)."""
    experiments = call(
        base, "POST", "experiments/search", json={"max_results": 1000, "view_type": "ALL"}
    )["experiments"]
    ids = [e["experiment_id"] for e in experiments]
    runs = call(
        base,
        "POST",
        "runs/search",
        json={"experiment_ids": ids, "max_results": 1000, "run_view_type": "ALL"},
    )["runs"]
    snapshot: dict[str, Any] = {
        "experiments": sorted(
            (
                e["experiment_id"],
                e["name"],
                e["lifecycle_stage"],
                sorted((t["key"], t["value"]) for t in e.get("tags", [])),
            )
            for e in experiments
        ),
        "runs": {},
    }
    for run in runs:
        run_id, data = run["info"]["run_id"], run["data"]
        history = {}
        for metric in data.get("metrics", []):
            points = call(
                base,
                "GET",
                "metrics/get-history",
                params={"run_id": run_id, "metric_key": metric["key"], "max_results": 25000},
            )["metrics"]
            history[metric["key"]] = sorted((p["step"], p["timestamp"], p["value"]) for p in points)
        snapshot["runs"][run_id] = {
            "info": run["info"],
            "params": sorted((p["key"], p["value"]) for p in data.get("params", [])),
            "tags": sorted((t["key"], t["value"]) for t in data.get("tags", [])),
            "history": history,
        }
    return snapshot


def test_backup_wipe_restore_brings_back_every_run_param_tag_and_point(backed: Stack) -> None:
    base = backed.url("a")
    _fill(base)
    before = _snapshot(base)
    assert len(before["runs"]) == 12
    assert all(
        len(points) == 100 for r in before["runs"].values() for points in r["history"].values()
    )

    client, network = backed.client, backed.network.name
    volume = {f"{backed.name}-backup": {"bind": "/backup", "mode": "rw"}}
    env = {
        **backed.server_env(),
        "BACKUP_DESTINATION": f"s3://{BUCKET}/backups",
        "BACKUP_KEEP": "2",
    }

    def run(image: str, entrypoint: list[str] | None, args: list[str], **kw: Any) -> str:
        out = client.containers.run(
            image,
            _expand(args, env),
            entrypoint=entrypoint,
            environment=env,
            network=network,
            volumes=volume,
            remove=True,
            stdout=True,
            stderr=True,
            **kw,
        )
        return out.decode(errors="replace")

    # The scratch volume is writable by both images' users, as fsGroup makes it in the pod.
    run(POSTGRES_IMAGE, ["sh", "-c"], ["chmod 1777 /backup"])
    job = _backup_job()
    (dump,) = job["initContainers"]
    (upload,) = job["containers"]
    run(POSTGRES_IMAGE, dump["command"], dump["args"], user="10001")
    stored = run(
        RUNYARD_IMAGE, None, upload["args"], user="10001", read_only=True, tmpfs={"/tmp": ""}
    )
    assert "stored runyard-" in stored, stored

    # Wipe the database, then restore as documented: fetch the newest dump, pg_restore it.
    wiped = backed.containers["postgres"].exec_run(
        [
            "psql",
            "-U",
            PG_USER,
            "-d",
            PG_DB,
            "-c",
            "DROP SCHEMA public CASCADE; CREATE SCHEMA public;",
        ]
    )
    assert wiped.exit_code == 0, wiped.output
    tables = backed.containers["postgres"].exec_run(
        [
            "psql",
            "-U",
            PG_USER,
            "-d",
            PG_DB,
            "-tAc",
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
        ]
    )
    assert tables.output.decode().strip() == "0"
    run(
        RUNYARD_IMAGE,
        None,
        ["backup", "fetch", "latest", "/backup/restore.dump", "--from", "$(BACKUP_DESTINATION)"],
        user="10001",
        read_only=True,
        tmpfs={"/tmp": ""},
    )
    run(
        POSTGRES_IMAGE,
        ["sh", "-ec"],
        [
            "pg_restore --clean --if-exists --no-owner --no-privileges "
            '--dbname="$RUNYARD_BACKEND_STORE_URI" /backup/restore.dump'
        ],
        user="10001",
    )

    assert _snapshot(base) == before
