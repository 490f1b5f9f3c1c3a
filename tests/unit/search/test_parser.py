"""The run filter parser: every comparator per entity, quoting, aliases, precedence."""

from __future__ import annotations

import pytest
from runyard.errors import InvalidFilter, InvalidParameterValue
from runyard.search import And, Comparison, Identifier, Or, parse_filter


def cmp(entity: str, key: str, op: str, value: object = None) -> Comparison:
    return Comparison(Identifier(entity, key), op, value)  # type: ignore[arg-type]


M = lambda key, op, value: cmp("metric", key, op, value)  # noqa: E731
P = lambda key, op, value=None: cmp("param", key, op, value)  # noqa: E731
T = lambda key, op, value=None: cmp("tag", key, op, value)  # noqa: E731
A = lambda key, op, value: cmp("attribute", key, op, value)  # noqa: E731
D = lambda key, op, value: cmp("dataset", key, op, value)  # noqa: E731


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_no_filter_is_none(text):
    assert parse_filter(text) is None


VALID = [
    # metrics: every numeric comparator, number forms, entity aliases
    ("metrics.loss > 1", M("loss", ">", 1.0)),
    ("metrics.loss >= 1.5", M("loss", ">=", 1.5)),
    ("metric.loss = -2", M("loss", "=", -2.0)),
    ("metrics.loss != 0", M("loss", "!=", 0.0)),
    ("metrics.loss < .5", M("loss", "<", 0.5)),
    ("metrics.loss <= 1e-3", M("loss", "<=", 0.001)),
    ("metrics.loss<=+2E2", M("loss", "<=", 200.0)),
    # params: = != LIKE ILIKE IS [NOT] NULL IN NOT IN, every alias, both quote kinds
    ("params.model = 'cnn'", P("model", "=", "cnn")),
    ('param.model != "cnn"', P("model", "!=", "cnn")),
    ("parameter.model LIKE 'c%'", P("model", "LIKE", "c%")),
    ("parameters.model ILIKE '%NN'", P("model", "ILIKE", "%NN")),
    ("params.model IS NULL", P("model", "IS NULL")),
    ("params.model IS NOT NULL", P("model", "IS NOT NULL")),
    ("params.model IN ('a', 'b')", P("model", "IN", ("a", "b"))),
    ("params.model NOT IN ('a')", P("model", "NOT IN", ("a",))),
    ("params.model in ('a', \"b\",)", P("model", "IN", ("a", "b"))),
    # tags
    ("tags.team = 'ml'", T("team", "=", "ml")),
    ("tag.team != 'ml'", T("team", "!=", "ml")),
    ("tags.team like 'm_'", T("team", "LIKE", "m_")),
    ("tags.team ilike 'M%'", T("team", "ILIKE", "M%")),
    ("tags.team is null", T("team", "IS NULL")),
    ("tags.team Is Not Null", T("team", "IS NOT NULL")),
    ("tags.team not in ('x', 'y')", T("team", "NOT IN", ("x", "y"))),
    ("tags.mlflow.runName = 'r'", T("mlflow.runName", "=", "r")),
    # string attributes, every entity alias and the bare form
    ("attributes.status = 'FINISHED'", A("status", "=", "FINISHED")),
    ("attribute.user_id != 'bob'", A("user_id", "!=", "bob")),
    ("attr.artifact_uri LIKE 's3://%'", A("artifact_uri", "LIKE", "s3://%")),
    ("run.run_name ILIKE 'page%'", A("run_name", "ILIKE", "page%")),
    ("run_id IN ('a', 'b')", A("run_id", "IN", ("a", "b"))),
    ("run_id NOT IN ('a')", A("run_id", "NOT IN", ("a",))),
    ("status = 'RUNNING'", A("status", "=", "RUNNING")),
    # numeric attributes
    ("start_time > 5", A("start_time", ">", 5.0)),
    ("attributes.end_time <= 1700000000000", A("end_time", "<=", 1700000000000.0)),
    # datasets
    ("datasets.name = 'iris'", D("name", "=", "iris")),
    ("dataset.digest != 'abc'", D("digest", "!=", "abc")),
    ("datasets.context LIKE 'train%'", D("context", "LIKE", "train%")),
    ("datasets.name ILIKE 'IR%'", D("name", "ILIKE", "IR%")),
    ("datasets.name IN ('a', 'b')", D("name", "IN", ("a", "b"))),
    ("datasets.context NOT IN ('eval')", D("context", "NOT IN", ("eval",))),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t for t, _ in VALID])
