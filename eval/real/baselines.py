#!/usr/bin/env python3
"""Lexical baselines for the real-data evaluation set (eval/real/issues.jsonl).

Requirements: Python 3.11, `rank-bm25` (PyPI: rank-bm25) and `numpy` (pulled in by rank-bm25).
    python3 -m venv /tmp/evalvenv && /tmp/evalvenv/bin/pip install rank-bm25 numpy
    /tmp/evalvenv/bin/python eval/real/baselines.py

Duplicate-detection protocol (shared by both rankers)
-----------------------------------------------------
* Issues are processed in file order (sorted by project, then issue number), the
  way an organisation's ticket stream grows.
* A query issue is compared only with the EARLIER issues of the SAME project
  (the candidates).  The ranking is the list of candidate ids, best first.
* Ties are broken in favour of the more recent candidate (stable and deterministic).
* Text = title + "\\n" + body, lower-cased, tokens = [a-z0-9_]+ of length >= 2,
  a small English stop-word list removed.
* TF-IDF: IDF is computed from the candidate index only (the issues visible at
  query time), smoothed idf = ln((1+N)/(1+df)) + 1, sublinear tf (1+ln tf),
  cosine similarity.  Hand-rolled, standard library only.
* BM25: rank_bm25.BM25Okapi (k1=1.5, b=0.75) built on the candidate index.

Metrics (duplicate_metrics): over every issue that has a `duplicate_of`:
  hit@1, recall@3, MRR, with the gold answer = `duplicate_of` (strict).  A query
  whose original was filed AFTER it (so it is not among its candidates) counts as
  a miss; the number of such unanswerable queries is reported, and the same
  metrics restricted to answerable queries are returned as *_answerable.
  With relaxed=True, any issue of the same duplicate cluster (the original or
  another issue closed as a duplicate of it) counts as a hit.

Classification baseline (majority_class_accuracy): accuracy of always predicting
the most frequent non-null value of `field` (optionally learned on another set,
e.g. dev -> test).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PATH = os.path.join(HERE, "issues.jsonl")

STOP = set(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "too",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yes",
        "also",
        "just",
        "any",
        "all",
        "some",
        "only",
        "out",
        "up",
        "use",
        "used",
        "using",
        "get",
        "got",
        "want",
        "like",
        "need",
        "please",
        "thanks",
        "thank",
        "hi",
        "hello",
    ]
)
TOKEN = re.compile(r"[a-z0-9_]+")


# ----------------------------------------------------------------------------- io
def load_issues(path: str = DEFAULT_PATH) -> list[dict]:
    """Load issues.jsonl in file order."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def tokenize(text: str) -> list[str]:
    return [t for t in TOKEN.findall(text.lower()) if len(t) > 1 and t not in STOP]


def issue_tokens(issue: dict) -> list[str]:
    return tokenize((issue.get("title") or "") + "\n" + (issue.get("body") or ""))


