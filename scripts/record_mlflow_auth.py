"""Record MLflow's basic-auth API: drive a running ``mlflow server --app-name basic-auth``.

    python scripts/record_mlflow_auth.py http://127.0.0.1:5917 admin <admin password>

Prints one block per call (method, path, body sent, status, body received); the recorded
contract is docs/reference/mlflow-auth-api.md.
"""

from __future__ import annotations

import json
import sys

import requests


def main(base: str, admin: str, password: str) -> None:
    session = requests.Session()

    def call(method: str, path: str, auth=(admin, password), **kwargs) -> dict:
        response = session.request(method, base + path, auth=auth, **kwargs)
        sent = kwargs.get("json") or kwargs.get("params") or ""
        print(f"### {method} {path} {json.dumps(sent)}")
        print(f"-> {response.status_code} {response.headers.get('Content-Type')}")
        for header in ("WWW-Authenticate",):
            if header in response.headers:
                print(f"   {header}: {response.headers[header]}")
        print("   " + response.text.strip()[:400].replace("\n", "\n   "))
        try:
            return response.json()
        except ValueError:
            return {}

    users = "/api/2.0/mlflow/users"
    perms = "/api/3.0/mlflow/users/permissions"
    roles = "/api/3.0/mlflow/roles"
    call("GET", "/api/2.0/mlflow/experiments/search", auth=None, params={"max_results": 1})
    call("GET", "/api/2.0/mlflow/experiments/search", auth=("nobody", "x"))
    call("GET", "/api/2.0/mlflow/experiments/search", auth=(admin, "wrong"))
    call(
        "GET",
        "/api/2.0/mlflow/experiments/search",
        auth=None,
        headers={"Authorization": "Bearer abc"},
    )
    call("POST", users + "/create", json={"username": "alice", "password": "alice-password-1"})
    call("POST", users + "/create", json={"username": "alice", "password": "alice-password-1"})
    call("POST", users + "/create", json={"username": "bob", "password": "short"})
    call("POST", users + "/create", json={"username": "carol"})
    call("POST", users + "/create", json={"username": "", "password": "x"})
    call("GET", users + "/get", params={"username": "alice"})
    call("GET", users + "/get", params={"username": "missing"})
    call("GET", users + "/get")
    call("GET", users + "/list")
    call("GET", users + "/current")
    call("GET", users + "/current", auth=("alice", "alice-password-1"))
    call(
        "PATCH",
        users + "/update-password",
        json={"username": "alice", "password": "alice-password-2"},
    )
    call(
        "PATCH",
        users + "/update-password",
        auth=("alice", "alice-password-2"),
        json={"username": "alice", "password": "alice-password-3"},
    )
    call(
        "PATCH",
        users + "/update-password",
        auth=("alice", "alice-password-2"),
        json={
            "username": "alice",
            "password": "alice-password-3",
            "current_password": "alice-password-2",
        },
    )
    alice = ("alice", "alice-password-3")
    call("PATCH", users + "/update-admin", json={"username": "alice", "is_admin": True})
    call("PATCH", users + "/update-admin", json={"username": "alice", "is_admin": False})
    call("PATCH", users + "/update-admin", auth=alice, json={"username": "alice", "is_admin": True})
    call(
        "POST",
        users + "/create",
        auth=alice,
        json={"username": "mallory", "password": "mallory-password"},
    )
    exp = call("POST", "/api/2.0/mlflow/experiments/create", json={"name": "admin-exp"})
    eid = exp.get("experiment_id", "1")
    aexp = call("POST", "/api/2.0/mlflow/experiments/create", auth=alice, json={"name": "a-exp"})
    call(
        "GET",
        perms + "/get",
        params={
            "username": "alice",
            "resource_type": "experiment",
            "resource_id": aexp.get("experiment_id", "2"),
        },
    )
    call(
        "GET",
        perms + "/get",
        params={"username": "alice", "resource_type": "experiment", "resource_id": eid},
    )
    for permission in ("READ", "EDIT", "DENY", "NO_PERMISSIONS", "BOGUS"):
        call(
            "POST",
            perms + "/grant",
            json={
                "username": "alice",
                "resource_type": "experiment",
                "resource_id": eid,
                "permission": permission,
            },
        )
        call(
            "GET",
            perms + "/get",
            params={"username": "alice", "resource_type": "experiment", "resource_id": eid},
        )
    call("GET", "/api/2.0/mlflow/experiments/get", auth=alice, params={"experiment_id": eid})
    call("GET", "/api/2.0/mlflow/experiments/search", auth=alice, params={"max_results": 10})
    call(
        "POST",
        perms + "/grant",
        json={
            "username": "alice",
            "resource_type": "bogus",
            "resource_id": eid,
            "permission": "READ",
        },
    )
    call(
        "POST",
        perms + "/grant",
        json={
            "username": "ghost",
            "resource_type": "experiment",
            "resource_id": eid,
            "permission": "READ",
        },
    )
    call(
        "POST",
        perms + "/grant",
        json={
            "username": "alice",
            "resource_type": "registered_model",
            "resource_id": "my-model",
            "permission": "EDIT",
        },
    )
    call(
        "GET",
        perms + "/get",
        params={
            "username": "alice",
            "resource_type": "registered_model",
            "resource_id": "my-model",
        },
    )
    call("GET", perms + "/list", params={"username": "alice"})
    call("GET", "/api/3.0/mlflow/users/current/permissions", auth=alice)
    call(
        "POST",
        perms + "/revoke",
        json={"username": "alice", "resource_type": "experiment", "resource_id": eid},
    )
    call(
        "POST",
        perms + "/revoke",
        json={"username": "alice", "resource_type": "experiment", "resource_id": eid},
    )
    call(
        "GET",
        perms + "/get",
        params={"username": "alice", "resource_type": "experiment", "resource_id": eid},
    )
    call(
        "POST",
        perms + "/grant",
        auth=alice,
        json={
            "username": "alice",
            "resource_type": "experiment",
            "resource_id": eid,
            "permission": "MANAGE",
        },
    )
    call(
        "POST",
        "/api/2.0/mlflow/experiments/permissions/create",
        json={"experiment_id": eid, "username": "alice", "permission": "READ"},
    )
    call(
        "GET",
        "/api/2.0/mlflow/experiments/permissions/get",
        params={"experiment_id": eid, "username": "alice"},
    )
    role = call(
        "POST",
        roles + "/create",
        json={"workspace": "default", "name": "readers", "description": "read all"},
    )
    call("POST", roles + "/create", json={"workspace": "default", "name": "readers"})
    rid = role.get("role", {}).get("id", 1)
    call("GET", roles + "/get", params={"role_id": str(rid)})
    call("GET", roles + "/get", params={"role_id": "9999"})
    call("GET", roles + "/list", params={"workspace": "default"})
    call("GET", roles + "/list")
    call("PATCH", roles + "/update", json={"role_id": rid, "description": "readers of all"})
    rp = call(
        "POST",
        roles + "/permissions/add",
        json={
            "role_id": rid,
            "resource_type": "experiment",
            "resource_pattern": "*",
            "permission": "READ",
        },
    )
    call(
        "POST",
        roles + "/permissions/add",
        json={
            "role_id": rid,
            "resource_type": "run",
            "resource_pattern": "abc",
            "permission": "READ",
        },
    )
    call(
        "POST",
        roles + "/permissions/add",
        json={
            "role_id": rid,
            "resource_type": "workspace",
            "resource_pattern": "*",
            "permission": "READ",
        },
    )
    rpid = rp.get("role_permission", {}).get("id", 1)
    call("GET", roles + "/permissions/list", params={"role_id": str(rid)})
    call(
        "PATCH",
        roles + "/permissions/update",
        json={"role_permission_id": rpid, "permission": "EDIT"},
    )
    call("POST", roles + "/assign", json={"username": "alice", "role_id": rid})
    call("POST", roles + "/assign", json={"username": "alice", "role_id": rid})
    call("GET", "/api/3.0/mlflow/users/roles/list", params={"username": "alice"})
    call("GET", roles + "/users/list", params={"role_id": str(rid)})
    call("GET", roles + "/list", auth=alice, params={"workspace": "default"})
    call("POST", roles + "/create", auth=alice, json={"workspace": "default", "name": "x"})
    call("DELETE", roles + "/unassign", json={"username": "alice", "role_id": rid})
    call("DELETE", roles + "/permissions/remove", json={"role_permission_id": rpid})
    call("DELETE", roles + "/delete", json={"role_id": rid})
    call("DELETE", roles + "/delete", json={"role_id": rid})
    call("DELETE", users + "/delete", auth=alice, json={"username": "admin"})
    call("DELETE", users + "/delete", json={"username": "alice"})
    call("DELETE", users + "/delete", json={"username": "alice"})
    call("GET", "/signup", auth=None)
    call("GET", "/", auth=None)


if __name__ == "__main__":
    main(*sys.argv[1:4])
