"""Descriptions as Markdown: a useful subset, and never any HTML from the text itself."""

from __future__ import annotations

import pytest
from runyard.server.ui.markdown import render_markdown


def test_the_supported_subset() -> None:
    html = render_markdown(
        "# Churn\nA **bold** and *italic* `code` [docs](https://e.com/?a=1&b=2)\n\n- one\n- two\n"
        "\n```\nx < 1\n```"
    )
    assert "<h3>Churn</h3>" in html
    assert "<strong>bold</strong>" in html and "<em>italic</em>" in html
    assert "<code>code</code>" in html
    assert (
        '<a href="https://e.com/?a=1&amp;b=2" rel="nofollow noopener noreferrer">docs</a>' in html
    )
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert "<pre><code>x &lt; 1</code></pre>" in html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        '[x](https://e.com/" onmouseover="alert(1))',
        "`<b>` **<i>x</i>**",
        "```\n</code></pre><script>alert(1)</script>\n```",
    ],
)
def test_no_html_from_the_text_survives(hostile: str) -> None:
    html = str(render_markdown(hostile))
    for tag in ("<script", "<img", "<i>", "<b>", 'href="javascript', 'href="data', 'onmouseover="'):
        assert tag not in html, html


def test_empty() -> None:
    assert render_markdown(None) == "" and render_markdown("") == ""
