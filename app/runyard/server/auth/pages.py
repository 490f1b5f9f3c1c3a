"""Sign-in, sign-out and the admin page (users, tokens, permissions).

The session cookie holds only a random id (its hash is in the auth database); it is
``HttpOnly``, ``SameSite=Lax``, ``Secure`` when the request came over TLS, and a new id is
issued at every sign-in, so an id planted before sign-in is worthless. Every form carries a
CSRF token: before sign-in, one bound to a cookie of its own (double submit); after, the
session's token, which the gate checks on every write.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from runyard.auth.credentials import parse_duration
from runyard.auth.permissions import PERMISSION_NAMES, RESOURCE_TYPES
from runyard.auth.store import AuthStore
from runyard.errors import InvalidParameterValue, PermissionDenied, RunyardError
from runyard.server.auth.gate import CSRF_FIELD
from runyard.server.auth.identify import SESSION_COOKIE, client_address, from_trusted_proxy
from runyard.server.auth.settings import AuthConfig

bp = Blueprint("auth_ui", __name__)

LOGIN_CSRF_COOKIE = "runyard_login_csrf"


def _cfg() -> AuthConfig:
    return current_app.config["RUNYARD_SERVER_CONFIG"].auth


def _store() -> AuthStore:
    return current_app.config["RUNYARD_AUTH_STORE"]


def _secure() -> bool:
    cfg = _cfg()
    if cfg.secure_cookies != "auto":
        return cfg.secure_cookies == "true"
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.is_secure or (forwarded == "https" and from_trusted_proxy(request, cfg))


def _local_target(target: str | None) -> str:
    """Only a path on this server, never another site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return (
            url_for("ui.experiments_page")
            if "ui.experiments_page" in current_app.view_functions
            else "/"
        )
    return target


def _login_form(error: str | None = None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    html = render_template(
        "login.html", csrf_token=token, next=request.values.get("next", ""), error=error
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=_secure(),
        path=url_for("auth_ui.login"),
    )
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    """The only page open to everyone (with static files and the probes)."""
    return _login_form() if request.method == "GET" else _login_submit()


def _login_submit() -> Response:
    sent = request.form.get(CSRF_FIELD, "")
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_form("The form expired or was not sent from this page; try again.", 400)
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    identifier = current_app.config["RUNYARD_AUTH_GATE"].identifier
    try:
        user = identifier.sign_in(username, password, client_address(request, _cfg()))
    except RunyardError as exc:
        return _login_form(exc.message, exc.http_status)
    if user is None:
        return _login_form("Invalid username or password.", 401)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        _store().delete_session(old)
    lifetime = _cfg().session_lifetime
    session_id, _csrf = _store().create_session(user.id, lifetime)
    response = redirect(_local_target(request.form.get("next")), code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=_secure(),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=url_for("auth_ui.login"))
    return response


@bp.post("/logout")
def logout() -> Response:
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        _store().delete_session(session_id)
    response = redirect(url_for("auth_ui.login"), code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---- admin page ---------------------------------------------------------------------------------
def _require_admin() -> None:
    if not g.runyard_access.is_admin:
        raise PermissionDenied("Permission denied: the admin page is for administrators.")


def _admin_page(
    message: str | None = None, secret: str | None = None, status: int = 200
) -> Response:
    store = _store()
    users = store.list_users()
    grants = {u.username: store.user_grants(u.id) for u in users}
    html = render_template(
        "admin.html",
        users=users,
        grants=grants,
        tokens=store.list_tokens(),
        roles=store.list_roles(),
        permissions=[p for p in PERMISSION_NAMES if p != "NO_PERMISSIONS"],
        resource_types=sorted(RESOURCE_TYPES),
        message=message,
        secret=secret,
    )
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/admin")
def admin() -> Response:
    _require_admin()
    return _admin_page()


_ACTIONS: dict[str, Any] = {}


def _action(name: str):  # type: ignore[no-untyped-def]
    def register(function):  # type: ignore[no-untyped-def]
        _ACTIONS[name] = function
        return function

    return register


@_action("create_user")
def _create_user(form: Any) -> str | None:
    _store().create_user(
        form.get("username", ""), form.get("password", ""), bool(form.get("is_admin"))
    )
    return None


@_action("delete_user")
def _delete_user(form: Any) -> str | None:
    if form.get("username") == g.runyard_access.user.username:
        raise InvalidParameterValue("Administrators cannot delete their own account.")
    _store().delete_user(form.get("username", ""))
    return None


@_action("set_admin")
def _set_admin(form: Any) -> str | None:
    _store().update_admin(form.get("username", ""), form.get("is_admin") == "true")
    return None


@_action("set_password")
def _set_password(form: Any) -> str | None:
    _store().update_password(form.get("username", ""), form.get("password", ""))
    return None


@_action("create_token")
def _create_token(form: Any) -> str | None:
    expires = form.get("expires_in") or ""
    lifetime = parse_duration(expires) if expires else None
    _token, secret = _store().create_token(form.get("username", ""), form.get("name", ""), lifetime)
    return secret


@_action("revoke_token")
def _revoke_token(form: Any) -> str | None:
    _store().revoke_token(form.get("username", ""), form.get("name", ""))
    return None


@_action("grant")
def _grant(form: Any) -> str | None:
    _store().set_grant(
        _store().get_user(form.get("username", "")).id,
        form.get("resource_type", ""),
        form.get("resource_id", ""),
        form.get("permission", ""),
    )
    return None


@_action("revoke")
def _revoke(form: Any) -> str | None:
    _store().revoke(
        form.get("username", ""), form.get("resource_type", ""), form.get("resource_id", "")
    )
    return None


@bp.post("/admin")
def admin_post() -> Response:
    """One form handler; the gate has already checked the session's CSRF token."""
    _require_admin()
    action = _ACTIONS.get(request.form.get("action", ""))
    if action is None:
        return _admin_page("Unknown action.", status=400)
    try:
        secret = action(request.form)
    except RunyardError as exc:
        return _admin_page(exc.message, status=exc.http_status)
    if secret:
        return _admin_page("Token created. Copy it now: it is not shown again.", secret=secret)
    return redirect(url_for("auth_ui.admin"), code=303)


def register(app: Flask, cfg: AuthConfig) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _signed_in() -> dict[str, Any]:
        identity = g.get("runyard_identity")
        return {
            "signed_in_user": identity.user if identity else None,
            "session_csrf_token": identity.csrf_token if identity else None,
        }
