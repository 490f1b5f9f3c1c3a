"""Scale out: ingest and single-call throughput with 1, 2 and 4 server processes behind one
address, until PostgreSQL is the bound.

Each server process is a container of the runyard image (one gunicorn worker each) on a user
network with a PostgreSQL container, as in the container tests; Debian's nginx on the host
balances requests over them (HTTP/1.1 keep-alive to every upstream, round robin), as an ingress
would. For every server count the benchmark warms the servers up, then measures

* ``ingest``: ``ingest_clients`` clients, each logging ``ingest_points`` points of its own run
  in ``log-batch`` calls of 1,000, and checks that every point landed;
* ``single_calls``: ``single_clients`` clients, each making ``single_calls`` ``log-metric``
  calls one at a time;

and the CPU each part used meanwhile (servers, PostgreSQL, nginx, the clients), read from
``/proc`` for each container's process tree, so the table shows where the cores went and
PostgreSQL's share of them.

The prediction for a cluster with ``--nodes`` server nodes of ``--node-cores`` cores and a
dedicated database of ``--db-cores`` cores is arithmetic on the CPU per operation measured with
one server process (the least contended): the servers can do ``nodes x node_cores / server CPU``
operations per second and the database ``db_cores / PostgreSQL CPU``; the smaller bounds it.
Clients are assumed to run elsewhere; network latency and lock waits are left out, so it is an
upper bound.

Run: ``python -m bench.bench_scale [--quick] [--servers 1,2,4]``; needs the Docker engine (the
images are built offline as for the container tests) and nginx; writes
``bench-output/scale.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench import server_workloads as w
from bench.common import markdown_table, write_json
from bench.load import LoadProbe
from bench.proc_cpu import tree_cpu_seconds
from bench.server_procs import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SERVER_COUNTS = (1, 2, 4)
WORKLOADS = ("ingest", "single_calls")
UNITS = {"ingest": "points/s", "single_calls": "calls/s"}


@dataclass(frozen=True)
class Size:
    ingest_clients: int
    ingest_points: int  # per client
    single_clients: int
    single_calls: int  # per client


FULL = Size(ingest_clients=4, ingest_points=50_000, single_clients=8, single_calls=500)
QUICK = Size(ingest_clients=2, ingest_points=4_000, single_clients=4, single_calls=50)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---- the balancer ------------------------------------------------------------------------------
BALANCER_CONF = """
{user}
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_max_body_size 64m;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  upstream runyard {{
{servers}
    keepalive 64;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://runyard;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host 127.0.0.1:5000;
      proxy_request_buffering off;
    }}
  }}
}}
"""


@contextlib.contextmanager
def balancer(root: Path, upstreams: list[str]) -> Iterator[tuple[str, int]]:
    """nginx on a free loopback port in front of ``upstreams`` (``host:port``): its URL and
    its pid."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = "".join(f"    server {upstream};\n" for upstream in upstreams)
    user = "user root root;" if os.geteuid() == 0 else ""
    conf = BALANCER_CONF.format(root=root, port=port, servers=servers, user=user)
    (root / "nginx.conf").write_text(conf)
    process = subprocess.Popen(
        [NGINX, "-p", str(root), "-c", str(root / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_answering(process, url)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(10)


def _wait_answering(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = (process.stderr.read() if process.stderr else b"").decode()
            raise RuntimeError(f"nginx did not start: {error.strip()}")
        with contextlib.suppress(requests.ConnectionError):
            if requests.get(url + "/health", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("nginx did not answer within 20 s")


# ---- measuring ---------------------------------------------------------------------------------
@dataclass
class Parts:
    """The process trees whose CPU is counted: server containers, PostgreSQL, the balancer and
    this process (the clients)."""

    servers: list[int]
    postgres: int
    balancer: int
    clients: int

    def cpu(self) -> dict[str, float]:
        return {
            **{f"server{i}": tree_cpu_seconds(pid) for i, pid in enumerate(self.servers)},
            "postgres": tree_cpu_seconds(self.postgres),
            "balancer": tree_cpu_seconds(self.balancer),
            "clients": tree_cpu_seconds(self.clients),
        }


class Meter:
    """Entered around the measured calls alone: the CPU each part used and the load meanwhile
    (setup and the check afterwards stay outside)."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.used: dict[str, float] = {}
        self.each: list[float] = []

    def __enter__(self) -> Meter:
        parts = self.parts
        self.probe = LoadProbe([parts.clients, parts.postgres, parts.balancer, *parts.servers])
        self.before = parts.cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        after = self.parts.cpu()
        self.sample = self.probe.stop()
        self.each = [after[p] - self.before[p] for p in after if p.startswith("server")]
        self.used = {p: after[p] - self.before[p] for p in after if not p.startswith("server")}
        self.used["servers"] = sum(self.each)

    def figure(self, operations: int, seconds: float) -> dict[str, Any]:
        """Operations per second, CPU per operation and cores of each part, PostgreSQL's
        share of the CPU, the load."""
        used, total = self.used, sum(self.used.values()) or 1e-9
        return {
            "value": operations / seconds,
            "seconds": seconds,
            "server_cpu_s_each": self.each,
            "cpu_ms_per_op": {part: 1000 * used[part] / operations for part in used},
            "cores": {part: used[part] / seconds for part in used},
            "postgres_share": used["postgres"] / total,
            "load1": self.sample.load1,
            "others": self.sample.others_cpu,
            "load": self.sample.describe(),
        }


def ingest(url: str, size: Size, meter: Meter) -> tuple[float, int]:
    """``ingest_clients`` clients logging at once, each into its own run, ``meter`` around the
    logging alone; the seconds it took and the points read back (all of them, or the benchmark
    is wrong)."""
    setup = w.Api(url)
    experiment_id = setup.create_fresh_experiment("scale-ingest")
    run_ids = [
        setup.create_run(experiment_id, f"client-{i}", w.BASE_TS + i)
        for i in range(size.ingest_clients)
    ]
    bodies = [w.ingest_bodies(run_id, size.ingest_points) for run_id in run_ids]

    def client(i: int) -> None:
        api = w.Api(url)
        for body in bodies[i]:
            api.post("/runs/log-batch", body)
        api.close()

    with meter:
        started = time.perf_counter()
        w.run_threads(client, len(run_ids))
        seconds = time.perf_counter() - started
    landed = sum(len(w.history(setup, run_id, w.INGEST_KEY)) for run_id in run_ids)
    setup.close()
    return seconds, landed


def measure_servers(url: str, parts: Parts, size: Size) -> dict[str, dict[str, Any]]:
    points = size.ingest_clients * (size.ingest_points // w.BATCH * w.BATCH)
    meter = Meter(parts)
    seconds, landed = ingest(url, size, meter)
    if landed != points:
        raise RuntimeError(f"ingest: {landed} of {points} points landed")
    figures = {"ingest": meter.figure(points, seconds)}
    single_size = w.Size(
        ingest_points=0,
        single_clients=size.single_clients,
        single_calls=size.single_calls,
        runs=0,
    )
    meter = Meter(parts)
    single = w.single_calls(url, single_size, around=meter)
    figures["single_calls"] = meter.figure(single["calls"], single["seconds"])
    return figures


# ---- the stack ---------------------------------------------------------------------------------
def docker_unavailable() -> str | None:
    """None when the Docker engine and nginx can be used, else why not."""
    if not os.path.exists(NGINX):
        return f"nginx is not installed at {NGINX}"
    try:
        import docker

        docker.from_env(timeout=30).ping()
    except Exception as exc:
        return f"no usable Docker engine: {exc}"
    return None


def server_env() -> dict[str, str]:
    """One worker per container, so a container is one server process; artifacts stay in the
    container's /tmp (nothing here writes any)."""
    return {"RUNYARD_WORKERS": "1", "RUNYARD_ARTIFACTS_DESTINATION": "/tmp/artifacts"}


def run_benchmark(
    size: Size, counts: tuple[int, ...], work: Path, build: bool = True
) -> dict[str, Any]:
    """Every server count in ``counts`` against one PostgreSQL container; ``build`` first
    builds (or checks) the images."""
    import docker

    from tests.container.docker_stack import Stack
    from tests.container.images import build_images

    if build:
        log("scale: building the images (reused when unchanged)")
        build_images()
    stack = Stack(docker.from_env(timeout=120), name=f"runyard-scale-{os.getpid()}")
    results: list[dict[str, Any]] = []
    try:
        stack.start_postgres()
        stack.migrate()
        postgres = container_pid(stack, "postgres")
        for count in counts:
            roles = [f"server-{count}-{i}" for i in range(count)]
            for role in roles:
                stack.start_server(role, env=server_env(), restart_policy={"Name": "no"})
            upstreams = [f"{container_address(stack, role)}:5000" for role in roles]
            with balancer(work / f"nginx-{count}", upstreams) as (url, nginx_pid):
                parts = Parts(
                    [container_pid(stack, r) for r in roles], postgres, nginx_pid, os.getpid()
                )
                log(f"scale: {count} server process(es): warm-up ({w.warm_up(url)} rounds)")
                figures = measure_servers(url, parts, size)
            results.append({"servers": count, **figures})
            log(f"scale: {count}: " + ", ".join(
                f"{name} {figures[name]['value']:,.0f} {UNITS[name]}" for name in WORKLOADS
            ))  # fmt: skip
            for role in roles:
                stack.containers.pop(role).remove(force=True)
    except BaseException:
        stack.dump_logs("bench-scale")
        raise
    finally:
        stack.close()
    return {"size": size.__dict__, "cores": os.cpu_count(), "results": results}


def container_address(stack: Any, role: str) -> str:
    """The container's address on the stack's network, which the host reaches directly: a
    published port would put Docker's userland proxy, and its CPU, between nginx and the
    server."""
    container = stack.containers[role]
    container.reload()
    return str(container.attrs["NetworkSettings"]["Networks"][stack.network.name]["IPAddress"])


def container_pid(stack: Any, role: str) -> int:
    container = stack.containers[role]
    container.reload()
    return int(container.attrs["State"]["Pid"])


# ---- what it shows -----------------------------------------------------------------------------
def rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per workload and server count, with the speed-up over one server process."""
    out: list[dict[str, Any]] = []
    first = {name: result["results"][0][name]["value"] for name in WORKLOADS}
    for entry in result["results"]:
        for name in WORKLOADS:
            figure = entry[name]
            per_op, cores = figure["cpu_ms_per_op"], figure["cores"]
            out.append({
                "workload": f"{name} ({UNITS[name]})",
                "servers": entry["servers"],
                "runyard": round(figure["value"]),
                "speedup": round(figure["value"] / first[name], 2),
                "server_cpu_ms": round(per_op["servers"], 3),
                "postgres_cpu_ms": round(per_op["postgres"], 3),
                "cores_servers": round(cores["servers"], 2),
                "cores_postgres": round(cores["postgres"], 2),
                "cores_nginx": round(cores["balancer"], 2),
                "cores_clients": round(cores["clients"], 2),
                "postgres_share": f"{figure['postgres_share']:.0%}",
                "load": figure["load"],
            })  # fmt: skip
    return out


@dataclass(frozen=True)
class Cluster:
    nodes: int
    node_cores: float
    db_cores: float


def predict(result: dict[str, Any], cluster: Cluster) -> list[dict[str, Any]]:
    """Operations per second a cluster could reach, from the CPU per operation measured with
    one server process: servers' and database's bounds, and which one binds."""
    out = []
    one = result["results"][0]
    for name in WORKLOADS:
        per_op = one[name]["cpu_ms_per_op"]
        serving = per_op["servers"] + per_op["balancer"]
        servers_bound = cluster.nodes * cluster.node_cores * 1000 / serving
        database_bound = cluster.db_cores * 1000 / per_op["postgres"]
        out.append({
            "workload": f"{name} ({UNITS[name]})",
            "servers_bound": round(servers_bound),
            "database_bound": round(database_bound),
            "predicted": round(min(servers_bound, database_bound)),
            "bound_by": "database" if database_bound < servers_bound else "servers",
        })  # fmt: skip
    return out


COLUMNS = ["workload", "servers", "runyard", "speedup", "server_cpu_ms", "postgres_cpu_ms"]
COLUMNS += ["cores_servers", "cores_postgres", "cores_nginx", "cores_clients", "postgres_share"]
COLUMNS += ["load"]
PREDICTION_COLUMNS = ["workload", "servers_bound", "database_bound", "predicted", "bound_by"]


def render(result: dict[str, Any], cluster: Cluster) -> str:
    heading = (
        f"Predicted for {cluster.nodes} nodes of {cluster.node_cores:g} cores and a dedicated "
        f"database of {cluster.db_cores:g} cores (CPU per operation of one server process):"
    )
    shared = "servers, PostgreSQL, nginx and clients share them"
    return "\n".join([
        f"Scale out on {result['cores']} cores ({shared}):",
        markdown_table(result["rows"], COLUMNS),
        "",
        heading,
        markdown_table(result["prediction"], PREDICTION_COLUMNS),
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few thousand points and calls")
    parser.add_argument("--servers", default=",".join(map(str, SERVER_COUNTS)))
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--node-cores", type=float, default=float(os.cpu_count() or 2))
    parser.add_argument("--db-cores", type=float, default=float(os.cpu_count() or 2))
    args = parser.parse_args(argv)
    reason = docker_unavailable()
    if reason:
        log(f"scale: skipped: {reason}")
        write_json("scale.json", {"skipped": reason, "rows": []})
        return 0
    counts = tuple(int(n) for n in args.servers.split(",") if n.strip())
    cluster = Cluster(args.nodes, args.node_cores, args.db_cores)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the container helpers
    work = Path(tempfile.mkdtemp(prefix="runyard-bench-scale-"))
    try:
        result = run_benchmark(QUICK if args.quick else FULL, counts, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["rows"] = rows(result)
    result["prediction"] = predict(result, cluster)
    result["cluster"] = cluster.__dict__
    print(render(result, cluster))
    write_json("scale.json", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
