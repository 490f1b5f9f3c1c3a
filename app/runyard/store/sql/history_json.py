"""A history page written as JSON text by Postgres itself.

A page holds up to 25,000 points. Read as rows, each point crossed the wire as seven text
fields, became seven Python objects, and was written back out as text
(``protocol.history_rows_json_text``): about 50 ms a page, most of a long history's time on the
server. Here Postgres writes each point's JSON object and joins them into one value, which the
server sends as it comes: one field crosses the wire, and no Python runs per point.

The text parses to what the Python renderer writes: the same fields in the same order, NaN and
the infinities as MLflow's strings, and every finite value as a JSON number that reads back as
the same double. Postgres writes a double in its shortest exact form (``extra_float_digits``
above 0, the default since PostgreSQL 12), as ``repr`` does, though not always in the same
spelling (``1e+15`` for ``1000000000000000.0``); one with neither a point nor an exponent gets
``.0``, so it reads back as a float, ``-0`` included. Strings go through ``to_json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from runyard.store.sql.drivers import driver_of
from runyard.store.sql.metrics import HistoryKey, HistoryQuery

_POINT = (
    "%s || CASE WHEN is_nan THEN '\"NaN\"' "
    "WHEN value = 'Infinity'::float8 THEN '\"Infinity\"' "
    "WHEN value = '-Infinity'::float8 THEN '\"-Infinity\"' "
    "WHEN strpos(v, '.') > 0 OR strpos(v, 'e') > 0 THEN v ELSE v || '.0' END "
    "|| ',\"timestamp\":' || timestamp || ',\"step\":' || step "
    "|| CASE WHEN model_id IS NULL AND dataset_name IS NULL AND dataset_digest IS NULL "
    "THEN '}' ELSE COALESCE(',\"model_id\":' || to_json(model_id)::text, '') "
    "|| COALESCE(',\"dataset_name\":' || to_json(dataset_name)::text, '') "
    "|| COALESCE(',\"dataset_digest\":' || to_json(dataset_digest)::text, '') || '}' END"
)
#: Where each point's object starts in the page's text. Every string in the text is JSON
#: (``json.dumps``, ``to_json``), whose quotes are escaped, so this never occurs inside one.
_OBJECT = '{"key":'


@dataclass(frozen=True)
class JsonPage:
    """``text``: the page's points as a JSON array (None when it has none); ``more``: another
    page follows; ``last``: the keyset position of the page's last point."""

    text: str | None
    more: bool
    last: HistoryKey | None


def history_page(conn: Connection, query: HistoryQuery, key: str, size: int) -> JsonPage:
    """The first ``size`` points that ``query`` reads, as JSON text written by the database;
    ``query`` reads one point more when another page follows.

    The points are joined in the order the query reads them: an aggregate reads a sorted
    subquery in its order, and a test holds Postgres to it. The last point's position is read
    back from its own text, which is exact (see the module's docstring)."""
    head = '{"key":' + json.dumps(key) + ',"value":'
    sql = (
        f"SELECT string_agg({_POINT}, ','), count(*) "
        f"FROM (SELECT p.*, p.value::text AS v FROM ({query.sql}) AS p) AS q"
    )
    text, found = driver_of(conn).rows(conn, sql, [head, *query.args])[0]
    if text is None:
        return JsonPage(None, False, None)
    more = found > size
    if more:  # drop the point that only told that another page follows
        text = text[: text.rindex("," + _OBJECT)]
    return JsonPage(f"[{text}]", more, position(text[text.rindex(_OBJECT) :]))


def position(point_json: str) -> HistoryKey:
    """The keyset position of one point from its JSON object."""
    point = json.loads(point_json)
    value = point["value"]
    if value == "NaN":
        return (point["timestamp"], point["step"], 0.0, True)
    return (point["timestamp"], point["step"], float(value), False)


__all__ = ["JsonPage", "history_page", "position"]
