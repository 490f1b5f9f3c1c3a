"""Settings of ``runyard server --auth`` (declared in ``runyard.settings_catalog``), read once."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from runyard import config
from runyard.auth.permissions import Permission, parse_permission
from runyard.errors import InvalidParameterValue


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
    def resolve(cls, overrides: Mapping[str, object | None]) -> AuthConfig:
        def get(name: str) -> str | None:
            return config.get_text(name, overrides)

        def flag(name: str) -> bool:
            return config.get_bool(name, overrides)

        def number(name: str) -> float:
            return config.get_float(name, overrides)

        secure = (get("auth_secure_cookies") or "").strip().lower()
        if secure not in ("auto", "true", "false"):
            raise InvalidParameterValue(
                "Setting 'auth_secure_cookies' must be auto, true or false."
            )
        return cls(
            enabled=flag("auth"),
            database_uri=get("auth_database_uri"),
            default_permission=parse_permission(get("auth_default_permission") or ""),
            admin_username=get("admin_username"),
            admin_password=get("admin_password"),
            metrics_open=flag("auth_metrics_open"),
            session_lifetime=timedelta(hours=number("auth_session_hours")),
            max_failed_logins=max(1, int(number("auth_max_failed_logins"))),
            failed_login_window=number("auth_failed_login_window"),
            secure_cookies=secure,
            proxy_user_header=get("auth_proxy_user_header"),
            proxy_groups_header=get("auth_proxy_groups_header"),
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
