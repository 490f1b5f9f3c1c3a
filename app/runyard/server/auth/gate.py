"""The one decision every request passes: open, or signed in (and then what it may do).

It runs before any view, over the whole URL map: a route is open only if its endpoint is listed
in ``OPEN_ENDPOINTS``; every other route, including unknown paths and routes added later, needs
credentials. Decided by endpoint (after routing), not by path text, so no spelling of a path
reaches a protected view as an open one. Per-entity permissions are then decided by the
``AuthorizedStore`` the request gets, and artifact-proxy paths by their experiment here.
"""

from __future__ import annotations

import hmac
import logging

from flask import Flask, Response, current_app, g, redirect, request, url_for

from runyard.auth.access import Access
from runyard.auth.permissions import EXPERIMENT
from runyard.auth.store import AuthStore
from runyard.errors import PermissionDenied, ResourceDoesNotExist, Unauthenticated
from runyard.server.api import artifact_proxy
from runyard.server.auth.identify import SESSION_COOKIE, Identifier, Identity
from runyard.server.auth.settings import AuthConfig
from runyard.server.auth.view import AuthorizedStore, RunExperiments
from runyard.server.mount import API_PATHS, mounted_names

log = logging.getLogger("runyard.server")

#: Endpoints anyone may call: probes, the sign-in page, static files.
OPEN_ENDPOINTS = frozenset(
    {"ops.health", "ops.ready", "ops.version", "auth_ui.login", "static", "ui.static"}
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
#: Artifact-proxy endpoint suffix -> what it needs on the experiment the path is under.
_ARTIFACT_NEEDS = {
    "download": "read",
    "list": "read",
    "upload": "update",
    "mpu": "update",
    "delete": "manage",
}


class Gate:
    def __init__(self, cfg: AuthConfig, store: AuthStore) -> None:
        self.cfg = cfg
        self.store = store
        self.identifier = Identifier(store, cfg)
        self.runs = RunExperiments()
        self.open_endpoints = OPEN_ENDPOINTS | ({"ops.metrics"} if cfg.metrics_open else set())

    def install(self, app: Flask) -> None:
        app.before_request(self.decide)

    # ---- the decision ------------------------------------------------------------------------
    def decide(self) -> Response | None:
        if request.endpoint in self.open_endpoints:
            return None
        self.store.refresh()  # one small query; lookups below then come from memory
        identity = self.identifier.identify(request)
        if identity is None:
            return self._unauthenticated()
        self._check_csrf(identity)
        g.runyard_identity = identity
        seen_version = self.store.read_version()  # before the read: a change after it shows
        access = self._access(identity)
        view = AuthorizedStore(
            current_app.config["RUNYARD_STORE"],
            access,
            self.store,
            self.runs,
            reload_access=lambda: self._access(identity),
            seen_version=seen_version,
        )
        g.runyard_store_view = view
        if request.blueprint in mounted_names(artifact_proxy.bp):
            self._check_artifact_path(view, access)
        return None

    def _access(self, identity: Identity) -> Access:
        """What ``identity`` may do, from its grants as this process knows them now."""
        grants = [*self.store.user_grants(identity.user.id), *identity.extra_grants]
        if identity.user.is_admin:
            grants = []
        access = Access(identity.user, grants, self.cfg.default_permission)
        g.runyard_access = access
        return access

    def _unauthenticated(self) -> Response:
        wants_page = (
            request.method == "GET"
            and not request.path.startswith(API_PATHS)
            and "text/html" in request.headers.get("Accept", "")
        )
        if wants_page and "auth_ui.login" in current_app.view_functions:
            return redirect(url_for("auth_ui.login", next=request.full_path.rstrip("?")))
        error = Unauthenticated(
            "Authentication required: send HTTP basic credentials or a bearer token, or sign in."
        )
        from runyard.server.errors import error_response

        response = error_response(error.error_code, error.message, 401)
        # Invite basic credentials from API clients, not from a browser whose session ended
        # (it would pop up a password dialog over the page).
        if request.path.startswith("/api/") and SESSION_COOKIE not in request.cookies:
            response.headers["WWW-Authenticate"] = 'Basic realm="runyard", charset="UTF-8"'
        return response

    def _check_csrf(self, identity: Identity) -> None:
        """A browser session's writes must carry its CSRF token (header or form field)."""
        if identity.method != "session" or request.method in SAFE_METHODS:
            return
        sent = request.headers.get(CSRF_HEADER) or ""
        if not sent and request.mimetype in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            sent = request.form.get(CSRF_FIELD, "")
        expected = identity.csrf_token or ""
        if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
            raise PermissionDenied("The request's CSRF token is missing or wrong; reload the page.")

    def _check_artifact_path(self, view: AuthorizedStore, access: Access) -> None:
        """Artifact-proxy paths are ``<experiment id>/<run id>/...``: decide by that experiment.
        Anything not under an existing experiment is for administrators only."""
        if access.is_admin:
            return
        args = request.view_args or {}
        raw = args.get("artifact_path") if "artifact_path" in args else request.args.get("path")
        path = artifact_proxy.checked_path(raw)
        experiment_id = path.split("/", 1)[0] if path else ""
        action = (request.endpoint or "").rsplit(".", 1)[-1]
        need = _ARTIFACT_NEEDS.get(action)
        if not experiment_id or need is None:
            raise PermissionDenied("Permission denied: this artifact path is for administrators.")
        try:
            current_app.config["RUNYARD_STORE"].get_experiment(experiment_id)
        except ResourceDoesNotExist:
            raise PermissionDenied(
                "Permission denied: this artifact path is for administrators."
            ) from None
        view.require(EXPERIMENT, experiment_id, need)
