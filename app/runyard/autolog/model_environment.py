"""A saved model's environment as the caller sets it, with MLflow's ``save_model`` and
``log_model`` arguments: ``pip_requirements`` (the whole list), ``extra_pip_requirements``
(added to the flavor's own) or ``conda_env`` (a conda environment, whose pip section becomes the
requirements), each a list or a file path. The flavor writes its default environment first
(``model_files.write_environment``); these rewrite it. ``mlflow`` leads every list, as in
MLflow, so MLflow's serving installs its loader."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from runyard.errors import InvalidParameterValue

REQUIREMENTS = "requirements.txt"
CONDA = "conda.yaml"


@dataclass(frozen=True)
class EnvironmentRequest:
    conda_env: Any = None
    pip_requirements: Any = None
    extra_pip_requirements: Any = None

    def check(self) -> None:
        """At most one of the three, as MLflow allows, each of a form it takes."""
        given = [
            name
            for name in ("conda_env", "pip_requirements", "extra_pip_requirements")
            if getattr(self, name) is not None
        ]
        if len(given) > 1:
            raise InvalidParameterValue(
                "Only one of `conda_env`, `pip_requirements`, and `extra_pip_requirements` can "
                f"be specified; got {', '.join(given)}."
            )
        if self.conda_env is not None:
            _conda_of(self.conda_env)
        for spec in (self.pip_requirements, self.extra_pip_requirements):
            if spec is not None:
                requirement_lines(spec)

    @property
    def given(self) -> bool:
        return any(
            v is not None
            for v in (self.conda_env, self.pip_requirements, self.extra_pip_requirements)
        )


def requirement_lines(spec: Any) -> list[str]:
    """Requirements from a list of strings or a requirements file's path (blank lines and
    comments dropped). References to other files (``-r``, ``-c``) are refused: the model
    directory would not hold them."""
    if isinstance(spec, str | os.PathLike):
        path = os.fspath(spec)
        try:
            with open(path, encoding="utf-8") as fh:
                lines = [line.split(" #")[0].strip() for line in fh]
        except OSError as error:
            raise InvalidParameterValue(
                f"Cannot read requirements file {path!r}: {error}"
            ) from None
    elif isinstance(spec, Sequence) and all(isinstance(item, str) for item in spec):
        lines = [item.strip() for item in spec]
    else:
        raise InvalidParameterValue(
            "Requirements are a list of strings or the path of a requirements file."
        )
    kept = [line for line in lines if line and not line.startswith("#")]
    for line in kept:
        if line.startswith(("-r", "-c", "--requirement", "--constraint")):
            raise InvalidParameterValue(
                f"Requirement {line!r} names another file; list its requirements instead."
            )
    return kept


def _conda_of(spec: Any) -> dict[str, Any]:
    if isinstance(spec, str | os.PathLike):
        try:
            with open(os.fspath(spec), encoding="utf-8") as fh:
                loaded = yaml.safe_load(fh)
        except (OSError, yaml.YAMLError) as error:
            raise InvalidParameterValue(
                f"Cannot read conda environment {spec!r}: {error}"
            ) from None
    else:
        loaded = spec
    if not isinstance(loaded, Mapping):
        raise InvalidParameterValue("A conda environment is a mapping or a YAML file's path.")
    return dict(loaded)


def _pip_section(conda: Mapping[str, Any]) -> list[str]:
    for entry in conda.get("dependencies") or []:
        if isinstance(entry, Mapping) and "pip" in entry:
            return [str(item) for item in entry["pip"] or []]
    return []


def _with_mlflow(requirements: list[str]) -> list[str]:
    names = {_name(line) for line in requirements}
    unique = list(dict.fromkeys(requirements))
    return unique if "mlflow" in names else ["mlflow", *unique]


def _name(requirement: str) -> str:
    for mark in ("[", "=", "<", ">", "!", "~", ";", " ", "@"):
        requirement = requirement.split(mark)[0]
    return requirement.strip().lower().replace("_", "-")


def apply(directory: str, request: EnvironmentRequest) -> None:
    """Rewrite the environment the flavor wrote in ``directory`` as ``request`` asks."""
    if not request.given:
        return
    with open(os.path.join(directory, REQUIREMENTS), encoding="utf-8") as fh:
        defaults = [line.strip() for line in fh if line.strip()]
    with open(os.path.join(directory, CONDA), encoding="utf-8") as fh:
        conda = yaml.safe_load(fh)
    if request.conda_env is not None:
        conda = _conda_of(request.conda_env)
        requirements = _with_mlflow(_pip_section(conda))
    elif request.pip_requirements is not None:
        requirements = _with_mlflow(requirement_lines(request.pip_requirements))
    else:
        requirements = _with_mlflow(defaults + requirement_lines(request.extra_pip_requirements))
    dependencies = [d for d in conda.get("dependencies") or [] if not _is_pip_section(d)]
    conda["dependencies"] = [*dependencies, {"pip": requirements}]
    with open(os.path.join(directory, REQUIREMENTS), "w", encoding="utf-8") as fh:
        fh.write("\n".join(requirements) + "\n")
    with open(os.path.join(directory, CONDA), "w", encoding="utf-8") as fh:
        yaml.safe_dump(conda, fh, default_flow_style=False, sort_keys=False)


def _is_pip_section(entry: Any) -> bool:
    return isinstance(entry, Mapping) and "pip" in entry
