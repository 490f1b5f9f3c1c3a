"""MLflow's own auth client, unchanged, managing users, permissions and roles as an admin."""

import json
import os

import mlflow
from mlflow.exceptions import RestException
from mlflow.server import get_app_client

client = get_app_client("basic-auth", tracking_uri=os.environ["MLFLOW_TRACKING_URI"])
out = {}

user = client.create_user("dora", "dora-password-1")
out["created"] = [user.username, user.is_admin, user.password_hash]
try:
    client.create_user("eve", "short")
except RestException as exc:
    out["short_password"] = exc.error_code
try:
    client.create_user("dora", "dora-password-1")
except RestException as exc:
    out["duplicate"] = exc.error_code
out["got"] = client.get_user("dora").username
client.update_user_password("dora", "dora-password-2")
client.update_user_admin("dora", True)
out["admin_after_update"] = client.get_user("dora").is_admin
client.update_user_admin("dora", False)

experiment_id = mlflow.create_experiment("auth-compat")
client.grant_user_permission("dora", "experiment", experiment_id, "EDIT")
got = client.get_user_permission("dora", "experiment", experiment_id)
out["granted"] = [got.permission, got.allowed]
client.revoke_user_permission("dora", "experiment", experiment_id)
client.grant_user_permission("dora", "experiment", experiment_id, "NO_PERMISSIONS")
out["deny"] = client.get_user_permission("dora", "experiment", experiment_id).permission
client.grant_user_permission("dora", "registered_model", "churn", "READ")
out["model"] = client.get_user_permission("dora", "registered_model", "churn").permission

role = client.create_role("default", "editors", description="edit everything")
out["role"] = [role.name, role.workspace, role.description]
out["role_get"] = client.get_role(role.id).name
out["roles_listed"] = [r.name for r in client.list_roles("default")]
role = client.update_role(role.id, description="edit all experiments")
grant = client.add_role_permission(role.id, "experiment", "*", "EDIT")
out["role_permission"] = [grant.resource_type, grant.resource_pattern, grant.permission]
grant = client.update_role_permission(grant.id, "MANAGE")
out["role_permission_updated"] = grant.permission
out["role_permissions"] = [p.permission for p in client.list_role_permissions(role.id)]
assignment = client.assign_role("dora", role.id)
out["assigned"] = assignment.role_id == role.id
out["user_roles"] = sorted(r.name for r in client.list_user_roles("dora"))
out["role_users"] = len(client.list_role_users(role.id))
out["other_experiment"] = client.get_user_permission("dora", "experiment", "0").permission
client.unassign_role("dora", role.id)
client.remove_role_permission(grant.id)
client.delete_role(role.id)
try:
    client.get_role(role.id)
except RestException as exc:
    out["deleted_role"] = exc.error_code
client.delete_user("dora")
try:
    client.get_user("dora")
except RestException as exc:
    out["deleted_user"] = exc.error_code
print(json.dumps(out))