def test_parses_each_comparator_per_entity(text, expected):
    assert parse_filter(text) == expected


ALIASES = [
    ("created > 1", A("start_time", ">", 1.0)),
    ("Created > 1", A("start_time", ">", 1.0)),
    ("attributes.created > 1", A("start_time", ">", 1.0)),
    ("`run name` = 'x'", A("run_name", "=", "x")),
    ("\"Run name\" = 'x'", A("run_name", "=", "x")),
    ("attributes.`Run Name` = 'x'", A("run_name", "=", "x")),
    ("run_name = 'x'", A("run_name", "=", "x")),
    ("METRICS.loss < 1", M("loss", "<", 1.0)),
]


@pytest.mark.parametrize(("text", "expected"), ALIASES, ids=[t for t, _ in ALIASES])
def test_attribute_aliases_are_canonical(text, expected):
    assert parse_filter(text) == expected


QUOTING = [
    ("metrics.`a b` < 1", M("a b", "<", 1.0)),
    ('metrics."a b" < 1', M("a b", "<", 1.0)),
    ("metrics.'a b' < 1", M("a b", "<", 1.0)),
    ("tags.`mlflow.user` = 'x'", T("mlflow.user", "=", "x")),
    ("tags.`we``ird` = 'x'", T("we`ird", "=", "x")),
    ("params.p = 'it\\'s'", P("p", "=", "it's")),
    ("params.p = 'it''s'", P("p", "=", "it's")),
    ('params.p = "say \\"hi\\""', P("p", "=", 'say "hi"')),
    ("params.p = 'back\\\\slash'", P("p", "=", "back\\slash")),
    ("params.p = 'C:\\temp'", P("p", "=", "C:\\temp")),
    ("params.p = ''", P("p", "=", "")),
    ("params.p = 'AND OR ( )'", P("p", "=", "AND OR ( )")),
    ("params.p = 'ünïcode'", P("p", "=", "ünïcode")),
    ("params.a-b/c:d = 'x'", P("a-b/c:d", "=", "x")),
    ("metrics.1st < 1", M("1st", "<", 1.0)),
]


@pytest.mark.parametrize(("text", "expected"), QUOTING, ids=[t for t, _ in QUOTING])
def test_quoted_keys_and_values(text, expected):
    assert parse_filter(text) == expected


a, b, c, d = (M(k, "<", 1.0) for k in "abcd")


PRECEDENCE = [
    ("metrics.a < 1 AND metrics.b < 1", And((a, b))),
    ("metrics.a < 1 and metrics.b < 1 AND metrics.c < 1", And((a, b, c))),
    ("metrics.a < 1 OR metrics.b < 1 or metrics.c < 1", Or((a, b, c))),
    ("metrics.a < 1 AND metrics.b < 1 OR metrics.c < 1", Or((And((a, b)), c))),
    ("metrics.a < 1 OR metrics.b < 1 AND metrics.c < 1", Or((a, And((b, c))))),
    (
        "metrics.a < 1 AND metrics.b < 1 OR metrics.c < 1 AND metrics.d < 1",
        Or((And((a, b)), And((c, d)))),
    ),
    ("(metrics.a < 1 OR metrics.b < 1) AND metrics.c < 1", And((Or((a, b)), c))),
    ("metrics.a < 1 AND (metrics.b < 1 OR metrics.c < 1)", And((a, Or((b, c))))),
    ("((metrics.a < 1))", a),
    ("(metrics.a < 1 AND metrics.b < 1) AND metrics.c < 1", And((a, b, c))),
    ("metrics.a < 1 OR (metrics.b < 1 OR (metrics.c < 1))", Or((a, b, c))),
    (
        "((metrics.a < 1 OR metrics.b < 1) AND (metrics.c < 1 OR metrics.d < 1))",
        And((Or((a, b)), Or((c, d)))),
    ),
    ("(metrics.a<1)AND(metrics.b<1)", And((a, b))),
]


