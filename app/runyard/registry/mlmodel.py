"""What a version's ``MLmodel`` file says: flavors, signature columns and metadata.

The file is untrusted input (a client wrote it): it is parsed with ``yaml.safe_load`` only,
every field is optional, and anything malformed yields an ``error`` instead of an exception.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

MAX_COLUMNS = 500
META_KEYS = ("run_id", "model_uuid", "model_id", "mlflow_version", "utc_time_created")
SIGNATURE_PARTS = ("inputs", "outputs", "params")


def parse_mlmodel(text: str) -> dict[str, Any]:
    """``{"flavors": [...], "inputs"/"outputs"/"params": [{name, type, detail}], "meta": {...}}``
    or ``{"error": "..."}``."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return {"error": f"MLmodel is not valid YAML: {exc.__class__.__name__}"}
    if not isinstance(doc, dict):
        return {"error": "MLmodel is not a mapping"}
    flavors = doc.get("flavors")
    signature = doc.get("signature") if isinstance(doc.get("signature"), dict) else {}
    parsed: dict[str, Any] = {
        "flavors": sorted(str(f) for f in flavors) if isinstance(flavors, dict) else [],
        "meta": {key: str(doc[key]) for key in META_KEYS if doc.get(key) is not None},
    }
    for part in SIGNATURE_PARTS:
        parsed[part] = _columns(signature.get(part))
    return parsed


def _columns(spec: object) -> list[dict[str, str]]:
    """A signature part (a JSON string in MLmodel) as name/type/detail rows."""
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except ValueError:
            return []
    if not isinstance(spec, list):
        return []
    rows = []
    for item in spec[:MAX_COLUMNS]:
        if isinstance(item, dict):
            extra = {k: v for k, v in item.items() if k not in ("name", "type")}
            rows.append(
                {
                    "name": str(item.get("name", "")),
                    "type": str(item.get("type", "")),
                    "detail": json.dumps(extra, sort_keys=True) if extra else "",
                }
            )
    return rows
