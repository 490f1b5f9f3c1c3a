"""Settings of ``runyard server --auth``, registered with the server's own settings."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from runyard.auth.permissions import Permission, parse_permission
from runyard.config import Setting
from runyard.errors import InvalidParameterValue

AUTH_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "auth",
        "false",
        "Require sign-in on every route except /health, /ready, /version, the sign-in page and "
        "static files (HTTP basic, bearer tokens, a browser session or a trusted proxy).",
    ),
    Setting(
        "auth_database_uri",
        None,
        "Database of users, tokens and permissions (sqlite:/// or postgresql://). Default: the "
        "tracking database for SQL stores; for a file store, <store directory>-auth.db beside it.",
    ),
    Setting(
        "auth_default_permission",
        "READ",
        "Permission on experiments and registered models a user was not granted anything on: "
        "READ, USE, EDIT, MANAGE or DENY (NO_PERMISSIONS is read as DENY).",
    ),
    Setting(
        "admin_username",
        None,
        "With admin_password: the first administrator, created at start-up if that user does "
        "not exist yet (an existing user is left unchanged). There is no default account.",
    ),
    Setting("admin_password", None, "Password of admin_username (at least 12 characters)."),
    Setting(
        "auth_metrics_open",
        "false",
        "Serve /metrics without credentials (for a scraper the network already restricts).",
    ),
    Setting("auth_session_hours", "12", "Hours a browser session lasts after sign-in."),
    Setting(
        "auth_max_failed_logins",
        "10",
        "Failed sign-ins per account name (five times as many per client address) before "
        "further attempts are refused (429) for the rest of auth_failed_login_window.",
    ),
    Setting("auth_failed_login_window", "300", "Seconds over which failed sign-ins are counted."),
    Setting(
        "auth_secure_cookies",
        "auto",
        "Mark the session cookie Secure: auto (when the request came over TLS, directly or per "
        "X-Forwarded-Proto from a trusted proxy), true or false.",
    ),
    Setting(
        "auth_proxy_user_header",
        None,
        "Trusted-header mode: take the user name from this header (e.g. X-Forwarded-User), only "
        "on requests from auth_trusted_proxies; the account is created on first sight.",
    ),
    Setting(
        "auth_proxy_groups_header",
        None,
        "Header with the user's groups, comma-separated (e.g. X-Forwarded-Groups).",
    ),
    Setting(
        "auth_trusted_proxies",
        None,
        "Comma-separated addresses or networks (10.0.0.5, 10.1.0.0/16) of the identity proxy "
        "whose headers are believed; from anywhere else the headers are ignored.",
    ),
    Setting(
        "auth_proxy_group_permissions",
        None,
        "Groups mapped to permissions on every experiment and registered model, e.g. "
        "'ml-admins=ADMIN,ml-team=EDIT,viewers=READ' (ADMIN makes the user an administrator).",
    ),
)


@dataclass(frozen=True)
class AuthConfig:
    enabled: bool
    database_uri: str | None
    default_permission: Permission
    admin_username: str | None
    admin_password: str | None
    metrics_open: bool
    session_lifetime: timedelta
    max_failed_logins: int
    failed_login_window: float
    secure_cookies: str
    proxy_user_header: str | None
    proxy_groups_header: str | None
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    group_permissions: dict[str, str]

    @classmethod
    def resolve(cls, get: Callable[[str], str | None]) -> AuthConfig:
        def flag(name: str) -> bool:
            return (get(name) or "").strip().lower() in ("1", "true", "yes", "on")

        def number(name: str) -> float:
            try:
                return float(get(name) or 0)
            except ValueError:
                raise InvalidParameterValue(f"Setting {name!r} must be a number.") from None

        secure = (get("auth_secure_cookies") or "auto").strip().lower()
        if secure not in ("auto", "true", "false"):
            raise InvalidParameterValue(
                "Setting 'auth_secure_cookies' must be auto, true or false."
            )
        return cls(
            enabled=flag("auth"),
            database_uri=get("auth_database_uri") or None,
            default_permission=parse_permission(get("auth_default_permission") or "READ"),
            admin_username=get("admin_username") or None,
            admin_password=get("admin_password") or None,
            metrics_open=flag("auth_metrics_open"),
            session_lifetime=timedelta(hours=number("auth_session_hours") or 12),
            max_failed_logins=max(1, int(number("auth_max_failed_logins") or 10)),
            failed_login_window=number("auth_failed_login_window") or 300.0,
            secure_cookies=secure,
            proxy_user_header=get("auth_proxy_user_header") or None,
            proxy_groups_header=get("auth_proxy_groups_header") or None,
            trusted_proxies=_networks(get("auth_trusted_proxies")),
            group_permissions=_group_permissions(get("auth_proxy_group_permissions")),
        )

    @property
    def proxy_mode(self) -> bool:
        return bool(self.proxy_user_header and self.trusted_proxies)


def _networks(text: str | None) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for item in (text or "").split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise InvalidParameterValue(
                    f"auth_trusted_proxies: {item.strip()!r} is not an address or network."
                ) from None
    return tuple(networks)


def _group_permissions(text: str | None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        group, sep, level = item.partition("=")
        level = level.strip().upper()
        if not sep or not group.strip():
            raise InvalidParameterValue(
                f"auth_proxy_group_permissions: {item.strip()!r} is not group=PERMISSION."
            )
        if level != "ADMIN":
            level = parse_permission(level).name
        mapping[group.strip()] = level
    return mapping
