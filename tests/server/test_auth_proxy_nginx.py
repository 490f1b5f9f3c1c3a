"""Trusted-header mode behind a real reverse proxy (Debian's nginx) acting as the identity proxy.

nginx authenticates people itself (basic auth stands in for OIDC here), strips whatever
``X-Forwarded-User`` a client sent, and passes its own user and group headers on from
127.0.0.2; the server trusts only that address. A client talking to the server directly from
127.0.0.1 with forged headers is not believed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from runyard.auth.store import AuthStore
from runyard.store import store_for_uri

from tests.live_server import LiveServer, free_port, start_live_server
from tests.requirements import require

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PEOPLE = {"carol": "carol-secret", "dave": "dave-secret", "erin": "erin-secret"}
GROUPS = {"carol": "ml-team,readers", "erin": "ml-admins"}

NGINX_CONF = """
{user}
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  map $remote_user $groups {{
{groups}
    default "";
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      auth_basic "identity";
      auth_basic_user_file {root}/htpasswd;
      proxy_bind 127.0.0.2;
      proxy_pass http://127.0.0.1:{upstream};
      proxy_set_header Host 127.0.0.1:{upstream};
      proxy_set_header Authorization "";
      proxy_set_header X-Forwarded-User $remote_user;
      proxy_set_header X-Forwarded-Groups $groups;
    }}
  }}
}}
"""


def _start_nginx(root: Path, upstream: int) -> tuple[subprocess.Popen[bytes], int]:
    if not os.path.exists(NGINX):
        require("nginx", f"nginx is not installed at {NGINX}")
    port = free_port()
    (root / "htpasswd").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in PEOPLE.items()))
    groups = "".join(f'    {u} "{g}";\n' for u, g in GROUPS.items())
    user = "user root root;" if os.geteuid() == 0 else ""
    conf = NGINX_CONF.format(root=root, port=port, upstream=upstream, groups=groups, user=user)
    (root / "nginx.conf").write_text(conf)
    process = subprocess.Popen(
        [NGINX, "-p", str(root), "-c", str(root / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = (process.stderr.read() if process.stderr else b"").decode()
            require("nginx", f"nginx did not start: {error}")
        try:
            requests.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process, port
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    require("nginx", "nginx did not answer within 20 s")
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory) -> Iterator[tuple[LiveServer, str, AuthStore, str]]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("nginx")
    db_uri = f"sqlite:///{root / 'runyard.db'}"
    env = {
        "RUNYARD_ADMIN_USERNAME": "admin",
        "RUNYARD_ADMIN_PASSWORD": "admin-password-1",
        "RUNYARD_AUTH_PROXY_USER_HEADER": "X-Forwarded-User",
        "RUNYARD_AUTH_PROXY_GROUPS_HEADER": "X-Forwarded-Groups",
        "RUNYARD_AUTH_TRUSTED_PROXIES": "127.0.0.2",
        "RUNYARD_AUTH_PROXY_GROUP_PERMISSIONS": "ml-admins=ADMIN,ml-team=EDIT",
    }
    with start_live_server(
        db_uri, artifacts_destination=str(root / "art"), extra_args=["--auth"], env=env
    ) as server:
        nginx, port = _start_nginx(root, server.port)
        store = store_for_uri(db_uri, "mlflow-artifacts:/")
        experiment_id = store.create_experiment("team-work")
        auth = AuthStore(db_uri)
        try:
            yield server, f"http://127.0.0.1:{port}", auth, experiment_id
        finally:
            nginx.terminate()
            nginx.wait(10)
            store.close()
            auth.close()


def test_users_come_from_the_proxy_and_groups_map_to_permissions(proxied) -> None:  # type: ignore[no-untyped-def]
    _server, proxy, auth, experiment_id = proxied
    assert requests.get(proxy + "/api/2.0/mlflow/users/current").status_code == 401  # nginx
    carol = requests.get(proxy + "/api/2.0/mlflow/users/current", auth=("carol", "carol-secret"))
    assert carol.status_code == 200, carol.text
    assert carol.json()["user"]["username"] == "carol"
    assert auth.find_user("carol") is not None  # created on first sight, without a password

    body = {"experiment_id": experiment_id}
    create = requests.post(
        proxy + "/api/2.0/mlflow/runs/create", json=body, auth=("carol", "carol-secret")
    )
    assert create.status_code == 200, create.text  # ml-team -> EDIT
    denied = requests.post(
        proxy + "/api/2.0/mlflow/runs/create", json=body, auth=("dave", "dave-secret")
    )
    assert denied.status_code == 403  # no group -> the default READ

    user = {"username": "frank", "password": "frank-password-1"}
    erin = requests.post(
        proxy + "/api/2.0/mlflow/users/create", json=user, auth=("erin", "erin-secret")
    )
    assert erin.status_code == 200, erin.text  # ml-admins -> administrator


def test_forged_headers_from_elsewhere_are_ignored(proxied) -> None:  # type: ignore[no-untyped-def]
    server, _proxy, _auth, _experiment_id = proxied
    forged = {"X-Forwarded-User": "admin", "X-Forwarded-Groups": "ml-admins"}
    direct = requests.get(server.url + "/api/2.0/mlflow/users/list", headers=forged)
    assert direct.status_code == 401
    as_dave = requests.get(
        server.url + "/api/2.0/mlflow/users/list",
        headers={**forged, "Authorization": "Basic ZGF2ZTpkYXZlLXNlY3JldA=="},
    )
    assert as_dave.status_code == 401  # dave has no password here: only the proxy vouches
