"""Field types of tracking requests, checked in one place against MLflow's request schema.

``wire_schema`` (generated from MLflow's protobuf descriptors) says what each endpoint's fields
are; ``check_request`` refuses a value of the wrong type with MLflow's 400
``INVALID_PARAMETER_VALUE`` and message, naming the field (``metrics[3].value``) and the type
it got, before any handler reads the request. Handlers then only check meaning (limits, names).

What each type accepts is what MLflow's protobuf JSON parser accepts, minus its silent
coercions that would store something the client did not mean:

* ``string``: a JSON string (``{"name": 123}`` is refused, as MLflow refuses it) without NUL
  characters (which PostgreSQL cannot store); lone surrogates (which are not text) are refused
  in every JSON body, schema or not, by :func:`refuse_lone_surrogates`;
* integers: a JSON integer, an integral number or a decimal string, inside the type's range
  (a timestamp past 2**63 is refused rather than wrapped);
* ``double``: a number, a numeric string or ``"NaN"``/``"Infinity"``/``"-Infinity"``; never a
  JSON boolean;
* ``bool``: ``true``/``false`` (and the strings ``"true"``/``"false"`` in a query string);
* enums: a value's name or number; messages: a JSON object; repeated fields: a JSON list.

Query strings carry only strings and cannot say "list", so a single value of a repeated field
counts as a list of one there. Unknown fields are ignored, as MLflow ignores them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from runyard.errors import InvalidParameterValue
from runyard.wire_schema import ENUMS, MESSAGES, ROUTES

#: ``check(value, parent, key, from_query)``: the field is ``key`` (a name, or an index in a
#: list) under ``parent``; its dotted name is built only for an error (``field_name``), so a
#: valid batch of 1,000 metrics formats none of its 4,000 names.
Check = Callable[[Any, Any, "str | int", bool], None]

INT_RANGES = {
    "int64": (-(2**63), 2**63 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint64": (0, 2**64 - 1),
    "uint32": (0, 2**32 - 1),
}
_DECIMAL = re.compile(r"\s*-?\d+\s*")
_NON_FINITE = frozenset(("nan", "infinity", "-infinity", "inf", "-inf"))


def type_error_message(field: str, value: object, hint: str | None = None) -> str:
    """MLflow's wording for a value of the wrong type (clients and UIs show it as is)."""
    shown = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    hint = hint or f" Hint: Value was of type '{type(value).__name__}'."
    return (
        f"Invalid value {shown} for parameter '{field}' supplied: {hint} "
        "See the API docs for more information about request parameters."
    )


def field_name(parent: Any, key: str | int) -> str:
    """The name a client knows a field by (``metrics[3].value``): ``key`` under ``parent``,
    which is None at the top, a prefix ending in a dot, or the enclosing field's
    ``(parent, key)``."""
    if type(key) is int:
        return f"{field_name(*parent)}[{key}]"
    if parent is None:
        return str(key)
    if type(parent) is str:
        return f"{parent}{key}"
    return f"{field_name(*parent)}.{key}"


def _fail(value: object, parent: Any, key: str | int, hint: str | None = None) -> None:
    raise InvalidParameterValue(type_error_message(field_name(parent, key), value, hint))


def _check_string(value: Any, parent: Any, key: str | int, from_query: bool) -> None:
    if type(value) is not str:
        _fail(value, parent, key)
    if "\x00" in value:  # Postgres cannot store it, and no key or name means it
        _fail(value, parent, key, " Hint: Value contains a NUL character.")


