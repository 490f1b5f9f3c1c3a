"""Permissions on registered models through MLflow's own clients, unchanged.

The admin's auth client grants on a model; three users then act with the plain mlflow client:
``maker`` registers the model (and so manages it), ``viewer`` is denied it, ``editor`` may edit
it. MLflow 3.17.2's auth client no longer has the 2.x registered-model permission methods;
their routes and payloads (those of MLflow 2.x's ``create/get/update/delete_registered_model_
permission``) are sent here through the 3.17.2 client's own transport (``_request``) and read
back with its ``RegisteredModelPermission`` entity.
"""

import json
import os
import tempfile

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException, RestException
from mlflow.server import get_app_client
from mlflow.server.auth.entities import RegisteredModelPermission

USERS = {
    "admin": "admin-password-1",
    "maker": "maker-password-1",
    "viewer": "viewer-password-1",
    "editor": "editor-password-1",
}
LEGACY = "/api/2.0/mlflow/registered-models/permissions"


def as_user(username: str) -> None:
    os.environ["MLFLOW_TRACKING_USERNAME"] = username
    os.environ["MLFLOW_TRACKING_PASSWORD"] = USERS[username]


def error_of(call) -> str:  # type: ignore[no-untyped-def]
    try:
        call()
    except RestException as exc:
        return exc.error_code
    except MlflowException as exc:  # the client's own wrapping of a download's failure
        return "PERMISSION_DENIED" if "403" in str(exc) or "PERMISSION" in str(exc) else str(exc)
    return "OK"


out = {}
auth = get_app_client("basic-auth", tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
as_user("admin")
for name in ("maker", "viewer", "editor"):
    auth.create_user(name, USERS[name])
client = MlflowClient()

# maker: an experiment, a run with model files, a registered model from it.
as_user("maker")
mlflow.set_experiment("auth-registry")
with mlflow.start_run() as run:
    mlflow.log_text("flavors: {}\n", "model/MLmodel")
version = mlflow.register_model(f"runs:/{run.info.run_id}/model", "guarded")
client.set_registered_model_alias("guarded", "champion", version.version)
mlflow.register_model(f"runs:/{run.info.run_id}/model", "open")

as_user("admin")
out["maker"] = auth.get_user_permission("maker", "registered_model", "guarded").permission
auth.grant_user_permission("viewer", "registered_model", "guarded", "DENY")
created = auth._request(
    f"{LEGACY}/create",
    "POST",
    json={"name": "guarded", "username": "editor", "permission": "READ"},
)
out["legacy_created"] = RegisteredModelPermission.from_json(
    created["registered_model_permission"]
).permission
auth._request(
    f"{LEGACY}/update",
    "PATCH",
    json={"name": "guarded", "username": "editor", "permission": "EDIT"},
)
got = auth._request(f"{LEGACY}/get", "GET", params={"name": "guarded", "username": "editor"})
out["legacy_got"] = RegisteredModelPermission.from_json(got["registered_model_permission"]).name
out["editor"] = auth.get_user_permission("editor", "registered_model", "guarded").permission

# viewer: denied, so the model is absent from searches and nothing of it can be read.
as_user("viewer")
out["viewer_models"] = sorted(m.name for m in client.search_registered_models())
out["viewer_versions"] = [
    v.name for v in client.search_model_versions(f"run_id = '{run.info.run_id}'")
]
out["viewer_get"] = error_of(lambda: client.get_registered_model("guarded"))
out["viewer_alias"] = error_of(lambda: client.get_model_version_by_alias("guarded", "champion"))
out["viewer_latest"] = error_of(lambda: client.get_latest_versions("guarded"))
with tempfile.TemporaryDirectory() as target:
    out["viewer_download"] = error_of(
        lambda: mlflow.artifacts.download_artifacts("models:/guarded/1", dst_path=target)
    )
out["viewer_tag"] = error_of(lambda: client.set_registered_model_tag("guarded", "k", "v"))

# editor: may change it, not delete anything of it.
as_user("editor")
client.set_registered_model_tag("guarded", "reviewed", "yes")
client.set_model_version_tag("guarded", "1", "validated", "true")
out["editor_delete_version_tag"] = error_of(
    lambda: client.delete_model_version_tag("guarded", "1", "validated")
)
out["editor_delete_version"] = error_of(lambda: client.delete_model_version("guarded", "1"))
out["editor_delete_model"] = error_of(lambda: client.delete_registered_model("guarded"))

# maker: downloads, renames (grants follow), deletes (grants go).
as_user("maker")
with tempfile.TemporaryDirectory() as target:
    path = mlflow.artifacts.download_artifacts("models:/guarded@champion", dst_path=target)
    with open(os.path.join(path, "MLmodel")) as downloaded:
        out["maker_download"] = downloaded.read()
client.rename_registered_model("guarded", "guarded-v2")
as_user("admin")
out["renamed_editor"] = auth.get_user_permission(
    "editor", "registered_model", "guarded-v2"
).permission
out["renamed_viewer"] = auth.get_user_permission(
    "viewer", "registered_model", "guarded-v2"
).permission
as_user("viewer")
out["viewer_after_rename"] = sorted(m.name for m in client.search_registered_models())
as_user("maker")
client.delete_registered_model("guarded-v2")
as_user("admin")
out["deleted_editor"] = auth.get_user_permission(
    "editor", "registered_model", "guarded-v2"
).permission
auth._request(f"{LEGACY}/delete", "DELETE", json={"name": "open", "username": "maker"})
out["legacy_deleted"] = error_of(
    lambda: auth._request(f"{LEGACY}/get", "GET", params={"name": "open", "username": "maker"})
)
print(json.dumps(out))