@pytest.mark.parametrize(("text", "expected"), PRECEDENCE, ids=[t for t, _ in PRECEDENCE])
def test_and_binds_tighter_than_or_and_parentheses_group(text, expected):
    assert parse_filter(text) == expected


# Each error: the filter, the exact MLflow-style message, and the 1-based column it points at.
_METRIC_OPS = "'{'>', '<=', '!=', '<', '=', '>='}"
_PARAM_OPS = "'{'!=', '=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL', 'IN', 'NOT IN'}'"
_ATTRS = (
    "['Created', 'Run Name', 'Run name', 'artifact_uri', 'created', 'end_time', "
    "'run name', 'run_id', 'run_name', 'start_time', 'status', 'user_id']"
)
ERRORS = [
    ("metrics.logloss <<< 2", f"Invalid comparator '<<<' not one of {_METRIC_OPS}", 17),
    ("metrics.a LIKE 'x'", f"Invalid comparator 'LIKE' not one of {_METRIC_OPS}", 11),
    ("start_time IN ('1')", f"Invalid comparator 'IN' not one of {_METRIC_OPS}", 12),
    ("params.foo < 3", f"Invalid comparator '<' not one of {_PARAM_OPS}", 12),
    ("tags.t >= 'x'", f"Invalid comparator '>=' not one of {_PARAM_OPS}", 8),
    ("params.a NOT LIKE 'x'", f"Invalid comparator 'NOT LIKE' not one of {_PARAM_OPS}", 10),
    ("params.a IS 'x'", f"Invalid comparator 'IS 'x'' not one of {_PARAM_OPS}", 10),
    (
        "status > 'x'",
        "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'",
        8,
    ),
    (
        "foo.bar = 1",
        "Invalid entity type 'foo'. Valid values are "
        "['metric', 'parameter', 'tag', 'attribute', 'dataset']",
        1,
    ),
    ("metrics.logloss = 'abc'", "Expected numeric value type for metric. Found 'abc'", 19),
    ("metrics.logloss = abc", "Expected numeric value type for metric. Found abc", 19),
    (
        "created > 'x'",
        "Expected numeric value type for numeric attribute: start_time. Found 'x'",
        11,
    ),
    (
        "params.foo < 3".replace("<", "="),
        "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 3",
        14,
    ),
    (
        "tags.foo != 3.5",
        "Expected a quoted string value for tag (e.g. 'my-value'). Got value 3.5",
        13,
    ),
    ("status = 3", "Expected a quoted string value for attributes. Got value 3", 10),
    ("datasets.name = 3", "Expected a quoted string value for dataset attributes. Got value 3", 17),
    (
        "params.foo = bar",
        "Parameter value is either not quoted or unidentified quote types used for string "
        "value bar. Use either single or double quotes.",
        14,
    ),
    (
        "params.foo = `bar`",
        "Parameter value is either not quoted or unidentified quote types used for string "
        "value `bar`. Use either single or double quotes.",
        14,
    ),
    (
        "metrics.a IS NULL",
        "IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'a'",
        11,
    ),
    (
        "status IS NOT NULL",
        "IS NULL / IS NOT NULL is only supported for tags and params, not for 'attribute' 'status'",
        8,
    ),
    (
        "attributes.nope = 'x'",
        f"Invalid attribute key 'nope' specified. Valid keys are '{_ATTRS}'",
        12,
    ),
    ("nope = 'x'", f"Invalid attribute key 'nope' specified. Valid keys are '{_ATTRS}'", 1),
    (
        "datasets.size = 'x'",
        "Invalid dataset key 'size' specified. Valid keys are '['context', 'digest', 'name']'",
        10,
    ),
    (
        "run_id IN ()",
        "While parsing a list in the query, expected a non-empty list of string values, "
        "but got empty list",
        11,
    ),
    (
        "run_id IN ('a', 1)",
        "While parsing a list in the query, expected string value, punctuation, or "
        "whitespace, but got different type in list: 1",
        17,
    ),
    (
        "run_id IN 'a'",
        "Expected a parenthesised list of quoted strings after 'IN', e.g. ('a', 'b')",
        11,
    ),
    ("run_id IN ('a' 'b')", "Expected ',' or ')' in the list of values", 16),
    ("run_id IN ('a',", "Unbalanced parenthesis: the list is never closed", 16),
    ("metrics.a <", "Expected a value after '<'", 12),
    ("metrics.a", "Expected a comparator after 'a'", 10),
    ("metrics.a < (1)", "Expected numeric value type for metric. Found (", 13),
    ("params.a = (", "Expected a value after '=' but found '('", 12),
    ("metrics. < 1", "Expected a key after 'metrics.'", 9),
    ("metrics.`` < 1", "Expected a key after 'metrics.'", 9),
    (
        "metrics.a < 1 metrics.b < 1",
        "Invalid clause(s) in filter string: 'metrics.b'. Expected AND, OR or the end of "
        "the filter",
        15,
    ),
    (
        "metrics.a < 1 AND",
        "Expected an identifier such as metrics.loss or tags.`my key` but found end of input",
        18,
    ),
    ("AND metrics.a < 1", "Expected a comparison such as metrics.loss < 1 but found 'AND'", 1),
    (
        "metrics.a < 1 OR OR metrics.b < 1",
        "Expected a comparison such as metrics.loss < 1 but found 'OR'",
        18,
    ),
    (
        "'x' = params.a",
        "Expected an identifier such as metrics.loss or tags.`my key` but found ''x''",
        1,
    ),
    ("(metrics.a < 1", "Unbalanced parenthesis: the '(' at column 1 is never closed", 15),
    ("metrics.a < 1)", "Unbalanced parenthesis: ')' without a matching '('", 14),
    ("(metrics.a < 1 x)", "Invalid clause(s) in filter string: 'x'. Expected AND, OR or ')'", 16),
    ("()", "Expected an identifier such as metrics.loss or tags.`my key` but found ')'", 2),
    ("params.p = 'open", "Unterminated quoted string starting with '", 12),
    ("tags.`open = 'x'", "Unterminated quoted string starting with `", 6),
    ("metrics.a < 1; drop", "Invalid character ';' in filter string", 14),
    ("metrics.a < 1 & metrics.b < 2", "Invalid character '&' in filter string", 15),
]


