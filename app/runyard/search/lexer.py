"""Split a filter or ``order_by`` string into tokens, remembering where each one starts.

The parser (``runyard.search.parser``) works on these tokens; keeping positions lets every
error say at which column the text went wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from runyard.errors import InvalidFilter

TokenKind = Literal[
    "WORD", "STRING", "BACKTICK", "NUMBER", "OP", "LPAREN", "RPAREN", "COMMA", "END"
]

#: A bare word: an entity-prefixed key (``tags.mlflow.runName``), an attribute or a keyword.
_WORD = re.compile(r"[^\W\d][\w.\-/:]*")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_OP = re.compile(r"[<>=!~]+")
_SPACE = re.compile(r"\s+")
_PUNCTUATION: dict[str, TokenKind] = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA"}
_SNIPPET_LENGTH = 24


@dataclass(frozen=True, slots=True)
class Token:
    """``text`` is the raw source text; ``value`` is the unquoted string for quoted tokens."""

    kind: TokenKind
    text: str
    pos: int
    value: str = ""

    @property
    def end(self) -> int:
        return self.pos + len(self.text)

    def is_keyword(self, *words: str) -> bool:
        return self.kind == "WORD" and self.text.upper() in words


def where(text: str, pos: int) -> str:
    """The ``(at column N: ...)`` suffix every parse error carries (columns count from 1)."""
    if pos >= len(text):
        return f" (at column {pos + 1}: end of input)"
    snippet = text[pos : pos + _SNIPPET_LENGTH]
    if pos + _SNIPPET_LENGTH < len(text):
        snippet += "..."
    return f" (at column {pos + 1}: {snippet!r})"


def fail(message: str, text: str, pos: int) -> InvalidFilter:
    """An ``InvalidFilter`` for ``message`` pointing at ``pos`` in ``text``."""
    return InvalidFilter(message + where(text, pos))


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text`` followed by one ``END`` token."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if space := _SPACE.match(text, pos):
            pos = space.end()
        elif char in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[char], char, pos))
            pos += 1
        elif char in "'\"`":
            token = _quoted(text, pos)
            tokens.append(token)
            pos = token.end
        elif number := _NUMBER.match(text, pos):
            tokens.append(Token("NUMBER", number.group(), pos))
            pos = number.end()
        elif word := _WORD.match(text, pos):
            tokens.append(Token("WORD", word.group(), pos))
            pos = word.end()
        elif op := _OP.match(text, pos):
            tokens.append(Token("OP", op.group(), pos))
            pos = op.end()
        else:
            raise fail(f"Invalid character {char!r} in filter string", text, pos)
    tokens.append(Token("END", "", len(text)))
    return tokens


def _quoted(text: str, start: int) -> Token:
    """A quoted string (``'`` or ``"``, with ``\\`` escapes or a doubled quote) or a backtick
    name (a doubled backtick stands for one)."""
    quote = text[start]
    escapes = quote != "`"
    chars: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if escapes and char == "\\" and pos + 1 < len(text) and text[pos + 1] in "\\'\"":
            chars.append(text[pos + 1])
            pos += 2
        elif char == quote:
            if text.startswith(quote, pos + 1):
                chars.append(quote)
                pos += 2
                continue
            kind: TokenKind = "BACKTICK" if quote == "`" else "STRING"
            return Token(kind, text[start : pos + 1], start, "".join(chars))
        else:
            chars.append(char)
            pos += 1
    raise fail(f"Unterminated quoted string starting with {quote}", text, start)
