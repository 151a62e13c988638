"""The agent script of a queue on the desktop (issue 13): a small Markdown subset, never raw HTML."""

from __future__ import annotations

import pytest

from acd.web.desktop import render_script

pytestmark = pytest.mark.timeout(10)


def test_markup_in_the_config_is_shown_as_text_not_run() -> None:
    out = render_script('Hello <script>alert(1)</script> <img src=x onerror="x()"> [a](javascript:x)')
    assert out is not None
    assert "<script" not in out and "<img" not in out and "<a" not in out
    assert "&lt;script&gt;" in out and "&quot;x()&quot;" in out


def test_headings_lists_and_emphasis_are_rendered() -> None:
    out = render_script("# Greeting\nSay **hello**, *smile*\n\n- ask the name\n- ask the `IIN`\n"
                        "1. one\n2. two")
    assert out == ("<h4>Greeting</h4><p>Say <strong>hello</strong>, <em>smile</em></p>"
                   "<ul><li>ask the name</li><li>ask the <code>IIN</code></li></ul>"
                   "<ol><li>one</li><li>two</li></ol>")


def test_no_script_shows_nothing() -> None:
    assert render_script(None) is None and render_script("  \n") is None
