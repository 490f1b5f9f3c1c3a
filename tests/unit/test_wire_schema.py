"""The committed request schema is what MLflow's installed protobuf descriptors say."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from runyard import wire_schema

GENERATOR = Path(__file__).parents[2] / "scripts" / "gen_wire_schema.py"


def test_committed_schema_matches_mlflow_descriptors() -> None:
    pytest.importorskip("mlflow.protos.service_pb2")
    spec = importlib.util.spec_from_file_location("gen_wire_schema", GENERATOR)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    routes, messages, enums = generator.build()
    assert (routes, messages, enums) == (
        wire_schema.ROUTES,
        wire_schema.MESSAGES,
        wire_schema.ENUMS,
    ), "regenerate with: python scripts/gen_wire_schema.py"
