"""The tokenizer the index and the search share: what counts as a word."""

from __future__ import annotations

import pytest

from helpdesk.tickets.search import MAX_QUERY_WORDS, query_words, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pods CRASH in Payments", ["pods", "crash", "payments"]),
        ("kube-proxy restarts", ["kube-proxy", "kube", "proxy", "restarts"]),
        ("node_pool np-2", ["node_pool", "node", "pool", "np-2", "np"]),
        (
            "prod-eu.example.com",
            [
                *("prod-eu.example.com", "prod-eu.example", "eu.example.com", "prod-eu", "eu.example", "example.com"),
                *("prod", "eu", "example", "com"),
            ],
        ),
        (
            "refused: 10.42.3.17:8080.",
            ["refused", "10.42.3.17", "10.42.3", "42.3.17", "10.42", "42.3", "3.17", "10", "42", "17", "8080"],
        ),
        (
            "v1.2.3.4.5 of a.b.c.d.e",
            ["v1.2.3.4.5", "v1", "a.b.c.d.e"],
        ),  # over 4 parts: the compound and its single parts
        ("Café déjà-vu ÉCHEC", ["cafe", "deja-vu", "deja", "vu", "echec"]),
        ("Ｆｕｌｌｗｉｄｔｈ ﬁle", ["fullwidth", "file"]),
        ("Die Größe des Speichers", ["die", "grosse", "des", "speichers"]),
        ("日志 错误", ["日志", "错误"]),
        ("the pods are in a crash loop, it is not ok", ["pods", "crash", "loop", "ok"]),
        ("a b c x 1 2", []),
        ("--- ___ ... ", []),
        ("crash crash CRASH", ["crash"]),
    ],
)
def test_words_are_lower_cased_unicode_words_with_compounds_and_their_parts(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_a_token_too_long_to_be_a_word_still_gives_its_parts() -> None:
    digest = "a" * 64
    assert words(f"sha256 {digest}") == ["sha256"]
    host = "very-long-host-name-of-a-node-in-the-fleet.example.com"
    assert host not in words(host)
    assert words(host) == ["long", "host", "name", "node", "fleet", "example", "com"]  # "very", "of", "a": stop words


def test_a_query_asks_for_the_compound_alone_which_implies_its_parts() -> None:
    assert query_words("KUBE-PROXY crash") == ["crash", "kube-proxy"]
    assert query_words("kube proxy") == ["kube", "proxy"]
    assert set(query_words("prod-eu")) <= set(words("Pods on prod-eu.example.com are pending"))
    assert query_words("the and of") == []


def test_a_query_counts_its_first_words_only() -> None:
    many = " ".join(f"word{n:02d}" for n in range(20))
    assert query_words(many) == [f"word{n:02d}" for n in range(MAX_QUERY_WORDS)]
