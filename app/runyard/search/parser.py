"""Parse search filters and ``order_by`` clauses into the AST of ``runyard.search.ast``.

The language is MLflow's (comparisons joined by ``AND``) plus ``OR`` and parentheses, where
``AND`` binds tighter than ``OR``, and ``IN`` / ``NOT IN`` on params and tags. It is parsed by
recursive descent over the tokens of ``runyard.search.lexer``::

    filter     := or_expr END
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := primary ("AND" primary)*
    primary    := "(" or_expr ")" | comparison
    comparison := identifier comparator [value]
    order_by   := identifier ["ASC" | "DESC"]

Error messages keep MLflow's texts (clients and users match on them) and add where the text
broke: ``... (at column N: 'rest of the text')``.

The returned trees are normalised: ``And`` / ``Or`` nodes have at least two items and never
hold a node of their own type, so equal filters give equal trees.
"""

from __future__ import annotations

from collections.abc import Sequence

from runyard.errors import InvalidFilter
from runyard.search.ast import And, Comparison, Entity, Expr, Identifier, Or, OrderKey
from runyard.search.lexer import Token, fail, tokenize
from runyard.search.logged_models import with_full_statuses
from runyard.search.schema import (
    EXPERIMENTS,
    LIST_COMPARATORS,
    LOGGED_MODELS,
    MODEL_VERSIONS,
    NULL_COMPARATORS,
    REGISTERED_MODELS,
    RUNS,
    KeyKind,
    Schema,
)

__all__ = [
    "parse_experiment_filter",
    "parse_experiment_order_by",
    "parse_filter",
    "parse_logged_model_filter",
    "parse_model_version_filter",
    "parse_model_version_order_by",
    "parse_order_by",
    "parse_registered_model_filter",
    "parse_registered_model_order_by",
]

#: Deeper nesting than this is surely not a real filter, and would exhaust the stack.
MAX_DEPTH = 64
_EMPTY_LIST = (
    "While parsing a list in the query, expected a non-empty list of string values, "
    "but got empty list"
)


def parse_filter(text: str | None) -> Expr | None:
    """The tree of a ``search_runs`` filter; None when there is no filter (None or blank)."""
    return _parse(text, RUNS)


def parse_experiment_filter(text: str | None) -> Expr | None:
    """The tree of a ``search_experiments`` filter; None when there is no filter."""
    return _parse(text, EXPERIMENTS)


def parse_order_by(clauses: Sequence[str] | None) -> list[OrderKey]:
    """``search_runs`` order_by clauses (``<identifier> [ASC|DESC]``) as OrderKeys."""
    return _order_keys(clauses, RUNS)


def parse_experiment_order_by(clauses: Sequence[str] | None) -> list[OrderKey]:
    """``search_experiments`` order_by clauses as OrderKeys (attributes only)."""
    return _order_keys(clauses, EXPERIMENTS)


def parse_registered_model_filter(text: str | None) -> Expr | None:
    """The tree of a ``search_registered_models`` filter; None when there is no filter."""
    return _parse(text, REGISTERED_MODELS)


def parse_registered_model_order_by(clauses: Sequence[str] | None) -> list[OrderKey]:
    return _order_keys(clauses, REGISTERED_MODELS)


def parse_logged_model_filter(text: str | None) -> Expr | None:
    """The tree of a ``search_logged_models`` filter, statuses named in full; None when there
    is no filter."""
    return with_full_statuses(_parse(text, LOGGED_MODELS))


def parse_model_version_filter(text: str | None) -> Expr | None:
    """The tree of a ``search_model_versions`` filter; None when there is no filter."""
    return _parse(text, MODEL_VERSIONS)


def parse_model_version_order_by(clauses: Sequence[str] | None) -> list[OrderKey]:
    return _order_keys(clauses, MODEL_VERSIONS)


def _parse(text: str | None, schema: Schema) -> Expr | None:
    if text is None or not text.strip():
        return None
    return _Parser(text, schema).filter()


def _order_keys(clauses: Sequence[str] | None, schema: Schema) -> list[OrderKey]:
    keys: list[OrderKey] = []
    seen: set[Identifier] = set()
    for clause in clauses or ():
        key = _Parser(clause, schema).order_key()
        if key.ident in seen:
            raise InvalidFilter(f"`order_by` contains duplicate fields: {list(clauses or ())}")
        seen.add(key.ident)
        keys.append(key)
    return keys


def _combine(node: type[And] | type[Or], items: list[Expr]) -> Expr:
    """One item stays itself; nested nodes of the same type are flattened."""
    if len(items) == 1:
        return items[0]
    flat: list[Expr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, node) else (item,))
    return node(tuple(flat))


