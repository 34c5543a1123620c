#!/usr/bin/env python3
"""Validate eval/real/issues.jsonl (standard library only, Python 3.11).

    python3 eval/real/check.py                   # integrity asserts + spec targets (exit 1 on any shortfall)
    python3 eval/real/check.py --integrity-only  # integrity asserts only (exit 0 if the file is consistent)

Integrity (always asserted): unique ids, id/url/project consistency, file sorted by
project then number, allowed field values, no forbidden organisation/repository,
every duplicate_of resolves to a different issue of the same project and split and
has a quote, hard_negative_of ids resolve within the same project and are not that
issue's duplicate partner, each project in exactly one split, category/severity equal
to the label mapping below re-applied to the raw labels, bodies non-empty and
<= 20,000 characters (+ truncation marker).

Spec targets (reported; a shortfall makes the exit status 1 unless --integrity-only):
>= 400 issues, >= 80 duplicate pairs, >= 80 hard negatives, >= 250 category-labelled
issues, test split: >= 35 pairs, >= 3 projects, >= 100 labelled issues; dev split: >= 30 pairs;
hard negatives in both splits,
pairs and labelled issues in both splits, >= 400 test issues.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = os.path.join(HERE, "issues.jsonl")

CATEGORIES = {"technical", "bug", "feature_request", "account", "billing", "general", "other"}
SEVERITIES = {"low", "medium", "high", "critical"}
FORBIDDEN_ORGS = {
    "kubernetes",
    "kubernetes-sigs",
    "kubernetes-client",
    "kubernetes-retired",
    "helm",
    "prometheus",
    "grafana",
    "k3s-io",
    "volcano-sh",
}
FORBIDDEN_REPOS = {
    "argoproj/argo-cd",
    "rancher/k3s",
    "aws/karpenter",
    "aws/karpenter-provider-aws",
    "hashicorp/terraform-provider-aws",
}
FORBIDDEN_NAME_PARTS = {"karpenter", "k3s", "volcano", "terraform-provider-aws"}

# Raw label (lower-cased, exact match) -> category.  Same table as README.md.
CATEGORY_MAP = {
    # bug
    "bug": "bug",
    "kind/bug": "bug",
    "type: bug": "bug",
    "type/bug": "bug",
    "1. bug": "bug",
    "kind/bug/confirmed": "bug",
    "kind/bug/possible": "bug",
    "kind/regression": "bug",
    "regression": "bug",
    "kind/crash": "bug",
    "kind/flake": "bug",
    "type:bug": "bug",
    "type/regression": "bug",
    "🐛 bug": "bug",
    "🐛 possible bug": "bug",
    "defect": "bug",
    "🐞 bug": "bug",
    "☢️ bug": "bug",
    "bug :bug:": "bug",
    # feature_request
    "kind/feature": "feature_request",
    "kind/enhancement": "feature_request",
    "enhancement": "feature_request",
    "feature request": "feature_request",
    "type: feature": "feature_request",
    "type/feature": "feature_request",
    "kind/proposal": "feature_request",
    "feature": "feature_request",
    "type: enhancement": "feature_request",
    "kind/feature-request": "feature_request",
    "feature-request": "feature_request",
    "kind/requirement": "feature_request",
    "type/enhancement": "feature_request",
    "type/feature-request": "feature_request",
    "2. enhancement": "feature_request",
    "type:enhancement": "feature_request",
    ":rocket: enhancement": "feature_request",
    "feature_request": "feature_request",
    "feature :gear:": "feature_request",
    "enhancement :magic_wand:": "feature_request",
    "feat": "feature_request",
    "type:proposal": "feature_request",
    "type/proposal": "feature_request",
    "type/newfeature": "feature_request",
    "type/new feature": "feature_request",
    "proposal": "feature_request",  # generic, but in these trackers a proposed feature (openfaas, nginx ingress)
    "✏️ feature": "feature_request",
    "kind/feature request": "feature_request",
    "type: feature suggestion": "feature_request",
    "feature request/improvement": "feature_request",
    # technical (user asks how to do / configure something)
    "kind/question": "technical",
    "question": "technical",
    "kind/support": "technical",
    "triage/support": "technical",
    "type: question": "technical",
    "support": "technical",
    "type/question": "technical",
    "📬 kind/question": "technical",
    "type:question": "technical",
    "community/question": "technical",
    "question :grey_question:": "technical",
    "type: support request": "technical",
    "product-support": "technical",
    ":question: question": "technical",
    "area/question": "technical",
    # general (documentation)
    "kind/docs": "general",
    "type/docs": "general",
    "area/documentation": "general",
    "kind/documentation": "general",
    "documentation": "general",
    "docs": "general",
    "area/docs": "general",
    "type: documentation": "general",
    "category: docs": "general",
    "module:docs": "general",
    "doc": "general",
    "type: docs": "general",
    "domain:docs": "general",
    "theme/docs": "general",
    "documentation :book:": "general",
    "component/documentation": "general",
}
# Raw label (lower-cased, exact match) -> severity.  Same table as README.md.
SEVERITY_MAP = {
    "priority/p0": "critical",
    "p0": "critical",
    "priority/critical-urgent": "critical",
    "priority/critical": "critical",
    "severity/critical": "critical",
    "priority/release-blocker": "critical",
    "release-blocker": "critical",
    "priority/0": "critical",
    "priority/p1": "high",
    "p1": "high",
    "priority/important-soon": "high",
    "priority/high": "high",
    "priority: high": "high",
    "severity/high": "high",
    "priority/1": "high",
    "priority/p2": "medium",
    "p2": "medium",
    "priority/important-longterm": "medium",
    "priority/medium": "medium",
    "severity/medium": "medium",
    "priority/2": "medium",
    "priority/p3": "low",
    "p3": "low",
    "priority/backlog": "low",
    "priority/low": "low",
    "severity/low": "low",
    "priority/3": "low",
}


def map_labels(labels: list[str]) -> tuple[str | None, str | None]:
    """Re-apply the mapping: a field is set only if the mapped labels agree on exactly one value."""
    cats = {CATEGORY_MAP[label.lower()] for label in labels if label.lower() in CATEGORY_MAP}
    sevs = {SEVERITY_MAP[label.lower()] for label in labels if label.lower() in SEVERITY_MAP}
    return (cats.pop() if len(cats) == 1 else None), (sevs.pop() if len(sevs) == 1 else None)


def load(path: str = PATH) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def check_integrity(issues: list[dict]) -> None:
    ids = [x["id"] for x in issues]
    assert len(ids) == len(set(ids)), "duplicate ids: %s" % [i for i, c in Counter(ids).items() if c > 1]
    by_id = {x["id"]: x for x in issues}
    required = {
        "id",
        "project",
        "url",
        "title",
        "body",
        "labels",
        "category",
        "severity",
        "duplicate_of",
        "duplicate_quote",
        "hard_negative_of",
        "split",
        "license",
        "created_at",
    }
    project_split: dict[str, set] = defaultdict(set)
    keys = []
    for x in issues:
        missing = required - x.keys()
        assert not missing, (x["id"], missing)
        proj, num = x["id"].rsplit("#", 1)
        assert proj == x["project"] and num.isdigit(), x["id"]
        assert x["url"] == f"https://github.com/{proj}/issues/{num}", x["id"]
        org, repo = proj.lower().split("/")
        assert org not in FORBIDDEN_ORGS and proj.lower() not in FORBIDDEN_REPOS, f"forbidden project {proj}"
        assert not any(p in repo for p in FORBIDDEN_NAME_PARTS), f"forbidden project {proj}"
        assert x["split"] in ("dev", "test"), x["id"]
        project_split[proj].add(x["split"])
        assert x["title"].strip() and x["body"].strip(), f"empty title/body {x['id']}"
        assert len(x["body"]) <= 20000 + 60, f"body too long {x['id']}"
        assert isinstance(x["labels"], list), x["id"]
        assert x["category"] in CATEGORIES | {None}, x["id"]
        assert x["severity"] in SEVERITIES | {None}, x["id"]
        assert (x["category"], x["severity"]) == map_labels(x["labels"]), f"label mapping mismatch {x['id']}"
        assert x["license"].strip(), x["id"]
        a = x["duplicate_of"]
        if a is not None:
            assert a in by_id, f"{x['id']}: duplicate_of {a} does not resolve"
            assert a != x["id"], x["id"]
            assert by_id[a]["project"] == x["project"], f"{x['id']}: duplicate in another project"
            assert by_id[a]["split"] == x["split"], f"{x['id']}: duplicate in another split"
            assert (x["duplicate_quote"] or "").strip(), f"{x['id']}: missing duplicate_quote"
        else:
            assert x["duplicate_quote"] is None, x["id"]
        assert isinstance(x["hard_negative_of"], list), x["id"]
        for h in x["hard_negative_of"]:
            assert h in by_id, f"{x['id']}: hard_negative_of {h} does not resolve"
            assert h != x["id"], x["id"]
            assert by_id[h]["project"] == x["project"], f"{x['id']}: hard negative in another project"
            assert h != a and by_id[h].get("duplicate_of") != x["id"], f"{x['id']}: hard negative of its own duplicate"
        keys.append((x["project"], int(num)))
    assert keys == sorted(keys), "file not sorted by project then issue number"
    bad = {p: s for p, s in project_split.items() if len(s) != 1}
    assert not bad, f"projects in several splits: {bad}"


def stats(issues: list[dict]) -> dict:
    out = {}
    for s in ("dev", "test", "all"):
        its = issues if s == "all" else [x for x in issues if x["split"] == s]
        out[s] = {
            "issues": len(its),
            "projects": len({x["project"] for x in its}),
            "pairs": sum(1 for x in its if x["duplicate_of"]),
            "hard_negatives": sum(1 for x in its if x["hard_negative_of"]),
            "category": sum(1 for x in its if x["category"]),
            "severity": sum(1 for x in its if x["severity"]),
            "per_category": dict(Counter(x["category"] for x in its if x["category"]).most_common()),
            "per_severity": dict(Counter(x["severity"] for x in its if x["severity"]).most_common()),
        }
    return out


def check_targets(st: dict) -> list[str]:
    a, d, t = st["all"], st["dev"], st["test"]
    targets = [
        ("issues >= 400", a["issues"] >= 400, a["issues"]),
        ("duplicate pairs >= 80", a["pairs"] >= 80, a["pairs"]),
        ("hard negatives >= 80", a["hard_negatives"] >= 80, a["hard_negatives"]),
        ("category-labelled issues >= 250", a["category"] >= 250, a["category"]),
        ("test duplicate pairs >= 35", t["pairs"] >= 35, t["pairs"]),
        ("dev duplicate pairs >= 30", d["pairs"] >= 30, d["pairs"]),
        ("test projects >= 3", t["projects"] >= 3, t["projects"]),
        ("test labelled issues >= 100", t["category"] >= 100, t["category"]),
        ("duplicate pairs in both splits", d["pairs"] > 0 and t["pairs"] > 0, (d["pairs"], t["pairs"])),
        ("labelled issues in both splits", d["category"] > 0 and t["category"] > 0, (d["category"], t["category"])),
        (
            "hard negatives in both splits",
            d["hard_negatives"] > 0 and t["hard_negatives"] > 0,
            (d["hard_negatives"], t["hard_negatives"]),
        ),
        ("test issues >= 400", t["issues"] >= 400, t["issues"]),
    ]
    shortfalls = []
    for name, ok, val in targets:
        print(f"  [{'ok' if ok else 'SHORTFALL'}] {name}: {val}")
        if not ok:
            shortfalls.append(name)
    return shortfalls


def main(argv: list[str]) -> int:
    issues = load()
    check_integrity(issues)
    print(f"integrity: OK ({len(issues)} issues)")
    st = stats(issues)
    for s in ("dev", "test", "all"):
        print(f"{s}: {json.dumps(st[s])}")
    print("spec targets:")
    shortfalls = check_targets(st)
    if shortfalls and "--integrity-only" not in argv:
        print(f"{len(shortfalls)} target(s) not met: {shortfalls}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
