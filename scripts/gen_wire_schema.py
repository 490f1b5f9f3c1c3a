"""Write ``app/runyard/wire_schema.py`` from MLflow's compiled protobuf descriptors.

The request schema of every tracking and model-registry endpoint runyard serves (field names
and types, nested messages, enums) comes from ``mlflow.protos.service_pb2`` and
``mlflow.protos.model_registry_pb2``, so it is MLflow's own contract rather than a
transcription. Run after upgrading the ``mlflow`` test dependency:

    python scripts/gen_wire_schema.py && ruff format app/runyard/wire_schema.py
"""

from __future__ import annotations

import pprint
import sys
from importlib.metadata import version
from pathlib import Path

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from mlflow.protos import databricks_pb2, model_registry_pb2, service_pb2

#: The MlflowService RPCs runyard implements (the others answer ENDPOINT_NOT_FOUND).
RPCS = [
    "getExperimentByName",
    "createExperiment",
    "searchExperiments",
    "getExperiment",
    "deleteExperiment",
    "restoreExperiment",
    "updateExperiment",
    "createRun",
    "updateRun",
    "deleteRun",
    "restoreRun",
    "logMetric",
    "logParam",
    "setExperimentTag",
    "deleteExperimentTag",
    "setTag",
    "deleteTag",
    "getRun",
    "searchRuns",
    "listArtifacts",
    "getMetricHistory",
    "getMetricHistoryBulkInterval",
    "logBatch",
    "logInputs",
    "logOutputs",
    "searchDatasets",
    "createLoggedModel",
    "finalizeLoggedModel",
    "getLoggedModel",
    "deleteLoggedModel",
    "searchLoggedModels",
    "setLoggedModelTags",
    "deleteLoggedModelTag",
    "listLoggedModelArtifacts",
    "LogLoggedModelParams",
]

#: The ModelRegistryService RPCs runyard implements: all of them.
REGISTRY_RPCS = [
    "createRegisteredModel",
    "renameRegisteredModel",
    "updateRegisteredModel",
    "deleteRegisteredModel",
    "getRegisteredModel",
    "searchRegisteredModels",
    "getLatestVersions",
    "createModelVersion",
    "updateModelVersion",
    "transitionModelVersionStage",
    "deleteModelVersion",
    "getModelVersion",
    "searchModelVersions",
    "getModelVersionDownloadUri",
    "setRegisteredModelTag",
    "setModelVersionTag",
    "deleteRegisteredModelTag",
    "deleteModelVersionTag",
    "setRegisteredModelAlias",
    "deleteRegisteredModelAlias",
    "getModelVersionByAlias",
]

#: (compiled protos, service, the RPCs of it runyard implements)
SERVICES = [
    (service_pb2, "MlflowService", RPCS),
    (model_registry_pb2, "ModelRegistryService", REGISTRY_RPCS),
]

#: Routes MLflow serves from hand-written handlers, without a request message.
EXTRA_ROUTES = {
    # the web UI's chart endpoint (``get_metric_history_bulk_handler``)
    ("GET", "/mlflow/metrics/get-history-bulk"): {
        "run_id": ("string", True),
        "metric_key": ("string", False),
        "max_results": ("int32", False),
    },
}

_SCALARS = {
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_BYTES: "string",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_SINT64: "int64",
    FieldDescriptor.TYPE_SFIXED64: "int64",
    FieldDescriptor.TYPE_UINT64: "uint64",
    FieldDescriptor.TYPE_FIXED64: "uint64",
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_SINT32: "int32",
    FieldDescriptor.TYPE_SFIXED32: "int32",
    FieldDescriptor.TYPE_UINT32: "uint32",
    FieldDescriptor.TYPE_FIXED32: "uint32",
    FieldDescriptor.TYPE_DOUBLE: "double",
    FieldDescriptor.TYPE_FLOAT: "double",
    FieldDescriptor.TYPE_BOOL: "bool",
}


def _field_type(field: FieldDescriptor, messages: dict, enums: dict) -> str:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        _add_message(field.message_type, messages, enums)
        return f"message:{field.message_type.full_name}"
    if field.type == FieldDescriptor.TYPE_ENUM:
        enum = field.enum_type
        enums[enum.full_name] = {v.name: v.number for v in enum.values}
        return f"enum:{enum.full_name}"
    return _SCALARS[field.type]


def _add_message(message: Descriptor, messages: dict, enums: dict) -> None:
    if message.full_name in messages:
        return
    messages[message.full_name] = fields = {}  # placed first: messages may refer to themselves
    for field in message.fields:
        repeated = field.is_repeated
        fields[field.name] = (_field_type(field, messages, enums), repeated)


def build() -> tuple[dict, dict, dict]:
    routes: dict = {}
    messages: dict = {}
    enums: dict = {}
    for protos, service_name, rpcs in SERVICES:
        service = protos.DESCRIPTOR.services_by_name[service_name]
        for method in service.methods:
            if method.name not in rpcs:
                continue
            _add_message(method.input_type, messages, enums)
            rpc = method.GetOptions().Extensions[databricks_pb2.rpc]
            for endpoint in rpc.endpoints:
                path = "/" + endpoint.path.lstrip("/")  # 3.x spells one path without its "/"
                routes[(endpoint.method, path)] = method.input_type.full_name
        missing = set(rpcs) - {m.name for m in service.methods}
        if missing:
            sys.exit(f"{service_name} RPCs not in this mlflow's protos: {sorted(missing)}")
    for key, fields in EXTRA_ROUTES.items():
        name = "runyard.extra." + key[1].rsplit("/", 1)[-1]
        messages[name] = fields
        routes[key] = name
    return routes, messages, enums


def render(routes: dict, messages: dict, enums: dict) -> str:
    def block(name: str, value: dict, note: str) -> str:
        return f"#: {note}\n{name}: dict = {pprint.pformat(value, width=99, sort_dicts=True)}\n"

    return (
        '"""Request schema of the tracking and model-registry APIs, generated from\n'
        f"mlflow {version('mlflow')}'s protobuf descriptors by ``scripts/gen_wire_schema.py``: "
        "do not edit\nby hand.\n\n"
        "A field type is a scalar (``string``, ``int64``, ``int32``, ``uint64``, ``uint32``, "
        "``double``,\n``bool``), ``enum:<name>`` (see ``ENUMS``) or ``message:<name>`` (see "
        '``MESSAGES``), with a flag\nthat says whether the field is repeated.\n"""\n\n'
        "from __future__ import annotations\n\n"
        + block("ROUTES", routes, "(HTTP method, path after the API version) -> request message.")
        + "\n"
        + block("MESSAGES", messages, "message -> {field: (type, repeated)}.")
        + "\n"
        + block("ENUMS", enums, "enum -> {value name: number}.")
    )


if __name__ == "__main__":
    target = Path(__file__).parents[1] / "app" / "runyard" / "wire_schema.py"
    target.write_text(render(*build()))
    print(f"wrote {target}")
