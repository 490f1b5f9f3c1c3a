"""``runyard gc``: permanently remove runs and experiments deleted more than a while ago.

Like ``mlflow gc``. Deleting only marks a run or an experiment, so it can be restored; this
removes what was marked before the cut-off for good: first each run's artifacts (local or S3),
then its rows, one batch at a time. Artifacts go before rows, so an interruption never leaves
artifacts nobody can find; running it again resumes with what is left. ``--dry-run`` lists
what would go and changes nothing.

An experiment's own artifact location is not removed (it may be a shared prefix someone chose);
a local experiment directory left empty is.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import click

from runyard.errors import InvalidParameterValue, RunyardError
from runyard.store.base import TrackingStore
from runyard.store.sql.purge import PurgeMixin
from runyard.uris import local_path_from_uri
from runyard.validation import safe_relative_path

_AGE = re.compile(r"(\d+)([dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_PROXIED = ("mlflow-artifacts", "runyard-artifacts")


def parse_age(text: str) -> int:
    """Seconds in an age like ``30d``, ``12h``, ``1d2h30m`` or ``0s``."""
    compact = text.strip().lower()
    parts = _AGE.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise InvalidParameterValue(
            f"Invalid age {text!r}: use a number with d, h, m or s, e.g. 30d or 1d12h"
        )
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)


def artifact_location(uri: str, artifacts_destination: str | None) -> str:
    """Where a run's artifacts really are: proxied ``mlflow-artifacts:`` URIs live under the
    server's artifacts destination."""
    parsed = urlparse(uri)
    if parsed.scheme.lower() not in _PROXIED:
        return uri
    if not artifacts_destination:
        raise InvalidParameterValue(
            f"Run artifacts at {uri!r} are served by the tracking server: pass "
            "--artifacts-destination (or set RUNYARD_ARTIFACTS_DESTINATION) to collect them"
        )
    # Checked like any artifact path, so a stored URI can never point gc outside the destination.
    relative = safe_relative_path(unquote(parsed.path).lstrip("/"))
    if not relative:
        raise InvalidParameterValue(f"Refusing to collect the whole destination for {uri!r}")
    return artifacts_destination.rstrip("/") + "/" + relative


def delete_artifacts(uri: str) -> None:
    """Remove everything under ``uri``, and the directory itself when it is local."""
    from runyard.artifacts import repo_for_uri

    repo = repo_for_uri(uri)
    repo.delete_artifacts(None)
    root = getattr(repo, "root", None)
    if isinstance(root, str) and os.path.isdir(root):
        _remove_empty(root, levels=2)  # <run>/artifacts, then <run>


def _remove_empty(directory: str, levels: int) -> None:
    for _ in range(levels):
        try:
            os.rmdir(directory)
        except OSError:
            return
        directory = os.path.dirname(directory)


@dataclass
class GcResult:
    runs: int = 0
    experiments: int = 0


def collect(
    store: TrackingStore,
    older_than_seconds: int,
    artifacts_destination: str | None,
    batch_size: int = 100,
    dry_run: bool = False,
    echo: Callable[[str], None] = print,
    now_ms: int | None = None,
    run_ids: Sequence[str] | None = None,
    experiment_ids: Sequence[str] | None = None,
) -> GcResult:
    """Remove (or with ``dry_run`` list) runs and experiments deleted before the cut-off; only
    among ``run_ids`` and ``experiment_ids`` (with their runs) when either is given."""
    if not isinstance(store, PurgeMixin):
        raise InvalidParameterValue(
            "runyard gc works on a database store: sqlite:///... or postgresql://..."
        )
    if batch_size < 1:
        raise InvalidParameterValue("--batch-size must be at least 1")
    cutoff = (now_ms or int(time.time() * 1000)) - older_than_seconds * 1000
    result = GcResult()
    # Which runs: every deleted one, or those named plus those of the experiments named.
    if run_ids is None and experiment_ids is None:
        selections: list[dict[str, Sequence[str]]] = [{}]
    else:
        selections = [{"run_ids": run_ids}] if run_ids is not None else []
        if experiment_ids is not None:
            selections.append({"experiment_ids": experiment_ids})
    collector = _Collector(store, cutoff, artifacts_destination, batch_size, dry_run, echo)
    for selection in selections:
        result.runs += collector.runs(**selection)
    if run_ids is None or experiment_ids is not None:  # named runs alone take no experiment
        result.experiments = collector.experiments(experiment_ids)
    if dry_run:
        # Runs of deleted experiments are still there, so their experiments are not listed.
        echo("dry run: nothing was changed")
    return result


