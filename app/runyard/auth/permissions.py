"""Permission levels and how grants combine, as MLflow 3.17's basic-auth app defines them.

A grant gives one permission on resources of one type whose id matches a pattern (an exact id,
or ``*`` for all). The grants that match a resource are folded: any ``DENY`` wins, otherwise the
highest level. A positive result is raised to the configured default (the default is a floor);
no matching grant at all means the default. ``NO_PERMISSIONS``, MLflow's older name, is read as
``DENY``. Registered models are keyed by name, experiments by id.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from runyard.errors import InvalidParameterValue


class Permission(enum.IntEnum):
    """Ordered so that a higher value can do everything a lower one can (``DENY`` is lowest)."""

    DENY = 0
    READ = 1
    USE = 2
    EDIT = 3
    MANAGE = 4

    @property
    def can_read(self) -> bool:
        return self >= Permission.READ

    @property
    def can_use(self) -> bool:
        return self >= Permission.USE

    @property
    def can_update(self) -> bool:
        return self >= Permission.EDIT

    @property
    def can_manage(self) -> bool:
        return self >= Permission.MANAGE


#: Every name a client may send; ``NO_PERMISSIONS`` is MLflow's older spelling of ``DENY``.
PERMISSION_NAMES = ("READ", "USE", "EDIT", "MANAGE", "NO_PERMISSIONS", "DENY")

EXPERIMENT = "experiment"
REGISTERED_MODEL = "registered_model"
WORKSPACE = "workspace"
#: Sub-resource tiers (``*`` only) that runyard decides by, as MLflow 3.17 does: a grant on
#: ``registered_model_version`` governs what may be done to versions; a ``DENY`` on ``run`` or
#: ``logged_model`` withholds a version's links to runs or logged models.
REGISTERED_MODEL_VERSION = "registered_model_version"
RUN = "run"
LOGGED_MODEL = "logged_model"
#: Resource types MLflow's client may name. runyard enforces experiments and registered models
#: (and the workspace slot); the others are stored so MLflow's client round-trips them.
WILDCARD_ONLY_TYPES = frozenset(
    {
        WORKSPACE,
        RUN,
        "trace",
        "assessment",
        LOGGED_MODEL,
        "review_queue",
        REGISTERED_MODEL_VERSION,
        "prompt_version",
        "scorer_version",
        "mcp_server_version",
    }
)
RESOURCE_TYPES = frozenset(
    {
        EXPERIMENT,
        REGISTERED_MODEL,
        "prompt",
        "scorer",
        "gateway_secret",
        "gateway_endpoint",
        "gateway_model_definition",
        "mcp_server",
    }
    | WILDCARD_ONLY_TYPES
)
WILDCARD = "*"
DEFAULT_WORKSPACE = "default"


def parse_permission(name: object) -> Permission:
    """A permission from its name; ``NO_PERMISSIONS`` is ``DENY``; anything else is a 400."""
    text = str(name or "").strip().upper()
    if text == "NO_PERMISSIONS":
        return Permission.DENY
    try:
        return Permission[text]
    except KeyError:
        raise InvalidParameterValue(
            f"Invalid permission '{name}'. Valid permissions are: {PERMISSION_NAMES}"
        ) from None


def check_grant(resource_type: str, pattern: str, permission: Permission) -> None:
    """Refuse a grant MLflow refuses: unknown type, an id on a wildcard-only type, a workspace
    grant other than USE or MANAGE."""
    if resource_type not in RESOURCE_TYPES:
        raise InvalidParameterValue(
            f"Invalid resource type '{resource_type}'. Valid resource types are: "
            f"{tuple(sorted(RESOURCE_TYPES))}"
        )
    if not pattern:
        raise InvalidParameterValue("Missing value for required parameter 'resource_id'.")
    if resource_type in WILDCARD_ONLY_TYPES and pattern != WILDCARD:
        raise InvalidParameterValue(
            f"Invalid resource_pattern '{pattern}' for resource_type='{resource_type}'. "
            "This resource type supports only wildcard ('*') grants."
        )
    if resource_type == WORKSPACE and permission not in (Permission.USE, Permission.MANAGE):
        raise InvalidParameterValue(
            f"Invalid permission '{permission.name}' for resource_type='workspace'. "
            "Workspace-wide grants accept only: ('MANAGE', 'USE')."
        )


#: What each action needs, by the names decisions use.
_ALLOWS = {
    "read": lambda p: p.can_read,
    "use": lambda p: p.can_use,
    "update": lambda p: p.can_update,
    "manage": lambda p: p.can_manage,
}


def allows(level: Permission, need: str) -> bool:
    """Whether ``level`` permits ``need`` (``read``, ``use``, ``update`` or ``manage``)."""
    return bool(_ALLOWS[need](level))


def fold(matching: Iterable[Permission], default: Permission) -> Permission:
    """The effective permission from the grants that match one resource."""
    best: Permission | None = None
    for permission in matching:
        if permission is Permission.DENY:
            return Permission.DENY
        best = permission if best is None else max(best, permission)
    if best is None:
        return default
    return max(best, default)