@pytest.mark.parametrize(("text", "message", "column"), ERRORS, ids=[e[0] for e in ERRORS])
def test_error_messages_and_columns(text, message, column):
    with pytest.raises(InvalidFilter) as info:
        parse_filter(text)
    assert info.value.message.startswith(message + f" (at column {column}: ")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert info.value.http_status == 400


def test_error_suffix_shows_the_text_where_it_broke():
    with pytest.raises(InvalidFilter) as info:
        parse_filter("metrics.logloss <<< 2")
    assert info.value.message.endswith(" (at column 17: '<<< 2')")
    with pytest.raises(InvalidFilter) as info:
        parse_filter("metrics.a <")
    assert info.value.message.endswith(" (at column 12: end of input)")
    long_tail = "params.p = x" + " AND params.q = 'y'" * 5
    with pytest.raises(InvalidFilter) as info:
        parse_filter(long_tail)
    assert info.value.message.endswith("""(at column 12: "x AND params.q = 'y' AND...")""")


def test_invalid_filter_is_an_invalid_parameter_value():
    with pytest.raises(InvalidParameterValue):
        parse_filter("foo.bar = 1")


def test_deep_nesting_is_refused_cleanly():
    with pytest.raises(InvalidFilter, match="nested deeper than 64"):
        parse_filter("(" * 200 + "metrics.a < 1" + ")" * 200)
    nested = "(" * 64 + "metrics.a < 1" + ")" * 64
    assert parse_filter(nested) == a


def test_keywords_inside_keys_and_values_are_not_keywords():
    assert parse_filter("params.and = 'or' AND tags.in IS NULL") == And(
        (P("and", "=", "or"), T("in", "IS NULL"))
    )