@dataclass
class _Collector:
    """One collection's parameters; each method works through its batches until none is left."""

    store: PurgeMixin
    cutoff: int
    artifacts_destination: str | None
    batch_size: int
    dry_run: bool
    echo: Callable[[str], None]

    @property
    def verb(self) -> str:
        return "would remove" if self.dry_run else "removed"

    def runs(self, **selection: Sequence[str]) -> int:
        count, after = 0, ""
        while batch := self.store.deleted_runs(
            self.cutoff, self.batch_size, after=after, **selection
        ):
            after = batch[-1].id
            for run in batch:
                location = artifact_location(run.artifact_uri, self.artifacts_destination)
                if not self.dry_run:
                    delete_artifacts(location)
                self.echo(f"{self.verb} run {run.id} and its artifacts at {location}")
            if not self.dry_run:
                self.store.purge_runs([run.id for run in batch])
            count += len(batch)
        return count

    def experiments(self, experiment_ids: Sequence[str] | None) -> int:
        count, after = 0, -1
        while batch := self.store.deleted_experiments(
            self.cutoff, self.batch_size, after=after, experiment_ids=experiment_ids
        ):
            after = int(batch[-1].id)
            if not self.dry_run:
                self.store.purge_experiments([e.id for e in batch])
            for experiment in batch:
                location = artifact_location(experiment.artifact_uri, self.artifacts_destination)
                if not self.dry_run and _is_local(location):
                    _remove_empty(local_path_from_uri(location), levels=1)
                self.echo(f"{self.verb} experiment {experiment.id}")
            count += len(batch)
        return count


def _id_list(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",") if part.strip()]


def _is_local(uri: str) -> bool:
    scheme = urlparse(uri).scheme.lower()
    return scheme in ("", "file") or len(scheme) == 1  # a Windows drive letter


@click.command("gc")
@click.option(
    "--backend-store-uri",
    default=None,
    help="The database to collect (default: setting backend_store_uri, as the server uses).",
)
@click.option(
    "--artifacts-destination",
    default=None,
    help="Where the server stores proxied artifacts (default: setting artifacts_destination).",
)
@click.option(
    "--older-than",
    default="30d",
    show_default=True,
    help="Only what was deleted longer ago than this: 30d, 12h, 1d12h, 0s (everything).",
)
@click.option(
    "--run-ids",
    default=None,
    help="Comma-separated runs to remove (each must be deleted and old enough); "
    "default: every deleted run.",
)
@click.option(
    "--experiment-ids",
    default=None,
    help="Comma-separated experiments to remove with their runs; default: every deleted one.",
)
@click.option("--batch-size", default=100, show_default=True, help="Runs per transaction.")
@click.option("--dry-run", is_flag=True, help="List what would be removed; change nothing.")
def gc_command(
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    older_than: str,
    run_ids: str | None,
    experiment_ids: str | None,
    batch_size: int,
    dry_run: bool,
) -> None:
    """Permanently remove runs and experiments deleted more than --older-than ago, with their
    artifacts. Resumable: run it again after an interruption."""
    from runyard import config
    from runyard.store import store_for_uri

    uri = backend_store_uri or config.get_text("backend_store_uri") or ""
    destination = artifacts_destination or config.get_text("artifacts_destination")
    try:
        seconds = parse_age(older_than)
        store = store_for_uri(uri)
        try:
            result = collect(
                store,
                seconds,
                destination,
                batch_size,
                dry_run,
                echo=click.echo,
                run_ids=_id_list(run_ids),
                experiment_ids=_id_list(experiment_ids),
            )
        finally:
            close = getattr(store, "close", None)
            if callable(close):
                close()
    except RunyardError as exc:
        raise click.ClickException(exc.message) from None
    action = "Would remove" if dry_run else "Removed"
    click.echo(f"{action} {result.runs} run(s) and {result.experiments} experiment(s).")
