"""The duplicate index: keys, signatures, scores and evidence the data layer stores and the engine reads."""

import json
import os
import subprocess
import sys
from pathlib import Path

from helpdesk.review import model
from helpdesk.review.similarity import (
    MAX_KEYS,
    InMemoryCandidateSource,
    cosine,
    document,
    evidence,
    fingerprints,
    index_entry,
    index_keys,
    parse_signature,
    rank_postings,
    score_postings,
    signature,
    snippet,
    vector,
)

ROOT = Path(__file__).resolve().parents[3]

NODES = """Three worker nodes in cluster prod-eu-1 went NotReady at 02:15 UTC: `Kubelet stopped posting node status`.
All three are in eu-west-1b and the remaining nodes are at 90% CPU."""
NODES_PARAPHRASE = """We lost three workers on prod-eu-1 around 02:15 UTC, all in availability zone eu-west-1b. They show
not ready and describe node says the kubelet stopped posting status."""
INVOICE = "Our EU VAT number is missing on invoice INV-2024-0498; please reissue it with our company address."


def test_index_keys_are_bounded_and_distinct() -> None:
    long_text = NODES + " ".join(f"word{n} term{n} thing{n}" for n in range(2_000))
    for text in (NODES, INVOICE, long_text):
        keys = index_keys(text)
        assert 1 <= len(keys) <= MAX_KEYS == 32
        assert len(set(keys)) == len(keys)
        assert all(len(key) <= 16 for key in keys)


def test_a_text_without_terms_has_no_keys() -> None:
    assert index_keys("hi, thanks!") == []


def test_keys_and_signatures_are_the_same_in_every_process() -> None:
    # Given two interpreters with different string-hash seeds (the index must not depend on hash())
    code = (
        "import json, sys; sys.path.insert(0, 'layers/common');"
        "from helpdesk.review.similarity import index_keys, signature;"
        f"print(json.dumps([index_keys({NODES!r}), signature({NODES!r})]))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    # Then both compute the same keys and signature, and so does this process
    assert len(outputs) == 1
    assert json.loads(outputs.pop()) == [index_keys(NODES), signature(NODES)]


def _signature_cosine(text_a: str, text_b: str) -> float:
    """The tf-idf cosine of two tickets' stored signatures (the `text_cos` match feature, prior rarity)."""
    a, b = parse_signature(signature(text_a)), parse_signature(signature(text_b))
    assert a is not None and b is not None
    return cosine(vector(a, model.current().idf), vector(b, model.current().idf))


def test_a_paraphrase_shares_keys_and_scores_high() -> None:
    assert set(index_keys(NODES)) & set(index_keys(NODES_PARAPHRASE))
    assert _signature_cosine(NODES, NODES_PARAPHRASE) >= 0.55


def test_unrelated_tickets_score_low() -> None:
    assert _signature_cosine(NODES, INVOICE) < 0.2


def test_a_signature_of_another_scheme_is_not_read() -> None:
    assert parse_signature(signature(NODES)) is not None
    assert parse_signature("0 node:99") is None and parse_signature("") is None


def test_the_signature_is_small_and_redacted() -> None:
    text = NODES + " token: ghp_16C7e42F292c6912E7710c838347Ae178B4a " + "more words here " * 500
    sig = signature(text)
    assert len(sig) < 1_000
    assert "ghp_" not in sig and "16c7e42f" not in sig


def test_the_index_entry_matches_the_single_functions() -> None:
    entry = index_entry("Nodes NotReady", NODES)
    text = document("Nodes NotReady", NODES)
    assert entry.keys == index_keys(text)
    assert entry.signature == signature(text)
    assert entry.snippet == snippet("Nodes NotReady", NODES)
    assert entry.snippet.startswith("Nodes NotReady")


def test_evidence_quotes_shared_phrases_and_equivalent_wordings() -> None:
    found = evidence(NODES_PARAPHRASE, NODES)
    joined = " | ".join(found).lower()
    assert "kubelet stopped posting" in joined
    assert "eu-west-1b" in joined
    assert any("≈" in phrase for phrase in found)  # "not ready" ≈ "NotReady"
    assert len(found) <= 5


def test_evidence_is_empty_for_unrelated_texts() -> None:
    assert evidence(INVOICE, NODES) == []


def test_postings_rank_the_keys_rare_in_the_org_first_then_newest() -> None:
    keys = ["k1", "k2", "k3"]
    postings = {
        "k3": ["newer"],
        "k1": ["old", "new", "x", "y"],
        "k2": ["old"],
    }  # in any order, as BatchGetItem returns them
    # old shares a common key and a rare one, newer a rare one, new only the common one
    assert rank_postings(score_postings(postings, keys, 10), limit=10) == ["old", "newer", "y", "x", "new"]
    assert rank_postings(score_postings({"k3": ["a", "b"]}, keys), limit=1) == ["b"]
    # a key's count past the posting cap makes it common, whatever its list holds
    counts = {"k1": 4, "k2": 1, "k3": 900}
    assert rank_postings(score_postings(postings, keys, 1000, counts), limit=2) == ["old", "y"]


def test_a_single_rare_title_term_is_enough_to_find_a_ticket() -> None:
    source = InMemoryCandidateSource()
    source.add("acme", "01A", "hyperkit eats the CPU", "Since the update the fan never stops.")
    for n in range(30):
        source.add("acme", f"01B{n:02d}", f"Question {n} about invoices", f"Our invoice number {n} is wrong.")
    found = source.candidates("acme", index_keys("hyperkit\n\nWhy is it so slow?"), limit=5)
    assert [c.ticket_id for c in found][:1] == ["01A"]


def test_the_same_error_line_gives_the_same_fingerprint_whatever_varies() -> None:
    one = '2024-05-14T06:02:11Z level=error msg="failed to mount /var/lib/kubelet/pods/3f2a/volumes: timeout 30s"'
    two = '2025-01-02T11:00:59Z level=error msg="failed to mount /var/lib/kubelet/pods/98cd/volumes: timeout 45s"'
    other = '2024-05-14T06:02:11Z level=error msg="certificate has expired or is not yet valid"'
    assert fingerprints(one) == fingerprints(two) != []
    assert fingerprints(one) != fingerprints(other)


def test_the_posting_cap_bounds_a_list_but_the_count_goes_on() -> None:
    source = InMemoryCandidateSource(cap=3)
    for n in range(5):
        source.add("acme", f"0{n}", "Traefik returns 404", f"Route {n} is not found.")
    found = source.candidates("acme", index_keys("Traefik returns 404"), limit=10)
    assert len(found) == 3 and found.indexed == 5
    assert max(found.counts.values()) == 5


def test_the_in_memory_source_is_scoped_by_org_and_reads_only_the_keys() -> None:
    source = InMemoryCandidateSource()
    source.add("acme", "01A", "Nodes NotReady", NODES)
    source.add("acme", "01B", "VAT", INVOICE)
    source.add("globex", "01C", "Nodes NotReady", NODES)
    found = source.candidates("acme", index_keys(NODES_PARAPHRASE), limit=10)
    assert [c.ticket_id for c in found][:1] == ["01A"]
    assert "01C" not in {c.ticket_id for c in found}
    source.set_status("acme", "01A", "closed")
    assert source.candidates("acme", index_keys(NODES), limit=10)[0].status == "closed"
