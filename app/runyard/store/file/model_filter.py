"""The small filter language of ``search_logged_models`` in the file store.

``<field> <op> '<value>'`` clauses joined by ``AND``, where the field is ``name``,
``source_run_id``, ``status`` or ``model_type`` (optionally prefixed ``attributes.``) and the
operator is ``=``, ``!=`` or ``LIKE`` (case-sensitive, ``%`` and ``_`` wildcards). A status
matches by its full name (``LOGGED_MODEL_READY``) or its short one (``READY``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from runyard.entities import LoggedModel
from runyard.errors import InvalidFilter

FIELDS = ("name", "source_run_id", "status", "model_type")
_CLAUSE = re.compile(
    r"""\s*(?:attributes?\.)?(?P<field>\w+)\s*(?P<op>!=|=|\bLIKE\b)\s*"""
    r"""(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*""",
    re.IGNORECASE,
)
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Clause:
    field: str
    op: str
    value: str


def _split_and(text: str) -> list[str]:
    """Split on AND outside quotes."""
    parts, start, quote = [], 0, ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        else:
            match = _AND.match(text, i)
            if match and i > 0:
                parts.append(text[start:i])
                start = i = match.end()
                continue
        i += 1
    parts.append(text[start:])
    return parts


def parse_model_filter(text: str | None) -> list[Clause]:
    if text is None or not text.strip():
        return []
    clauses = []
    for part in _split_and(text):
        match = _CLAUSE.fullmatch(part)
        if match is None:
            raise InvalidFilter(
                f"Invalid logged model filter clause {part.strip()!r}: expected "
                f"<field> (=|!=|LIKE) '<value>' with field one of {list(FIELDS)}"
            )
        field = match["field"].lower()
        if field not in FIELDS:
            raise InvalidFilter(
                f"Invalid logged model filter field {match['field']!r}; valid fields are "
                f"{list(FIELDS)}"
            )
        raw = match["value"][1:-1]
        value = re.sub(r"\\(.)", r"\1", raw)
        clauses.append(Clause(field, match["op"].upper(), value))
    return clauses


def _like(pattern: str) -> Callable[[str], bool]:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    compiled = re.compile(regex, re.DOTALL)
    return lambda text: compiled.fullmatch(text) is not None


def _values(model: LoggedModel, field: str) -> list[str]:
    if field == "status":
        full = model.status.value
        return [full, full.removeprefix("LOGGED_MODEL_")]
    value = getattr(model, field)
    return [] if value is None else [str(value)]


def model_matches(clauses: list[Clause], model: LoggedModel) -> bool:
    for clause in clauses:
        values = _values(model, clause.field)
        if clause.op == "=":
            ok = clause.value in values
        elif clause.op == "!=":
            ok = bool(values) and clause.value not in values
        else:
            test = _like(clause.value)
            ok = any(test(v) for v in values)
        if not ok:
            return False
    return True
