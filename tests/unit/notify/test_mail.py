"""What a mail looks like, independent of who gets it: header values, excerpt, safe HTML."""

from __future__ import annotations

import pytest

from helpdesk.notify.rules import Mail, excerpt, header_value, looks_like_email, render_markdown


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Help\r\nBcc: evil@x.test", "Help Bcc: evil@x.test"),
        ("a\nb\rc\x00d", "a b c d"),
        ("line\u2028separator\x85next", "line separator next"),
        ("  plain subject  ", "plain subject"),
    ],
)
def test_header_values_lose_every_line_break_and_nul(value: str, expected: str) -> None:
    assert header_value(value) == expected


def test_a_mail_cannot_carry_a_line_break_in_any_header() -> None:
    mail = Mail(
        event_id="e1",
        to="user@acme.test\r\nBcc: evil@x.test",
        subject="Hi\nX-Injected: 1",
        text="t",
        html="h",
        reply_to=("support@helpdesk.test\r\nCc: evil@x.test",),
    )
    for value in (mail.to, mail.subject, *mail.reply_to):
        assert "\r" not in value and "\n" not in value and "\x00" not in value
    # and such a recipient is no address at all, so nobody would send to it
    assert not looks_like_email(mail.to)


def test_raw_html_in_markdown_is_text_not_markup() -> None:
    html = render_markdown(
        '<a href="https://evil.test" onclick="steal()">x</a> <iframe src="https://evil.test"></iframe>'
    )
    assert "<a" not in html and "<iframe" not in html
    assert "&lt;iframe" in html


def test_links_are_kept_and_marked_noopener() -> None:
    html = render_markdown("See [the docs](https://docs.example.com/lb).")
    assert '<a href="https://docs.example.com/lb" rel="noopener noreferrer">the docs</a>' in html


def test_an_excerpt_ends_on_a_word() -> None:
    text = "alpha " * 200
    cut = excerpt(text, limit=50)
    assert cut.endswith(" …")
    assert cut.removesuffix(" …").split() == ["alpha"] * 8
    assert excerpt("short", limit=50) == "short"
