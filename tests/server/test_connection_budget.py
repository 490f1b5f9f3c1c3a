"""A server worker holds no more PostgreSQL connections than its budget says: the tracking pool
plus the accounts' pool (``auth_db_pool_size``), with accounts on and every thread busy; and an
accounts' pool of a single connection serves all the threads, migrations included."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg2
import requests

from tests.live_server import start_live_server
from tests.postgres import fresh_postgres_database

API = "/api/2.0/mlflow"
ADMIN = ("admin", "admin-password-1")
THREADS = 4
TRACKING_POOL = 3
ACCOUNTS_POOL = 1
CLIENTS = 8
CALLS_PER_CLIENT = 40


def backends(cur: Any) -> int:
    """Client connections to the test's database other than the watcher's own (autovacuum's
    workers, which show there too, are not the server's)."""
    cur.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )
    return int(cur.fetchone()[0])


def test_a_busy_worker_stays_within_its_connection_budget() -> None:
    with fresh_postgres_database() as uri:
        env = {
            "RUNYARD_AUTH": "true",
            "RUNYARD_ADMIN_USERNAME": ADMIN[0],
            "RUNYARD_ADMIN_PASSWORD": ADMIN[1],
            "RUNYARD_THREADS": str(THREADS),
            "RUNYARD_DB_POOL_SIZE": str(TRACKING_POOL),
            "RUNYARD_DB_MAX_OVERFLOW": "0",
            "RUNYARD_AUTH_DB_POOL_SIZE": str(ACCOUNTS_POOL),
        }
        with start_live_server(uri, env=env) as server:
            session = requests.Session()
            session.auth = ADMIN
            created = session.post(f"{server.url}{API}/experiments/create", json={"name": "b"})
            assert created.status_code == 200, created.text
            experiment_id = created.json()["experiment_id"]
            seen: list[int] = []
            done = threading.Event()

            def watch() -> None:
                """One connection for every sample: a backend of an earlier sample's own
                connection may still be exiting, and would be counted."""
                watcher = psycopg2.connect(uri)
                watcher.autocommit = True
                try:
                    with watcher.cursor() as cur:
                        while not done.is_set():
                            seen.append(backends(cur))
                            time.sleep(0.05)
                finally:
                    watcher.close()

            def client(number: int) -> list[int]:
                calls = requests.Session()
                calls.auth = ADMIN
                run = calls.post(
                    f"{server.url}{API}/runs/create",
                    json={"experiment_id": experiment_id, "start_time": 1},
                    timeout=20,
                )
                run_id = run.json()["run"]["info"]["run_id"]
                codes = [run.status_code]
                for step in range(CALLS_PER_CLIENT):
                    if step % 2:
                        reply = calls.post(
                            f"{server.url}{API}/runs/log-metric",
                            json={"run_id": run_id, "key": "m", "value": step,
                                  "timestamp": step, "step": step},
                            timeout=20,
                        )  # fmt: skip
                    else:
                        reply = calls.post(
                            f"{server.url}{API}/runs/search",
                            json={"experiment_ids": [experiment_id], "max_results": 5},
                            timeout=20,
                        )
                    codes.append(reply.status_code)
                return codes

            watcher = threading.Thread(target=watch)
            watcher.start()
            try:
                with ThreadPoolExecutor(CLIENTS) as pool:
                    codes = [c for result in pool.map(client, range(CLIENTS)) for c in result]
            finally:
                done.set()
                watcher.join()
            assert set(codes) == {200}, sorted(set(codes))
            assert len(codes) == CLIENTS * (CALLS_PER_CLIENT + 1)
            budget = TRACKING_POOL + ACCOUNTS_POOL
            assert seen and max(seen) <= budget, (max(seen), budget)
            assert max(seen) >= 2  # the load did reach both pools
            assert "Traceback" not in server.log()
