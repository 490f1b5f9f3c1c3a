"""The import itself: experiments, logged models, then runs with their whole history; resumable
(finished runs are skipped), a dry run that only counts, and a verification pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tqdm import tqdm

from runyard.errors import ResourceDoesNotExist
from runyard.importer.artifacts import ArtifactCopier
from runyard.importer.digest import run_digest
from runyard.importer.records import RunRecord, Source
from runyard.importer.source_store import StoreSource
from runyard.importer.target_sql import SqlTarget

Echo = Callable[[str], None]


@dataclass
class ImportReport:
    experiments: int = 0
    logged_models: int = 0
    runs: int = 0
    runs_skipped: int = 0
    params: int = 0
    tags: int = 0
    points: int = 0
    registered_models_left: int = 0
    differences: dict[str, list[str]] = field(default_factory=dict)

    def summary(self, dry_run: bool) -> str:
        verb = "would import" if dry_run else "imported"
        text = (
            f"{verb}: {self.experiments} experiments, {self.logged_models} logged models, "
            f"{self.runs} runs, {self.params} params, {self.tags} tags, "
            f"{self.points} metric points"
        )
        if self.runs_skipped:
            text += f"; {self.runs_skipped} runs were already imported"
        return text


def import_registered_models(
    source: Source, target: SqlTarget | None, report: ImportReport
) -> None:
    """Extension point for the model registry: runyard has none yet, so registered models are
    counted and reported as left behind. When the registry's tables exist, copy them here."""
    report.registered_models_left = source.registered_model_count()


def run_import(
    source: Source,
    target: SqlTarget | None,
    *,
    dry_run: bool = False,
    verify: bool = True,
    progress: bool = True,
    echo: Echo = print,
    copier: ArtifactCopier | None = None,
) -> ImportReport:
    """Copy ``source`` into ``target`` (nothing is written when ``dry_run``); with ``copier``,
    artifacts are copied too and the imported URIs point at the copies."""
    source.check()
    if dry_run:
        target = None
    report = ImportReport()
    experiments = list(source.experiments())
    plan = [(experiment, source.run_ids(experiment.experiment_id)) for experiment in experiments]
    bar = tqdm(total=sum(len(ids) for _, ids in plan), unit="run", disable=not progress)
    checked: list[RunRecord] = []
    for experiment, run_ids in plan:
        report.experiments += 1
        if target is not None:
            target.put_experiment(copier.experiment(experiment) if copier else experiment)
        for model in source.logged_models(experiment.experiment_id):
            report.logged_models += 1
            if target is not None:
                target.put_logged_model(copier.logged_model(model) if copier else model)
        for run_id in run_ids:
            record = source.run(run_id)
            report.runs += 1
            report.params += len(record.params)
            report.tags += len(record.tags)
            if target is None:
                report.points += source.count_points(run_id)
            elif target.has_finished_run(record):
                report.runs_skipped += 1
            else:  # files first, then the run: a stopped import redoes both
                written = copier.run(record) if copier else record
                report.points += target.put_run(written, source.metric_points(run_id))
            checked.append(record)
            bar.update(1)
    bar.close()
    import_registered_models(source, target, report)
    echo(report.summary(dry_run))
    if report.registered_models_left:
        echo(
            f"{report.registered_models_left} registered models were not imported: this "
            "runyard has no model registry yet; run the import again once it has."
        )
    if verify and target is not None:
        verify_runs(source, StoreSource(target.store, "target"), checked, report, progress, echo)
    return report


def verify_runs(
    source: Source,
    target: StoreSource,
    records: list[RunRecord],
    report: ImportReport,
    progress: bool,
    echo: Echo,
) -> None:
    """Compare counts and checksums of every run on both sides; print what differs."""
    for record in tqdm(records, unit="run", disable=not progress, desc="verify"):
        run_id = record.info.run_id
        expected = run_digest(record, source.metric_points(run_id))
        try:
            copy = target.run(run_id)
        except ResourceDoesNotExist as exc:
            report.differences[run_id] = [f"missing in target: {exc}"]
            continue
        found = run_digest(copy, target.metric_points(run_id))
        differences = expected.differences(found)
        if differences:
            report.differences[run_id] = differences
    if report.differences:
        echo(f"verification: {len(report.differences)} runs differ:")
        for run_id, differences in sorted(report.differences.items()):
            echo(f"  {run_id}: {'; '.join(differences)}")
    else:
        echo(f"verification: all {len(records)} runs match (counts and checksums)")
