"""Markdown for descriptions, rendered safely: the text is HTML-escaped first, then a small
subset of Markdown is turned into a fixed set of tags, so no HTML from the text survives.

Supported: paragraphs, ``#`` headings, ``-``/``*``/``1.`` lists, fenced code blocks, inline
code, ``**bold**``, ``*italic*`` and ``[links](https://...)`` (only http, https and mailto
targets; anything else stays text).
"""

from __future__ import annotations

import html
import re

from markupsafe import Markup

_LINK = re.compile(r"\[([^\]\n]+)\]\(((?:https?://|mailto:)[^\s)]+)\)")
_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*([^*\n]+)\*(?![*\w])")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*(?:[-*]|\d+\.)\s+(.*)$")


def _inline(escaped: str) -> str:
    """Inline markup on already-escaped text; code spans are protected from the rest."""
    codes: list[str] = []

    def keep_code(match: re.Match[str]) -> str:
        codes.append(f"<code>{match.group(1)}</code>")
        return f"\x00{len(codes) - 1}\x00"

    text = _CODE.sub(keep_code, escaped)
    text = _LINK.sub(r'<a href="\2" rel="nofollow noopener noreferrer">\1</a>', text)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: codes[int(m.group(1))], text)


def render_markdown(text: str | None) -> Markup:
    """Safe HTML for ``text``."""
    lines = html.escape(text or "", quote=True).replace("\x00", "").splitlines()
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    code: list[str] | None = None

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in lines:
        if line.strip().startswith("```"):
            if code is None:
                flush()
                code = []
            else:
                out.append("<pre><code>" + "\n".join(code) + "</code></pre>")
                code = None
            continue
        if code is not None:
            code.append(line)
            continue
        heading = _HEADING.match(line)
        bullet = _BULLET.match(line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            level = min(len(heading.group(1)) + 2, 6)  # below the page's own headings
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet:
            if paragraph:
                flush()
            items.append(bullet.group(1))
        else:
            if items:
                flush()
            paragraph.append(line.strip())
    if code is not None:
        out.append("<pre><code>" + "\n".join(code) + "</code></pre>")
    flush()
    return Markup("\n".join(out))