class _Parser:
    def __init__(self, text: str, schema: Schema) -> None:
        self.text = text
        self.schema = schema
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    # -- token cursor -------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "END":
            self.index += 1
        return token

    def span(self, start: Token) -> str:
        """The text from ``start`` through the current token (``IS foo``, ``NOT LIKE``)."""
        return self.text[start.pos : self.tok.end]

    def error(self, message: str, pos: int) -> InvalidFilter:
        return fail(message, self.text, pos)

    # -- filters ------------------------------------------------------------------------------

    def filter(self) -> Expr:
        expr = self.or_expr()
        token = self.tok
        if token.kind == "RPAREN":
            raise self.error("Unbalanced parenthesis: ')' without a matching '('", token.pos)
        if token.kind != "END":
            raise self.error(
                f"Invalid clause(s) in filter string: '{token.text}'. Expected AND, OR or the "
                "end of the filter",
                token.pos,
            )
        return expr

    def or_expr(self) -> Expr:
        items = [self.and_expr()]
        while self.tok.is_keyword("OR"):
            self.advance()
            items.append(self.and_expr())
        return _combine(Or, items)

    def and_expr(self) -> Expr:
        items = [self.primary()]
        while self.tok.is_keyword("AND"):
            self.advance()
            items.append(self.primary())
        return _combine(And, items)

    def primary(self) -> Expr:
        if self.tok.kind != "LPAREN":
            return self.comparison()
        opening = self.advance()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"Parentheses nested deeper than {MAX_DEPTH} levels", opening.pos)
        expr = self.or_expr()
        self.depth -= 1
        closing = self.tok
        if closing.kind == "END":
            raise self.error(
                f"Unbalanced parenthesis: the '(' at column {opening.pos + 1} is never closed",
                closing.pos,
            )
        if closing.kind != "RPAREN":
            raise self.error(
                f"Invalid clause(s) in filter string: '{closing.text}'. Expected AND, OR or ')'",
                closing.pos,
            )
        self.advance()
        return expr

    def comparison(self) -> Comparison:
        ident = self.identifier()
        kind = self.schema.kind(ident.entity, ident.key)
        op_token = self.tok
        op = self.comparator(ident, kind)
        if op not in kind.comparators:
            if op in NULL_COMPARATORS:
                message = self.schema.null_message.format(entity=ident.entity, key=ident.key)
            else:
                message = kind.invalid_comparator(op)
            raise self.error(message, op_token.pos)
        if op in NULL_COMPARATORS:
            return Comparison(ident, op, None)  # type: ignore[arg-type]
        if op in LIST_COMPARATORS:
            return Comparison(ident, op, self.string_list(op))  # type: ignore[arg-type]
        return Comparison(ident, op, self.value(op, kind))  # type: ignore[arg-type]

    def comparator(self, ident: Identifier, kind: KeyKind) -> str:
        token = self.advance()
        if token.kind == "OP":
            return token.text
        if token.kind == "END":
            raise self.error(f"Expected a comparator after '{ident.key}'", token.pos)
        word = token.text.upper()
        if token.kind == "WORD" and word in ("LIKE", "ILIKE", "IN"):
            return word
        if token.kind == "WORD" and word == "NOT" and self.tok.is_keyword("IN"):
            self.advance()
            return "NOT IN"
        if token.kind == "WORD" and word == "IS":
            negated = self.tok.is_keyword("NOT")
            if negated:
                self.advance()
            if self.tok.is_keyword("NULL"):
                self.advance()
                return "IS NOT NULL" if negated else "IS NULL"
            raise self.error(kind.invalid_comparator(self.span(token)), token.pos)
        if token.kind == "WORD" and word == "NOT":
            raise self.error(kind.invalid_comparator(self.span(token)), token.pos)
        raise self.error(kind.invalid_comparator(token.text), token.pos)

    def value(self, op: str, kind: KeyKind) -> float | str:
        token = self.advance()
        if token.kind == "END":
            raise self.error(f"Expected a value after '{op}'", token.pos)
        if kind.numeric:
            if token.kind == "NUMBER":
                return float(token.text)
            raise self.error(
                f"Expected numeric value type for {kind.noun}. Found {token.text}", token.pos
            )
        if token.kind == "STRING":
            return token.value
        if token.kind == "NUMBER":
            raise self.error(
                f"Expected a quoted string value for {kind.noun}. Got value {token.text}",
                token.pos,
            )
        if token.kind in ("WORD", "BACKTICK"):
            raise self.error(
                "Parameter value is either not quoted or unidentified quote types used for "
                f"string value {token.text}. Use either single or double quotes.",
                token.pos,
            )
        raise self.error(f"Expected a value after '{op}' but found '{token.text}'", token.pos)

    def string_list(self, op: str) -> tuple[str, ...]:
        opening = self.advance()
        if opening.kind != "LPAREN":
            raise self.error(
                f"Expected a parenthesised list of quoted strings after '{op}', e.g. ('a', 'b')",
                opening.pos,
            )
        if self.tok.kind == "RPAREN":
            raise self.error(_EMPTY_LIST, opening.pos)
        items: list[str] = []
        while True:
            item = self.advance()
            if item.kind == "END":
                raise self.error("Unbalanced parenthesis: the list is never closed", item.pos)
            if item.kind != "STRING":
                raise self.error(
                    "While parsing a list in the query, expected string value, punctuation, or "
                    f"whitespace, but got different type in list: {item.text}",
                    item.pos,
                )
            items.append(item.value)
            separator = self.advance()
            if separator.kind == "COMMA" and self.tok.kind == "RPAREN":
                self.advance()
                return tuple(items)
            if separator.kind == "RPAREN":
                return tuple(items)
            if separator.kind != "COMMA":
                raise self.error("Expected ',' or ')' in the list of values", separator.pos)

    # -- identifiers --------------------------------------------------------------------------

    def identifier(self) -> Identifier:
        token = self.advance()
        if token.kind == "WORD" and token.text.upper() in ("AND", "OR", "NOT"):
            raise self.error(
                f"Expected a comparison such as metrics.loss < 1 but found '{token.text}'",
                token.pos,
            )
        if token.kind == "WORD" and "." in token.text:
            prefix, key = token.text.split(".", 1)
            entity = self.entity(prefix, token.pos)
            key_pos = token.pos + len(prefix) + 1
            quoted = self.tok
            if not key and quoted.kind in ("STRING", "BACKTICK") and quoted.pos == token.end:
                self.advance()
                key = quoted.value
            if not key:
                raise self.error(f"Expected a key after '{token.text}'", key_pos)
            return self.canonical(entity, key, key_pos)
        if token.kind == "WORD" or (token.kind in ("STRING", "BACKTICK") and token.text[0] != "'"):
            name = token.value if token.kind != "WORD" else token.text
            prefix, dot, key = name.partition(".")
            if dot and key and prefix.lower() in self.schema.entities:
                return self.canonical(self.entity(prefix, token.pos), key, token.pos)
            return self.canonical("attribute", name, token.pos)
        found = "end of input" if token.kind == "END" else f"'{token.text}'"
        raise self.error(
            f"Expected an identifier such as metrics.loss or tags.`my key` but found {found}",
            token.pos,
        )

    def entity(self, prefix: str, pos: int) -> Entity:
        entity = self.schema.entities.get(prefix.lower())
        if entity is None:
            raise self.error(f"Invalid entity type '{prefix}'. {self.schema.entities_shown}", pos)
        return entity

    def canonical(self, entity: Entity, key: str, pos: int) -> Identifier:
        """The identifier with attribute aliases resolved and attribute/dataset keys checked."""
        if entity == "attribute":
            name = self.schema.attributes.get(key)
            if name is None:
                valid = sorted(self.schema.attributes)
                raise self.error(
                    f"Invalid attribute key '{key}' specified. Valid keys are '{valid}'", pos
                )
            return Identifier(entity, name)
        if entity == "dataset" and key not in self.schema.dataset_keys:
            valid = sorted(self.schema.dataset_keys)
            message = f"Invalid dataset key '{key}' specified. Valid keys are '{valid}'"
            raise self.error(message, pos)
        return Identifier(entity, key)

    # -- order_by -----------------------------------------------------------------------------

    def order_key(self) -> OrderKey:
        clause = self.text
        if self.tok.kind == "END":
            raise InvalidFilter(f"Invalid order_by clause '{clause}'. Could not be parsed.")
        start = self.tok
        ident = self.identifier()
        if ident.entity not in self.schema.order_entities:
            raise self.error(f"Invalid order_by entity: {ident.entity}", start.pos)
        ascending = True
        direction = self.tok
        if direction.kind != "END":
            if not direction.is_keyword("ASC", "DESC"):
                raise self.error(
                    f"Invalid ordering key in order_by clause '{clause}'.", direction.pos
                )
            ascending = direction.text.upper() == "ASC"
            self.advance()
        if self.tok.kind != "END":
            raise self.error(
                f"Invalid order_by clause '{clause}'. Could not be parsed.", self.tok.pos
            )
        return OrderKey(ident, ascending)
