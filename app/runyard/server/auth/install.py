"""``install_auth``: turn a server app into one that needs sign-in (``--auth``)."""

from __future__ import annotations

import logging

from flask import Flask

from runyard.auth.store import AuthStore
from runyard.errors import BadRequest, ResourceAlreadyExists
from runyard.server.auth import api, pages
from runyard.server.auth.database import auth_database_uri
from runyard.server.auth.gate import Gate
from runyard.server.settings import ServerConfig

log = logging.getLogger("runyard.server")


def bootstrap_admin(store: AuthStore, cfg: ServerConfig) -> None:
    """Create the first administrator from explicit settings; never invent one."""
    username, password = cfg.auth.admin_username, cfg.auth.admin_password
    if username and password:
        if store.find_user(username) is None:
            try:
                store.create_user(username, password, is_admin=True)
                log.info("created administrator %r from admin_username", username)
            except (ResourceAlreadyExists, BadRequest):  # another worker was first
                pass
    elif store.count_users() == 0:
        log.warning(
            "auth is on and there are no users: set RUNYARD_ADMIN_USERNAME and "
            "RUNYARD_ADMIN_PASSWORD, or run `runyard users create --admin NAME`"
        )


def install_auth(app: Flask, cfg: ServerConfig) -> None:
    """Accounts, the gate over every route, MLflow's auth API, sign-in and admin pages."""
    if not cfg.auth.enabled:
        return
    if cfg.auth.proxy_user_header and not cfg.auth.trusted_proxies:
        log.warning(
            "auth_proxy_user_header is set but auth_trusted_proxies is empty: the header is "
            "ignored until the proxy's addresses are listed"
        )
    store = AuthStore(auth_database_uri(cfg))
    store.remember_reads()
    bootstrap_admin(store, cfg)
    app.config["RUNYARD_AUTH_STORE"] = store
    gate = Gate(cfg.auth, store)
    gate.install(app)
    app.config["RUNYARD_AUTH_GATE"] = gate
    api.register(app)
    pages.register(app, cfg.auth)
