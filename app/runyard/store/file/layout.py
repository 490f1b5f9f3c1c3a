"""Where things live in an ``mlruns`` directory, and how files there are written safely.

The layout is MLflow's file store, byte for byte, so either tool reads what the other wrote:

    <root>/<experiment_id>/meta.yaml            experiment (deleted ones move to <root>/.trash/)
    <root>/<experiment_id>/tags/<key>           experiment tags, raw values
    <root>/<experiment_id>/<run_id>/meta.yaml   run info (status and source_type as enum ints)
    <root>/<experiment_id>/<run_id>/{metrics,params,tags,artifacts,inputs,outputs}/...
    <root>/<experiment_id>/{datasets,models}/...

Writes never leave a half-written file where a reader looks: whole files go to a temporary
name in the same directory and are renamed over the target; metric points are appended as whole
lines with one ``write`` on an ``O_APPEND`` descriptor. Temporary names contain ``#``, which no
key may contain, so readers skip them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import yaml

from runyard.entities import ViewType
from runyard.locations import parse_location
from runyard.uris import local_path_from_uri, path_to_file_uri  # noqa: F401 - re-exported

try:  # the C dumper is what MLflow uses when present; both must wrap lines identically
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

TRASH = ".trash"
META = "meta.yaml"
METRICS = "metrics"
PARAMS = "params"
TAGS = "tags"
ARTIFACTS = "artifacts"
INPUTS = "inputs"
OUTPUTS = "outputs"
DATASETS = "datasets"
MODELS = "models"
#: Folders inside an experiment directory that are not runs.
RESERVED_EXPERIMENT_FOLDERS = frozenset({TAGS, DATASETS, "traces", MODELS})
TEMP_MARK = "#"
EXPERIMENT_ID_WIDTH = 18


def resolve_artifact_location(location: str) -> str:
    """``location`` in canonical form (a local path becomes an absolute ``file://`` URI, a
    login's password is dropped); anything malformed or disguised is refused
    (``runyard.locations``)."""
    return parse_location(location).uri


def new_experiment_id() -> str:
    """A random 18-digit id like MLflow's file store (no leading zero, so it stays 18 long)."""
    digits = str(uuid.uuid4().int)[-EXPERIMENT_ID_WIDTH:]
    if digits[0] == "0":
        digits = str(random.randint(1, 9)) + digits[1:]
    return digits


# ---- yaml ------------------------------------------------------------------------------------
def dump_yaml(data: dict[str, Any]) -> str:
    """Exactly MLflow's ``write_yaml`` formatting: block style, sorted keys, unicode kept."""
    return yaml.dump(
        data, default_flow_style=False, allow_unicode=True, sort_keys=True, Dumper=_Dumper
    )


def read_yaml(path: str) -> dict[str, Any] | None:
    """The mapping in ``path``, or None when the file is missing or empty."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_Loader)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return data if isinstance(data, dict) else None


# ---- writing ---------------------------------------------------------------------------------
def is_temp_name(name: str) -> bool:
    return TEMP_MARK in name


def _temp_path(target: str) -> str:
    directory, base = os.path.split(target)
    return os.path.join(directory, f".{TEMP_MARK}{base}.{secrets.token_hex(6)}")


def _make_parents(target: str, within: str | None) -> None:
    """The directories ``target`` needs. With ``within`` (a run's directory, say), only those
    below it, one at a time: when a concurrent delete has moved ``within`` to the trash, the
    write fails with ``FileNotFoundError`` instead of making its old place anew (which left a
    directory without its meta.yaml in the way of a restore)."""
    directory = os.path.dirname(target)
    if within is None:
        os.makedirs(directory, exist_ok=True)
        return
    if not os.path.isdir(within):
        raise FileNotFoundError(errno.ENOENT, "No such directory", within)
    path = within
    for part in os.path.relpath(directory, within).split(os.sep):
        if part == os.curdir:
            continue
        path = os.path.join(path, part)
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)


def _write_temp(target: str, data: bytes, within: str | None = None) -> str:
    _make_parents(target, within)
    temp = _temp_path(target)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        os.unlink(temp)
        raise
    os.close(fd)
    return temp


def write_atomic(target: str, data: bytes | str, within: str | None = None) -> None:
    """Replace ``target`` with ``data``; readers see the old bytes or the new, never a mix.
    ``within``: see ``_make_parents``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    temp = _write_temp(target, raw, within)
    try:
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def create_exclusive(target: str, data: bytes | str, within: str | None = None) -> bool:
    """Create ``target`` with ``data`` only if it does not exist yet (atomically, via a hard
    link). Returns False, writing nothing, when something is already there."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    temp = _write_temp(target, raw, within)
    try:
        os.link(temp, target)
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(temp)


def append_bytes(target: str, data: bytes, within: str | None = None) -> None:
    """Append whole lines with one ``write`` on an ``O_APPEND`` descriptor, so concurrent
    appenders never interleave within a line. ``within``: see ``_make_parents``."""
    _make_parents(target, within)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        written = os.write(fd, data)
        if written != len(data):  # pragma: no cover - a full disk or a signal mid-write
            raise OSError(f"short write to {target}: {written} of {len(data)} bytes")
    finally:
        os.close(fd)


def read_text(path: str) -> str:
    """A raw value file (param, tag): the bytes as written, no newline handling."""
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8")


def remove_empty_parents(path: str, stop: str) -> None:
    """After deleting ``a/b/c``, drop the now-empty ``a/b`` and ``a`` below ``stop``."""
    directory = os.path.dirname(path)
    while os.path.abspath(directory) != os.path.abspath(stop):
        try:
            os.rmdir(directory)
        except OSError:
            return
        directory = os.path.dirname(directory)


def list_keys(directory: str) -> list[str]:
    """Keys stored as files under ``directory``; a ``/`` in a key is a sub-directory."""
    keys: list[str] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = [d for d in dirnames if not is_temp_name(d)]
        rel = os.path.relpath(dirpath, directory)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        keys.extend(prefix + name for name in filenames if not is_temp_name(name))
    return sorted(keys)


def read_values(directory: str) -> dict[str, str]:
    """Every key file under ``directory`` with its raw value (param and tag folders)."""
    values: dict[str, str] = {}
    for key in list_keys(directory):
        with contextlib.suppress(FileNotFoundError):  # deleted by another process meanwhile
            values[key] = read_text(os.path.join(directory, *key.split("/")))
    return values


def key_path(directory: str, key: str) -> str:
    """The file of ``key`` (already validated: no ``..``, no leading ``/``)."""
    return os.path.join(directory, *key.split("/"))


@contextlib.contextmanager
def locked(directory: str) -> Iterator[None]:
    """An exclusive advisory lock on a directory (no lock file is left in the layout); used
    where a check and a write must not interleave across processes (experiment names)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class Layout:
    """Paths of experiments, runs and logged models under one root (no caching: another
    process may change the directory at any time)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.trash = os.path.join(root, TRASH)

    def _parents(self, view: ViewType) -> list[str]:
        parents = []
        if view in (ViewType.ACTIVE_ONLY, ViewType.ALL):
            parents.append(self.root)
        if view in (ViewType.DELETED_ONLY, ViewType.ALL):
            parents.append(self.trash)
        return parents

    def experiment_dir(self, experiment_id: str, view: ViewType = ViewType.ALL) -> str | None:
        for parent in self._parents(view):
            candidate = os.path.join(parent, experiment_id)
            if os.path.isfile(os.path.join(candidate, META)):
                return candidate
        return None

    def experiment_dirs(self, view: ViewType = ViewType.ALL) -> list[tuple[str, str]]:
        """``(experiment_id, dir)`` for every experiment with a ``meta.yaml`` in ``view``."""
        found = []
        for parent in self._parents(view):
            try:
                names = sorted(os.listdir(parent))
            except FileNotFoundError:
                continue
            for name in names:
                if name == TRASH or name.startswith(".") or is_temp_name(name):
                    continue
                path = os.path.join(parent, name)
                if os.path.isfile(os.path.join(path, META)):
                    found.append((name, path))
        return found

    @staticmethod
    def run_dirs(experiment_dir: str) -> list[str]:
        """Run directories of an experiment (those with a ``meta.yaml``), sorted by name."""
        try:
            names = sorted(os.listdir(experiment_dir))
        except FileNotFoundError:
            return []
        return [
            os.path.join(experiment_dir, name)
            for name in names
            if name not in RESERVED_EXPERIMENT_FOLDERS
            and not is_temp_name(name)
            and os.path.isfile(os.path.join(experiment_dir, name, META))
        ]

    def find_run(self, run_id: str) -> tuple[str, str] | None:
        """``(experiment_id, run_dir)`` of ``run_id`` (a validated id), active or trashed."""
        if run_id in RESERVED_EXPERIMENT_FOLDERS:
            return None
        for experiment_id, exp_dir in self.experiment_dirs(ViewType.ALL):
            run_dir = os.path.join(exp_dir, run_id)
            if os.path.isfile(os.path.join(run_dir, META)) and os.path.isdir(
                os.path.join(run_dir, METRICS)
            ):
                return experiment_id, run_dir
        return None

    def find_model(self, model_id: str) -> tuple[str, str] | None:
        """``(experiment_id, model_dir)`` of a logged model, active or trashed experiment."""
        for experiment_id, exp_dir in self.experiment_dirs(ViewType.ALL):
            model_dir = os.path.join(exp_dir, MODELS, model_id)
            if os.path.isfile(os.path.join(model_dir, META)):
                return experiment_id, model_dir
        return None
