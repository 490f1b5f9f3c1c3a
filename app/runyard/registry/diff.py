"""``runyard models diff NAME A B``: what differs between two versions of a model: params and
metrics of their runs, the signature in their ``MLmodel`` files, and their files (by content).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

from runyard.errors import RunyardError
from runyard.registry.lineage import lineage_of
from runyard.registry.mlmodel import SIGNATURE_PARTS, parse_mlmodel

_CHUNK = 1024 * 1024


def diff_versions(client: Any, name: str, a: str, b: str) -> dict[str, Any]:
    """The differences between versions ``a`` and ``b`` of ``name``; each section lists only
    what differs (``None`` stands for "absent on that side")."""
    versions = [client.get_model_version(name, v) for v in (a, b)]
    lineages = [_lineage(client, mv.run_id) for mv in versions]
    with tempfile.TemporaryDirectory(prefix="runyard-diff-") as tmp:
        files, mlmodels = [], []
        for mv in versions:
            local = client.download_artifacts_from_uri(
                f"models:/{name}/{mv.version}", os.path.join(tmp, str(mv.version))
            )
            files.append(_file_digests(local))
            mlmodels.append(_mlmodel(local))
    return {
        "name": name,
        "versions": [mv.version for mv in versions],
        "runs": [lin.get("run_id") for lin in lineages],
        "params": _changed(*(dict(lin.get("params", [])) for lin in lineages)),
        "metrics": _changed(*(dict(lin.get("metrics", [])) for lin in lineages)),
        "signature": {
            part: _changed(*(_signature_part(m, part) for m in mlmodels))
            for part in SIGNATURE_PARTS
        },
        "files": _changed(*files),
    }


def _lineage(client: Any, run_id: str) -> dict[str, Any]:
    if not run_id:
        return {}
    try:
        return lineage_of(client.get_run(run_id))
    except RunyardError:
        return {}


def _changed(left: dict[str, Any], right: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(key, left, right)`` for every key whose values differ, sorted by key."""
    return [
        (key, left.get(key), right.get(key))
        for key in sorted(set(left) | set(right))
        if left.get(key) != right.get(key)
    ]


def _file_digests(root: str) -> dict[str, str]:
    """``relative path -> "<size> bytes, sha256 <first 12 hex>"`` for every file below root."""
    found: dict[str, str] = {}
    for directory, _, names in os.walk(root):
        for file_name in names:
            path = os.path.join(directory, file_name)
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for chunk in iter(lambda h=handle: h.read(_CHUNK), b""):
                    digest.update(chunk)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            found[rel] = f"{os.path.getsize(path)} bytes, sha256 {digest.hexdigest()[:12]}"
    return found


def _mlmodel(root: str) -> dict[str, Any]:
    path = os.path.join(root, "MLmodel")
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        return parse_mlmodel(handle.read())


def _signature_part(mlmodel: dict[str, Any], part: str) -> dict[str, str]:
    return {
        column["name"] or f"#{i}": column["type"]
        + (f" {column['detail']}" if column["detail"] else "")
        for i, column in enumerate(mlmodel.get(part, []))
    }


def render_diff(diff: dict[str, Any]) -> str:
    """The diff as text for a terminal."""
    a, b = diff["versions"]
    lines = [
        f"{diff['name']}: version {a} (run {diff['runs'][0] or '-'}) vs version {b} "
        f"(run {diff['runs'][1] or '-'})"
    ]
    sections = [("Params", diff["params"]), ("Metrics", diff["metrics"])]
    sections += [(f"Signature {part}", rows) for part, rows in diff["signature"].items()]
    sections.append(("Files", diff["files"]))
    for title, rows in sections:
        lines.append("")
        lines.append(f"{title}:" if rows else f"{title}: no differences")
        for key, left, right in rows:
            lines.append(f"  {key}: {_shown(left)} -> {_shown(right)}")
    return "\n".join(lines)


def _shown(value: Any) -> str:
    return "(absent)" if value is None else str(value)
