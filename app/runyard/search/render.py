"""Turn a filter tree back into filter text that parses to the same tree.

Used to show a normalised filter to users and to forward a parsed filter to a remote server;
``parse_filter(render_filter(expr)) == expr`` for every normalised tree (tested).
"""

from __future__ import annotations

import math
import re

from runyard.search.ast import And, Comparison, Expr, Identifier, Or, OrderKey

__all__ = ["quote_string", "render_filter", "render_identifier", "render_order_key"]

_PREFIXES = {
    "metric": "metrics",
    "param": "params",
    "tag": "tags",
    "attribute": "attributes",
    "dataset": "datasets",
}
#: Keys that lex as one bare word and are no keyword.
_PLAIN_KEY = re.compile(r"[^\W\d][\w.\-/:]*")
_KEYWORDS = {"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "ASC", "DESC"}


def render_filter(expr: Expr | None) -> str:
    """Filter text for ``expr``; the empty string for no filter."""
    if expr is None:
        return ""
    return _render(expr, parent=None)


def render_identifier(ident: Identifier) -> str:
    """``metrics.loss``, ``tags.`my key```, ``attributes.start_time``."""
    key = ident.key
    if _PLAIN_KEY.fullmatch(key) and key.upper() not in _KEYWORDS and not key.endswith("."):
        return f"{_PREFIXES[ident.entity]}.{key}"
    if "`" not in key:
        return f"{_PREFIXES[ident.entity]}.`{key}`"
    return f"{_PREFIXES[ident.entity]}.{quote_string(key, quote=chr(34))}"


def render_order_key(key: OrderKey) -> str:
    return f"{render_identifier(key.ident)} {'ASC' if key.ascending else 'DESC'}"


def quote_string(value: str, quote: str = "'") -> str:
    """``value`` quoted so the lexer reads it back unchanged (backslash escapes)."""
    escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return f"{quote}{escaped}{quote}"


def _render(expr: Expr, parent: type | None) -> str:
    if isinstance(expr, Comparison):
        return _comparison(expr)
    if isinstance(expr, And):
        return " AND ".join(_render(item, And) for item in expr.items)
    text = " OR ".join(_render(item, Or) for item in expr.items)
    return f"({text})" if parent is And else text


def _comparison(comp: Comparison) -> str:
    ident = render_identifier(comp.ident)
    value = comp.value
    if value is None:
        return f"{ident} {comp.op}"
    if isinstance(value, tuple):
        return f"{ident} {comp.op} ({', '.join(quote_string(v) for v in value)})"
    if isinstance(value, str):
        return f"{ident} {comp.op} {quote_string(value)}"
    if not math.isfinite(value):
        raise ValueError(f"a filter cannot compare with the non-finite number {value}")
    return f"{ident} {comp.op} {value!r}"