def _by_project(issues: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for it in issues:  # keeps file order inside each project
        groups[it["project"]].append(it)
    return groups


def _rank(scores, cand_ids: list[str]) -> list[str]:
    # score desc, ties -> more recent (later in file order) first
    order = sorted(range(len(cand_ids)), key=lambda j: (-float(scores[j]), -j))
    return [cand_ids[j] for j in order]


# ------------------------------------------------------------------------ rankers
def tfidf_rankings(issues: list[dict]) -> dict[str, list[str]]:
    """For every issue, candidate ids (earlier issues of the same project) ranked by TF-IDF cosine."""
    out: dict[str, list[str]] = {}
    for proj_issues in _by_project(issues).values():
        toks = [issue_tokens(it) for it in proj_issues]
        tfs = [Counter(t) for t in toks]
        df: Counter = Counter()
        for k, it in enumerate(proj_issues):
            cand_ids = [x["id"] for x in proj_issues[:k]]
            if k == 0:
                out[it["id"]] = []
            else:

                def idf(term: str, n: int = k, df: Counter = df) -> float:
                    return math.log((1 + n) / (1 + df.get(term, 0))) + 1.0

                def vec(tf: Counter) -> dict[str, float]:
                    v = {w: (1.0 + math.log(c)) * idf(w) for w, c in tf.items()}
                    norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
                    return {w: x / norm for w, x in v.items()}

                q = vec(tfs[k])
                scores = []
                for j in range(k):
                    d = vec(tfs[j])
                    if len(d) < len(q):
                        s = sum(x * q.get(w, 0.0) for w, x in d.items())
                    else:
                        s = sum(x * d.get(w, 0.0) for w, x in q.items())
                    scores.append(s)
                out[it["id"]] = _rank(scores, cand_ids)
            df.update(set(toks[k]))  # issue k joins the index after being queried
    return out


def bm25_rankings(issues: list[dict], k1: float = 1.5, b: float = 0.75) -> dict[str, list[str]]:
    """For every issue, candidate ids (earlier issues of the same project) ranked by BM25 (rank_bm25.BM25Okapi)."""
    from rank_bm25 import BM25Okapi

    out: dict[str, list[str]] = {}
    for proj_issues in _by_project(issues).values():
        toks = [issue_tokens(it) for it in proj_issues]
        for k, it in enumerate(proj_issues):
            cand_ids = [x["id"] for x in proj_issues[:k]]
            if k == 0:
                out[it["id"]] = []
                continue
            corpus = [t if t else ["<empty>"] for t in toks[:k]]
            bm = BM25Okapi(corpus, k1=k1, b=b)
            out[it["id"]] = _rank(bm.get_scores(toks[k]), cand_ids)
    return out


# ------------------------------------------------------------------------ metrics
def duplicate_metrics(rankings: dict[str, list[str]], issues: list[dict], relaxed: bool = False) -> dict:
    """hit@1, recall@3 and MRR over the issues that have a `duplicate_of` (see module doc)."""
    by_id = {it["id"]: it for it in issues}
    clusters: dict[str, set[str]] = defaultdict(set)
    for it in issues:
        if it.get("duplicate_of"):
            clusters[it["duplicate_of"]].add(it["id"])
    hits1 = rec3 = rr = 0.0
    a_hits1 = a_rec3 = a_rr = 0.0
    n = n_ans = 0
    for it in issues:
        a = it.get("duplicate_of")
        if not a or a not in by_id:
            continue
        n += 1
        gold = {a} | (clusters[a] - {it["id"]} if relaxed else set())
        ranked = rankings.get(it["id"], [])
        answerable = bool(gold & set(ranked))
        rank = next((i + 1 for i, c in enumerate(ranked) if c in gold), None)
        h1 = 1.0 if rank == 1 else 0.0
        r3 = 1.0 if rank is not None and rank <= 3 else 0.0
        r = 1.0 / rank if rank else 0.0
        hits1 += h1
        rec3 += r3
        rr += r
        if answerable:
            n_ans += 1
            a_hits1 += h1
            a_rec3 += r3
            a_rr += r

    def div(x, d):
        return round(x / d, 4) if d else None

    return {
        "n_queries": n,
        "n_answerable": n_ans,
        "n_unanswerable": n - n_ans,
        "hit@1": div(hits1, n),
        "recall@3": div(rec3, n),
        "mrr": div(rr, n),
        "hit@1_answerable": div(a_hits1, n_ans),
        "recall@3_answerable": div(a_rec3, n_ans),
        "mrr_answerable": div(a_rr, n_ans),
    }


def majority_class_accuracy(issues: list[dict], field: str, train_issues: list[dict] | None = None) -> dict:
    """Accuracy of predicting the most frequent non-null `field` value (learned on train_issues, default: issues)."""
    train = issues if train_issues is None else train_issues
    counts = Counter(it.get(field) for it in train if it.get(field) is not None)
    evaluated = [it for it in issues if it.get(field) is not None]
    if not counts or not evaluated:
        return {"field": field, "majority": None, "n": len(evaluated), "accuracy": None}
    majority = counts.most_common(1)[0][0]
    acc = sum(1 for it in evaluated if it[field] == majority) / len(evaluated)
    return {"field": field, "majority": majority, "n": len(evaluated), "accuracy": round(acc, 4)}


# --------------------------------------------------------------------------- main
def _fmt(x) -> str:
    return "  n/a" if x is None else f"{x:.3f}"


def main(path: str = DEFAULT_PATH) -> dict:
    issues = load_issues(path)
    splits = {s: [it for it in issues if it["split"] == s] for s in ("dev", "test")}
    rankers = {"tfidf": tfidf_rankings(issues), "bm25": bm25_rankings(issues)}
    results: dict = {}
    print(f"eval/real baselines on {os.path.relpath(path)} ({len(issues)} issues)\n")
    print("Duplicate detection (candidates = earlier issues of the same project; strict gold = duplicate_of)")
    print(
        f"{'split':5} {'ranker':6} {'queries':>7} {'answ.':>5} {'hit@1':>6} {'rec@3':>6} {'MRR':>6} "
        f"| {'hit@1*':>6} {'rec@3*':>6} {'MRR*':>6} | {'relaxed hit@1':>13}"
    )
    for s, its in splits.items():
        for name, rk in rankers.items():
            m = duplicate_metrics(rk, its)
            mr = duplicate_metrics(rk, its, relaxed=True)
            results[(s, name)] = {"strict": m, "relaxed": mr}
            print(
                f"{s:5} {name:6} {m['n_queries']:>7} {m['n_answerable']:>5} {_fmt(m['hit@1']):>6} "
                f"{_fmt(m['recall@3']):>6} {_fmt(m['mrr']):>6} | {_fmt(m['hit@1_answerable']):>6} "
                f"{_fmt(m['recall@3_answerable']):>6} {_fmt(m['mrr_answerable']):>6} | {_fmt(mr['hit@1']):>13}"
            )
    print("  (* = restricted to answerable queries, i.e. the original was filed before the duplicate)\n")
    print("Majority-class baseline (category / severity; non-null labels only)")
    print(
        f"{'split':5} {'field':9} {'n':>4} {'majority (own split)':>22} {'acc':>6} | {'majority from dev':>18} {'acc':>6}"
    )
    for s, its in splits.items():
        for field in ("category", "severity"):
            own = majority_class_accuracy(its, field)
            fromdev = majority_class_accuracy(its, field, train_issues=splits["dev"])
            results[(s, field)] = {"own": own, "from_dev": fromdev}
            print(
                f"{s:5} {field:9} {own['n']:>4} {own['majority']!s:>22} {_fmt(own['accuracy']):>6} | "
                f"{fromdev['majority']!s:>18} {_fmt(fromdev['accuracy']):>6}"
            )
    return results


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_PATH)
