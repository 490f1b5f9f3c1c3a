"""What the process knows about itself: where it tracks to, who runs it, and from which source.

The tracking URI set by ``set_tracking_uri`` lives here (not in the fluent module) so that a
``Client()`` built without a URI and the fluent functions always agree on the store they use.
The system tags are the ones MLflow's client puts on every run it creates.
"""

from __future__ import annotations

import getpass
import os
import sys
import threading

from runyard import config
from runyard import tags as system_tags
from runyard.store import DEFAULT_TRACKING_URI

TAG_USER = system_tags.USER
TAG_SOURCE_NAME = system_tags.SOURCE_NAME
TAG_SOURCE_TYPE = system_tags.SOURCE_TYPE
TAG_RUN_NAME = system_tags.RUN_NAME
TAG_PARENT_RUN_ID = system_tags.PARENT_RUN_ID
TAG_NOTE = system_tags.NOTE
SOURCE_TYPE_LOCAL = "LOCAL"

_lock = threading.Lock()
_tracking_uri: str | None = None


def set_tracking_uri(uri: str | os.PathLike[str] | None) -> None:
    """Use ``uri`` from now on, in every thread; None goes back to the configured default."""
    global _tracking_uri
    with _lock:
        _tracking_uri = None if uri is None else os.fspath(uri)


def get_tracking_uri() -> str:
    """The URI set in code, else ``RUNYARD_TRACKING_URI`` / ``MLFLOW_TRACKING_URI``, else the
    embedded file store at ``./mlruns``, which needs nothing set up."""
    with _lock:
        explicit = _tracking_uri
    return explicit or config.get("tracking_uri") or DEFAULT_TRACKING_URI


def is_tracking_uri_set() -> bool:
    """Whether a tracking URI was set in code or in the environment (else the default)."""
    with _lock:
        explicit = _tracking_uri
    return bool(explicit or config.get("tracking_uri"))


def current_user() -> str:
    """The operating-system user, or ``unknown`` where none can be found (some containers)."""
    try:
        return getpass.getuser()
    except Exception:  # getpass raises OSError or KeyError when no name is known
        return "unknown"


def source_name() -> str:
    """The script that is running, as it was started (``<console>`` in an interactive shell)."""
    main = sys.argv[0] if sys.argv else ""
    return main or "<console>"


def system_tags() -> dict[str, str]:
    """Tags every run created through the fluent API carries."""
    return {
        TAG_USER: current_user(),
        TAG_SOURCE_NAME: source_name(),
        TAG_SOURCE_TYPE: SOURCE_TYPE_LOCAL,
    }
