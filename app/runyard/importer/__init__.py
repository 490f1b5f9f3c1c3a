"""``runyard import``: move an MLflow deployment (its database, file store or REST API) into a
runyard store, keeping every id so ``runs:/`` URIs and links stay valid.

One module per job: ``records`` (what a source yields), ``source_sql``, ``source_files`` and
``source_rest`` (MLflow's three ways to be read), ``target_sql`` (writes a runyard SQL store
through its bulk paths), ``digest`` (counts and checksums per run), ``runner`` (resumable,
idempotent copy with progress, dry run and verification) and ``cli`` (the command).
"""

from runyard.importer.runner import ImportReport, run_import

__all__ = ["ImportReport", "run_import"]
