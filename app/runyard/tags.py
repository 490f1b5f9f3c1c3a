"""The system tags runyard reads and writes, by MLflow's names: one home for each name, so a
typo cannot split one tag into two."""

from __future__ import annotations

RUN_NAME = "mlflow.runName"
USER = "mlflow.user"
SOURCE_NAME = "mlflow.source.name"
SOURCE_TYPE = "mlflow.source.type"
SOURCE_GIT_REPO_URL = "mlflow.source.git.repoURL"
SOURCE_GIT_BRANCH = "mlflow.source.git.branch"
SOURCE_GIT_COMMIT = "mlflow.source.git.commit"
PARENT_RUN_ID = "mlflow.parentRunId"
NOTE = "mlflow.note.content"
DATASET_CONTEXT = "mlflow.data.context"
LOGGED_IMAGES = "mlflow.loggedImages"
LOGGED_ARTIFACTS = "mlflow.loggedArtifacts"  # tables: [{"path": ..., "type": "table"}]
AUTOLOGGING = "mlflow.autologging"
MODEL_IS_EXTERNAL = "mlflow.model.isExternal"  # a logged model whose files live elsewhere