def _encodable(value: str) -> bool:
    """Whether ``value`` can be written as UTF-8: JSON's ``\\ud800`` escapes decode to lone
    surrogates, which no database driver, file or response can encode."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


#: How every lone surrogate reaches a JSON body: as a ``\uD800``-``\uDFFF`` escape (UTF-8 text
#: cannot hold one). A body without this never needs :func:`refuse_lone_surrogates`' walk.
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def refuse_lone_surrogates(body: dict[str, Any]) -> None:
    """Refuse a JSON body holding a lone surrogate in any string or field name, naming the
    field, whether the route has a request schema or not (a query string cannot hold one:
    percent-escapes that are not UTF-8 stay as they are)."""
    _refuse_surrogates_in(body, None)


def _refuse_surrogates_in(members: dict[str, Any], parent: Any) -> None:
    for name, item in members.items():
        if not name.isascii() and not _encodable(name):
            raise InvalidParameterValue("A field name holds a lone surrogate, which is not text.")
        _refuse_surrogate_in(item, parent, name)


def _refuse_surrogate_in(value: Any, parent: Any, key: str | int) -> None:
    if type(value) is str:
        if not value.isascii() and not _encodable(value):
            _fail(value, parent, key, " Hint: Value holds a lone surrogate, which is not text.")
    elif type(value) is dict:
        _refuse_surrogates_in(value, (parent, key))
    elif type(value) is list:
        for index, item in enumerate(value):
            _refuse_surrogate_in(item, (parent, key), index)


def _int_check(kind: str) -> Check:
    low, high = INT_RANGES[kind]
    bits = kind.removeprefix("u").removeprefix("int")
    sign = "unsigned " if kind.startswith("u") else ""

    def check(value: Any, parent: Any, key: str | int, from_query: bool) -> None:
        if type(value) is int:
            number = value
        elif (type(value) is float and value.is_integer()) or (
            type(value) is str and _DECIMAL.fullmatch(value)
        ):
            number = int(value)
        else:
            return _fail(value, parent, key)
        # A float this large is no exact integer: the body's parser reads an integer literal
        # beyond 64 bits as one (wire_json), and -(2**63)-1 would round into range.
        if not low <= number <= high or (type(value) is float and abs(value) >= 2**63):
            _fail(value, parent, key, f" It must fit in a {sign}{bits}-bit integer.")

    return check


def _check_double(value: Any, parent: Any, key: str | int, from_query: bool) -> None:
    kind = type(value)
    if kind is float or kind is int:
        return
    if kind is str:
        text = value.strip().lower()
        if text in _NON_FINITE:
            return
        try:
            if math.isfinite(float(text)):
                return
        except ValueError:
            pass
    _fail(value, parent, key)


def _check_bool(value: Any, parent: Any, key: str | int, from_query: bool) -> None:
    if type(value) is bool:
        return
    if from_query and type(value) is str and value.lower() in ("true", "false"):
        return
    hint = f" Hint: Value was of type '{type(value).__name__}', expected a boolean."
    _fail(value, parent, key, hint)


def _enum_check(name: str) -> Check:
    values = ENUMS[name]
    names = {n.upper() for n in values}
    numbers = set(values.values())
    expected = ", ".join(values)

    def check(value: Any, parent: Any, key: str | int, from_query: bool) -> None:
        if type(value) is str:
            text = value.strip()
            if text.upper() in names or (text.isdigit() and int(text) in numbers):
                return
        elif type(value) is int and value in numbers:
            return
        _fail(value, parent, key, f" It must be one of {expected}.")

    return check


def _message_check(name: str) -> Check:
    checks: dict[str, Check] = {}  # the message's field checks, looked up at the first use

    def check(value: Any, parent: Any, key: str | int, from_query: bool) -> None:
        if type(value) is not dict:
            _fail(value, parent, key)
        if not checks:
            checks.update(_field_checks(name))
        field = (parent, key)
        for inner, item in value.items():  # _check_message, inlined: once per list item
            inner_check = checks.get(inner)
            if inner_check is not None and item is not None:
                inner_check(item, field, inner, from_query)

    return check


def _repeated(item_check: Check) -> Check:
    def check(value: Any, parent: Any, key: str | int, from_query: bool) -> None:
        if type(value) is not list:
            if from_query and type(value) is str:
                return item_check(value, parent, key, from_query)
            return _fail(value, parent, key)
        field = (parent, key)
        for i, item in enumerate(value):
            if item is not None:
                item_check(item, field, i, from_query)

    return check


_SCALAR_CHECKS: dict[str, Check] = {
    "string": _check_string,
    "double": _check_double,
    "bool": _check_bool,
    **{kind: _int_check(kind) for kind in INT_RANGES},
}


def _type_check(type_name: str) -> Check:
    if type_name.startswith("enum:"):
        return _enum_check(type_name[5:])
    if type_name.startswith("message:"):
        return _message_check(type_name[8:])
    return _SCALAR_CHECKS[type_name]


@cache
def _field_checks(message: str) -> dict[str, Check]:
    checks = {}
    for field, (type_name, repeated) in MESSAGES[message].items():
        check = _type_check(type_name)
        checks[field] = _repeated(check) if repeated else check
    return checks


def check_fields(message: str, fields: Mapping[str, Any], from_query: bool, prefix: str = ""):
    """Check every known field of ``fields`` against ``message``; ``None`` means absent.
    Errors name the field after ``prefix`` (``datasets[0].``)."""
    _check_message(message, fields, from_query, prefix or None)


def _check_message(message: str, fields: Mapping[str, Any], from_query: bool, parent: Any):
    checks = _field_checks(message)
    for field, value in fields.items():
        check = checks.get(field)
        if check is not None and value is not None:
            check(value, parent, field, from_query)


def message_for(method: str, path: str) -> str | None:
    """The request message of ``method`` ``path`` (``/mlflow/runs/get``), if MLflow has one."""
    return ROUTES.get((method, path))


def check_request(method: str, path: str, fields: Mapping[str, Any], *, from_query: bool) -> None:
    """Refuse a request whose fields have the wrong types (no-op for routes without a schema)."""
    message = ROUTES.get((method, path))
    if message is not None:
        check_fields(message, fields, from_query)


__all__ = ["INT_RANGES", "check_fields", "check_request", "message_for", "type_error_message"]
