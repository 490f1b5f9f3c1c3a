"""The options every form of MLflow's ``autolog()`` takes, applied in one place for each
integration: ``extra_tags``, ``silent``, ``exclusive`` and
``disable_for_unsupported_versions``."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import Any

from runyard.autolog.patch import configure

#: integration -> (lowest, first unsupported) library version (major, minor): the lowest is
#: what runyard's extras require; the next major release is one autologging has not met.
SUPPORTED_VERSIONS: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "sklearn": ((1, 3), (2, 0)),
    "lightgbm": ((4, 0), (5, 0)),
    "xgboost": ((2, 0), (4, 0)),
}


class UnsupportedVersionWarning(UserWarning):
    """The installed library is outside the versions autologging is tested with."""


def version_supported(integration: str, version: str) -> bool:
    low, high = SUPPORTED_VERSIONS[integration]
    return low <= _major_minor(version) < high


def _major_minor(version: str) -> tuple[int, int]:
    """``(1, 9)`` of ``1.9.1`` or ``1.9rc1``; a part that is not a number counts as 0."""
    found = re.match(r"(\d+)(?:\.(\d+))?", version.strip())
    if found is None:
        return (0, 0)
    return int(found.group(1)), int(found.group(2) or 0)


def apply_common(
    integration: str,
    library_version: str,
    *,
    extra_tags: Mapping[str, Any] | None,
    silent: bool,
    exclusive: bool,
    disable_for_unsupported_versions: bool,
) -> bool:
    """Configure ``integration``'s patched calls; False when autologging must stay off (an
    untested library version, with ``disable_for_unsupported_versions``)."""
    if not version_supported(integration, library_version):
        low, high = SUPPORTED_VERSIONS[integration]
        tested = f">={low[0]}.{low[1]},<{high[0]}.{high[1]}"
        if disable_for_unsupported_versions:
            if not silent:
                warnings.warn(
                    f"{integration} {library_version} is outside the versions runyard's "
                    f"autologging is tested with ({tested}): autologging stays off.",
                    UnsupportedVersionWarning,
                    stacklevel=3,
                )
            return False
        if not silent:
            warnings.warn(
                f"{integration} {library_version} is outside the versions runyard's "
                f"autologging is tested with ({tested}); it may fail to log.",
                UnsupportedVersionWarning,
                stacklevel=3,
            )
    configure(integration, extra_tags, silent, exclusive)
    return True
