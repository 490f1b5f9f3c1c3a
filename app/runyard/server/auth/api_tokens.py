"""runyard's API-token routes (``/api/2.0/runyard/tokens/...``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from runyard.auth.credentials import parse_duration
from runyard.server.api.common import reply, request_fields
from runyard.server.auth.api import (
    auth_store,
    caller,
    param,
    require_self_or_admin,
)

bp = Blueprint("auth_tokens", __name__)


def _token_owner(fields: dict[str, Any]) -> str:
    username = str(fields.get("username") or caller().username)
    require_self_or_admin(username)
    return username


@bp.post("/tokens/create")
def create_token() -> Response:
    fields = request_fields()
    username = _token_owner(fields)
    expires = fields.get("expires_in")
    lifetime = parse_duration(str(expires)) if expires else None
    token, secret = auth_store().create_token(username, param(fields, "name"), lifetime)
    return reply({"token": token.to_json(), "secret": secret})


@bp.get("/tokens/list")
def list_tokens() -> Response:
    fields = request_fields()
    username = fields.get("username")
    if username is None and not caller().is_admin:
        username = caller().username
    if username is not None:
        require_self_or_admin(str(username))
    found = auth_store().list_tokens(None if username is None else str(username))
    return reply({"tokens": [t.to_json() for t in found]})


@bp.post("/tokens/revoke")
def revoke_token() -> Response:
    fields = request_fields()
    auth_store().revoke_token(_token_owner(fields), param(fields, "name"))
    return reply()
