"""make eval: the review engine on real issue reports (`dev`, `test`) and the synthetic set, beside
the baselines computed in the same run on the same data.

Per split: duplicate hit@1, recall@3, MRR (queries whose original was filed before them) and false
alarms (queries without one that got any proposal); category accuracy and macro-F1; severity
accuracy and within-one; confidence calibration; quality scores of vague vs complete reports.
Baselines: TF-IDF cosine and BM25 (rank-bm25) over title + body, ranked the same way (earlier issues
of the same project), and the majority class. See eval/real/README.md for the data.

    python eval/run_eval.py [--splits dev,test,synthetic] [--engine builtin|bedrock|both] [--no-baselines] [--check]

`--check` exits non-zero when a figure is below its floor (FLOORS), for `make test`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

import harness
from harness import SEVERITIES, Issue

from helpdesk.domain.reviews import ReviewDraft, ReviewResult
from helpdesk.review.redact import redact

# Floors `--check` holds (for `make test`): a little under the figures of the shipped model (README
# "Review engine"), so that a regression fails. `*_max`: a ceiling. `ranking_*`: every candidate the
# engine scored, proposed or not (the baselines' terms).
FLOORS: dict[str, dict[str, float]] = {
    "dev": {
        "ranking_hit@1": 0.55,
        "ranking_recall@3": 0.82,
        "ranking_mrr": 0.70,
        "hit@1": 0.28,
        "false_alarms_max": 0.12,
        "category_accuracy": 0.85,
        "category_macro_f1": 0.83,
        "unsettled_category_accuracy": 0.84,
    },
    "test": {
        "ranking_recall@3": 0.70,
        "ranking_mrr": 0.52,
        # The issue's target is 0.10. Since the draft's rivals joined the proposal rule (decided on dev: 5 folds by
        # project, proposals 0.247 / 0.282 at 0.088 -> 0.282 / 0.329 at 0.091), test measures 0.102 (38 of 373),
        # one query over it (0.083 before, with recall@3 0.075 -> 0.132). Its bar was not moved to fit test.
        "false_alarms_max": 0.11,
        "recall@3": 0.11,
        "ranking_hit@1": 0.32,
        "category_accuracy": 0.66,
        "category_macro_f1": 0.60,
        # Nothing settled, the classifier read against the org's own predicted mix (decided on dev and the
        # synthetic set held out): 0.683 -> 0.703 since 2026-12-08.
        "unsettled_category_accuracy": 0.68,
    },
    # The synthetic set is trained on, but read as one org its settled tickets most like a report now weigh
    # on its category too (held out in 5 parts, 0.721 -> 0.756 with them; trained on, 0.907 -> 0.878). So does
    # its own predicted mix before anything is settled (held out, 0.692 -> 0.797; trained on, 0.913 -> 0.837).
    "synthetic": {
        "ranking_recall@3": 0.97,
        "hit@1": 0.55,
        "false_alarms_max": 0.04,
        "category_accuracy": 0.86,
        "unsettled_category_accuracy": 0.82,
    },
}

VAGUE_EXAMPLE = ReviewDraft(subject="help", body="it doesnt work")
COMPLETE_EXAMPLE = ReviewDraft(
    subject="Ingress returns 502 for every host on prod-eu-1 since the ingress-nginx upgrade",
    body="""Since yesterday 18:05 UTC, right after we upgraded ingress-nginx from 1.9.6 to 1.10.0 on cluster
prod-eu-1, every host behind the public ingress answers 502 Bad Gateway. Internal service-to-service traffic works.

Steps to reproduce: `curl -I https://shop.example.com` from anywhere.

```
$ kubectl -n ingress-nginx logs deploy/ingress-nginx-controller --tail=3
2024/05/14 18:06:11 [error] 31#31: *4411 connect() failed (111: Connection refused) while connecting to upstream
```

What we tried: restarted the controller pods and rolled back the ConfigMap change; same result. Rolling back the
chart to 4.9.1 fixes it, so it looks like the new version. Expected the upgrade to keep serving traffic.""",
)


# ------------------------------------------------------------------------------------ metrics


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def rank_metrics(rankings: dict[str, list[str]], issues: list[Issue]) -> dict[str, float | None]:
    """hit@1, recall@3, MRR over the queries whose original was filed before them (strict gold)."""
    queries = harness.answerable(issues)
    by_id = {issue.id: issue for issue in issues}
    hit = rec = rr = 0.0
    for query in queries:
        ranked = rankings.get(query, [])
        gold = by_id[query].duplicate_of
        rank = next((n + 1 for n, ticket_id in enumerate(ranked) if ticket_id == gold), None)
        hit += rank == 1
        rec += rank is not None and rank <= 3
        rr += 1 / rank if rank else 0.0
    return {
        "queries": len(queries),
        "hit@1": _ratio(hit, len(queries)),
        "recall@3": _ratio(rec, len(queries)),
        "mrr": _ratio(rr, len(queries)),
    }


def group_metrics(rankings: dict[str, list[str]], groups: dict[str, set[str]]) -> dict[str, float | None]:
    """hit@1 and recall@3 over the queries with a report of their duplicate group filed before them
    (`groups`: harness.duplicate_groups): any of those counts."""
    queries = [query for query, group in groups.items() if group]
    hit = sum(1 for query in queries if rankings.get(query, [])[:1] and rankings[query][0] in groups[query])
    rec = sum(1 for query in queries if set(rankings.get(query, [])[:3]) & groups[query])
    return {"queries": len(queries), "hit@1": _ratio(hit, len(queries)), "recall@3": _ratio(rec, len(queries))}


def false_alarms(results: dict[str, ReviewResult], issues: list[Issue], hard: bool | None = None) -> tuple[int, int]:
    """(non-duplicate queries that got a proposal, non-duplicate queries); `hard`: only the hard
    negatives (True) or only the rest (False)."""
    with_original = harness.answerable(issues)
    others = [issue.id for issue in issues if issue.id not in with_original and hard in (None, issue.hard_negative)]
    return sum(1 for ticket_id in others if results[ticket_id].duplicates), len(others)


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """The 95 % Wilson score interval of a proportion (what a split of this size can tell apart)."""
    if not n:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def macro_f1(pairs: list[tuple[str, str]]) -> float | None:
    """Macro-F1 over the classes of the gold labels."""
    if not pairs:
        return None
    scores = []
    for label in sorted({gold for gold, _ in pairs}):
        tp = sum(1 for gold, got in pairs if gold == label == got)
        fp = sum(1 for gold, got in pairs if got == label != gold)
        fn = sum(1 for gold, got in pairs if gold == label != got)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def calibration(predictions: list[tuple[float, bool]], bins: tuple[float, ...] = (0.5, 0.65, 0.8, 0.9)) -> str:
    """Accuracy per confidence band, and the expected calibration error."""
    if not predictions:
        return "n/a"
    edges = (0.0, *bins, 1.01)
    parts, ece = [], 0.0
    for low, high in itertools.pairwise(edges):
        band = [(conf, ok) for conf, ok in predictions if low <= conf < high]
        if band:
            accuracy = sum(ok for _, ok in band) / len(band)
            mean = sum(conf for conf, _ in band) / len(band)
            ece += len(band) / len(predictions) * abs(accuracy - mean)
            parts.append(f"[{low:.2f},{min(high, 1):.2f}) {accuracy:.2f} of {len(band)}")
    return "; ".join(parts) + f"; ECE {ece:.3f}"


@dataclass
class SplitReport:
    name: str
    issues: int = 0
    figures: dict[str, float | None] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def _f(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def evaluate_engine(name: str, issues: list[Issue], results: dict[str, ReviewResult], seconds: float) -> SplitReport:
    report = SplitReport(name, len(issues))
    engine_rankings = {ticket_id: [d.ticket_id for d in result.duplicates] for ticket_id, result in results.items()}
    ranks = rank_metrics(engine_rankings, issues)
    alarms, others = false_alarms(results, issues)
    report.figures.update(ranks)
    ranking = rank_metrics(dict(harness.RANKINGS), issues)
    report.figures.update({f"ranking_{key}": value for key, value in ranking.items()})
    report.figures["false_alarms"] = _ratio(alarms, others)
    report.figures["false_alarm_counts"] = alarms
    report.figures["non_duplicates"] = others
    (hard_alarms, hard), (rest_alarms, rest) = (false_alarms(results, issues, kind) for kind in (True, False))
    report.lines.append(
        f"  false alarms on the hard negatives: {_f(_ratio(hard_alarms, hard))} ({hard_alarms}/{hard});"
        f" on the other queries without a duplicate: {_f(_ratio(rest_alarms, rest))} ({rest_alarms}/{rest})"
    )
    groups = harness.duplicate_groups(issues)
    by_group = group_metrics(engine_rankings, groups)
    loners = [ticket_id for ticket_id, group in groups.items() if not group]
    group_alarms = sum(1 for ticket_id in loners if results[ticket_id].duplicates)
    report.figures.update({f"group_{key}": value for key, value in by_group.items()})
    report.figures.update(
        {f"group_ranking_{key}": value for key, value in group_metrics(dict(harness.RANKINGS), groups).items()}
    )
    report.figures["group_false_alarms"] = _ratio(group_alarms, len(loners))
    report.figures["group_alarm_counts"] = group_alarms
    report.figures["group_loners"] = len(loners)
    # duplicate proposals by score: precision of the first proposal
    firsts = []
    for issue in issues:
        result = results[issue.id]
        if result.duplicates:
            top = result.duplicates[0]
            firsts.append((top.score, top.ticket_id == issue.duplicate_of))
    report.lines.append(f"  duplicate first proposals by score: {calibration(firsts)}")

    labelled = [(issue.category, results[issue.id].suggested_category.value) for issue in issues if issue.category]
    report.figures["category_n"] = len(labelled)
    report.figures["category_accuracy"] = _ratio(sum(g == p for g, p in labelled), len(labelled))
    report.figures["category_macro_f1"] = macro_f1(labelled)
    confident = [
        (results[issue.id].category_confidence, results[issue.id].suggested_category.value == issue.category)
        for issue in issues
        if issue.category
    ]
    sure = [ok for conf, ok in confident if conf >= 0.8]
    report.figures["category_sure_n"] = len(sure)
    report.figures["category_sure_accuracy"] = _ratio(sum(sure), len(sure))
    report.lines.append(f"  category confidence bands: {calibration(confident)}")
    confusion = Counter((g, p) for g, p in labelled if g != p)
    report.lines.append(
        "  category confusions (gold→predicted): "
        + (", ".join(f"{g}→{p} ×{n}" for (g, p), n in confusion.most_common(6)) or "none")
    )

    graded = [(issue.severity, results[issue.id].suggested_severity.value) for issue in issues if issue.severity]
    report.figures["severity_n"] = len(graded)
    report.figures["severity_accuracy"] = _ratio(sum(g == p for g, p in graded), len(graded))
    report.figures["severity_within_one"] = _ratio(
        sum(abs(SEVERITIES.index(g) - SEVERITIES.index(p)) <= 1 for g, p in graded), len(graded)
    )

    vague = [
        results[i.id].quality.score for i in issues if any(harness.VAGUE_LABEL.search(label) for label in i.labels)
    ]
    complete = [
        results[i.id].quality.score for i in issues if any(harness.COMPLETE_LABEL.match(label) for label in i.labels)
    ]
    scores = [result.quality.score for result in results.values()]
    report.figures["quality_vague_mean"] = _ratio(sum(vague), len(vague))
    report.figures["quality_complete_mean"] = _ratio(sum(complete), len(complete))
    auc = None
    if vague and complete:
        auc = sum((c > v) + 0.5 * (c == v) for c in complete for v in vague) / (len(vague) * len(complete))
    report.figures["quality_auc"] = auc
    report.lines.append(
        f"  quality: all {_f(_ratio(sum(scores), len(scores)), 1)} mean; maintainers' 'needs info' labels"
        f" {_f(report.figures['quality_vague_mean'], 1)} (n={len(vague)}), 'confirmed/accepted' labels"
        f" {_f(report.figures['quality_complete_mean'], 1)} (n={len(complete)}); P(complete > vague) {_f(auc, 2)}"
    )
    leaks = sum(
        1
        for result in results.values()
        if any(redact(text) != text for text in [result.summary, *(p for d in result.duplicates for p in d.evidence)])
    )
    intervals = []
    for label, key, n in (
        ("proposals hit@1", "hit@1", "queries"),
        ("proposals recall@3", "recall@3", "queries"),
        ("ranking hit@1", "ranking_hit@1", "queries"),
        ("ranking recall@3", "ranking_recall@3", "queries"),
        ("category accuracy", "category_accuracy", "category_n"),
    ):
        ratio, count = report.figures.get(key), int(report.figures.get(n) or 0)
        bounds = wilson(round(ratio * count), count) if ratio is not None else None
        if bounds:
            intervals.append(f"{label} {bounds[0]:.3f}–{bounds[1]:.3f}")
    report.lines.append("  95 % intervals (Wilson): " + ("; ".join(intervals) or "n/a"))
    report.figures["leaks"] = leaks
    report.figures["ms_per_review"] = 1000 * seconds / max(1, len(issues))
    return report


def summary(issues: list[Issue], results: dict[str, ReviewResult]) -> str:
    """One line of the main figures (for the training script's cross-validation)."""
    f = evaluate_engine("cv", issues, results, 0.0).figures
    return (
        f"ranking hit@1 {_f(f['ranking_hit@1'])} recall@3 {_f(f['ranking_recall@3'])} MRR {_f(f['ranking_mrr'])}; "
        f"proposals hit@1 {_f(f['hit@1'])} recall@3 {_f(f['recall@3'])} MRR {_f(f['mrr'])} false alarms"
        f" {_f(f['false_alarms'])} ({f['false_alarm_counts']}/{f['non_duplicates']}); category accuracy"
        f" {_f(f['category_accuracy'])} macro-F1 {_f(f['category_macro_f1'])}; confidence >= 0.8: accuracy"
        f" {_f(f['category_sure_accuracy'])} (n={f['category_sure_n']})"
    )


def baselines(issues: list[Issue], dev: list[Issue] | None) -> dict[str, dict[str, float | None]]:
    """TF-IDF and BM25 rankings (eval/real/baselines.py) and the majority class, on the same issues."""
    import baselines as lexical  # eval/real/baselines.py

    rows = [{"id": i.id, "project": i.org, "title": i.title, "body": i.body} for i in issues]
    out: dict[str, dict[str, float | None]] = {}
    groups = harness.duplicate_groups(issues)
    for name, rankings in (("TF-IDF", lexical.tfidf_rankings(rows)), ("BM25", lexical.bm25_rankings(rows))):
        out[name] = {
            **rank_metrics(rankings, issues),
            **{f"group_{k}": v for k, v in group_metrics(rankings, groups).items()},
        }
    train = dev if dev is not None else issues
    for field_name in ("category", "severity"):
        counts = Counter(getattr(i, field_name) for i in train if getattr(i, field_name))
        gold = [getattr(i, field_name) for i in issues if getattr(i, field_name)]
        if counts and gold:
            majority = counts.most_common(1)[0][0]
            out[f"majority_{field_name}"] = {
                "label": majority,
                "accuracy": sum(g == majority for g in gold) / len(gold),
                "macro_f1": macro_f1([(g, majority) for g in gold]),
            }
    return out


# ------------------------------------------------------------------------------------- engines


def builtin_engine() -> harness.Review:
    from helpdesk.review import engine

    return engine.review


def category_unsettled(issues: list[Issue]) -> dict[str, float | None]:
    """The built-in category in a queue where nothing is settled yet (no category mix, no settled
    neighbours), as a new org, or a check that files reports and resolves none, sees it: each org's
    reports reviewed in order, the classifier's predictions for its earlier ones summed as its index
    sums them."""
    from helpdesk.review.engine import classify, predicted_categories
    from helpdesk.review.redact import redact_report

    labelled = []
    for items in harness.by_org(issues).values():
        sums: dict[str, float] = {}
        for reports, issue in enumerate(items):
            if issue.category:
                subject = redact_report(issue.draft.subject)[0] if issue.draft.subject else None
                body = redact_report(issue.draft.body)[0]
                labelled.append((issue.category, classify(subject, body, {}, (), sums, reports)[0].value))
            for name, chance in predicted_categories(issue.draft.subject, issue.draft.body).items():
                sums[name] = sums.get(name, 0.0) + chance
    return {
        "unsettled_category_accuracy": _ratio(sum(g == p for g, p in labelled), len(labelled)),
        "unsettled_category_macro_f1": macro_f1(labelled),
    }


class BedrockUnderEval:
    """The Bedrock engine as the evaluation drives it. The evaluation calls far faster than tickets
    arrive, so a throttled or timed-out call is tried again after a pause (up to RETRIES times) rather
    than measured as a fallback; a call the account or model refuses stops the run (its figures would be
    the built-in engine's); any other fallback (an answer that does not validate, no tool call) is the
    product's answer, kept and counted in `fallbacks`."""

    RETRIES = 6
    TRANSIENT = frozenset({
        "ThrottlingException", "ServiceUnavailableException", "InternalServerException", "ModelNotReadyException",
        "ModelTimeoutException", "ReadTimeoutError", "ConnectTimeoutError", "EndpointConnectionError",
    })  # fmt: skip
    REFUSED = frozenset({
        "AccessDeniedException", "UnrecognizedClientException", "ResourceNotFoundException", "ExpiredTokenException",
        "no_model_id",
    })  # fmt: skip
    # A request the model refuses (no tool use, say) stops the run when no call has been answered yet; after
    # one has, it is that ticket's (too long, filtered), counted like any other fallback.
    REFUSED_AT_FIRST = frozenset({"ValidationException"})

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        from helpdesk.review import bedrock

        self.review_with_bedrock = bedrock.review
        self.sleep = sleep
        self.fallbacks: Counter[str] = Counter()
        self.retries = 0
        self.answered = 0

    def __call__(self, draft: ReviewDraft, org: str, source: object, exclude: str | None) -> ReviewResult:
        attempt = 0
        while True:
            result = self.review_with_bedrock(draft, org, source, exclude)  # type: ignore[arg-type]
            reason: str | None = getattr(result, "fallback_reason", None)
            if reason is None:
                self.answered += 1
                return result
            if reason in self.REFUSED or (reason in self.REFUSED_AT_FIRST and not self.answered):
                raise RuntimeError(f"Bedrock refused the call ({reason}): no figure would be Bedrock's")
            if reason in self.TRANSIENT and attempt < self.RETRIES:
                self.retries += 1
                self.sleep(min(60.0, 2.0**attempt))
                attempt += 1
                continue
            self.fallbacks[reason] += 1
            return result

    def report(self) -> str:
        """What fell back in the split just measured (and clears the counts)."""
        counts = ", ".join(f"{reason} ×{n}" for reason, n in self.fallbacks.most_common()) or "none"
        line = (
            f"  reviews the built-in engine answered after Bedrock failed: {counts}; calls tried again: {self.retries}"
        )
        self.fallbacks.clear()
        self.retries = 0
        return line


def bedrock_engine() -> tuple[BedrockUnderEval | None, str]:
    """The Bedrock engine when credentials and a model id exist; otherwise None and why."""
    model = os.environ.get("BEDROCK_MODEL_ID", "")
    try:
        import boto3

        credentials = boto3.Session().get_credentials()
    except Exception as exc:  # no boto3 config at all
        return None, f"no AWS session ({type(exc).__name__})"
    if credentials is None:
        return None, "no AWS credentials"
    if not model:
        return None, "BEDROCK_MODEL_ID is not set"
    os.environ.setdefault("TABLE_NAME", "eval")
    os.environ["REVIEW_ENGINE"] = "bedrock"
    return BedrockUnderEval(), f"model {model}"


# ------------------------------------------------------------------------------------- report


def print_split(report: SplitReport, base: dict[str, dict[str, float | None]], engine_name: str) -> None:
    f = report.figures
    print(f"\n### {report.name}: {report.issues} issues, {f['queries']} duplicate queries, "
          f"{f['non_duplicates']} without one, {f['category_n']} category-labelled, {f['severity_n']} severity-labelled\n")  # fmt: skip
    print("| duplicates | hit@1 | recall@3 | MRR | false alarms |\n|---|---:|---:|---:|---:|")
    alarms = f"{_f(f['false_alarms'])} ({f['false_alarm_counts']}/{f['non_duplicates']})"
    print(f"| {engine_name}: proposals | {_f(f['hit@1'])} | {_f(f['recall@3'])} | {_f(f['mrr'])} | {alarms} |")
    print(f"| {engine_name}: ranking of every candidate | {_f(f['ranking_hit@1'])} | {_f(f['ranking_recall@3'])} | {_f(f['ranking_mrr'])} | (always ranks) |")  # fmt: skip
    for name in ("TF-IDF", "BM25"):
        b = base[name]
        print(f"| {name} (title + body) | {_f(b['hit@1'])} | {_f(b['recall@3'])} | {_f(b['mrr'])} | (always ranks) |")
    print("\n| labels | accuracy | macro-F1 | n | confidence ≥ 0.8: accuracy (n) |\n|---|---:|---:|---:|---:|")
    sure = f"{_f(f['category_sure_accuracy'])} ({f['category_sure_n']})"
    print(f"| category, {engine_name} | {_f(f['category_accuracy'])} | {_f(f['category_macro_f1'])} | {f['category_n']} | {sure} |")  # fmt: skip
    if "unsettled_category_accuracy" in f:
        print(f"| category, {engine_name}, nothing settled in the org | {_f(f['unsettled_category_accuracy'])} | {_f(f['unsettled_category_macro_f1'])} | {f['category_n']} | |")  # fmt: skip
    for field_name in ("category", "severity"):
        majority = base.get(f"majority_{field_name}")
        if majority:
            print(f"| {field_name}, majority class ({majority['label']}, from dev) | {_f(majority['accuracy'])} | {_f(majority['macro_f1'])} | | |")  # fmt: skip
    print(f"| severity, {engine_name} | {_f(f['severity_accuracy'])} (within one {_f(f['severity_within_one'])}) | | {f['severity_n']} | |")  # fmt: skip
    print()
    print(
        f"  by duplicate group (a report of the draft's group filed before it counts: its original, or another"
        f" report closed as a duplicate of it; {f['group_queries']} queries): proposals hit@1 {_f(f['group_hit@1'])}"
        f" recall@3 {_f(f['group_recall@3'])}, false alarms {_f(f['group_false_alarms'])}"
        f" ({f['group_alarm_counts']}/{f['group_loners']}); ranking {_f(f['group_ranking_hit@1'])} /"
        f" {_f(f['group_ranking_recall@3'])}; TF-IDF {_f(base['TF-IDF'].get('group_hit@1'))} /"
        f" {_f(base['TF-IDF'].get('group_recall@3'))}; BM25 {_f(base['BM25'].get('group_hit@1'))} /"
        f" {_f(base['BM25'].get('group_recall@3'))}"
    )
    for line in report.lines:
        print(line)
    print(f"  {f['ms_per_review']:.1f} ms per review (review + indexing); secrets in output: {f['leaks']}")


def check(report: SplitReport) -> list[str]:
    failures = []
    for key, bound in FLOORS[report.name].items():
        name = key.removesuffix("_max")
        value = report.figures[name] or 0.0
        if (value > bound) if key.endswith("_max") else (value < bound):
            failures.append(f"{report.name} {name} {_f(value)} {'>' if key.endswith('_max') else '<'} {bound}")
    if report.figures["leaks"]:
        failures.append(f"{report.name}: {report.figures['leaks']} outputs still held a secret")
    return failures


def quality_examples(review: harness.Review) -> list[str]:
    from helpdesk.review.similarity import InMemoryCandidateSource

    failures = []
    vague = review(VAGUE_EXAMPLE, "examples", InMemoryCandidateSource(), None).quality
    complete = review(COMPLETE_EXAMPLE, "examples", InMemoryCandidateSource(), None).quality
    print(f"\nQuality of the issue's examples: 'it doesnt work' {vague.score} (target < 40), "
          f"a complete report {complete.score} (target > 80; issues: {[i.code for i in complete.issues] or 'none'})")  # fmt: skip
    if vague.score >= 40:
        failures.append(f"'it doesnt work' scores {vague.score}")
    if complete.score <= 80:
        failures.append(f"the complete example scores {complete.score}")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", default="dev,test,synthetic")
    parser.add_argument("--engine", choices=("builtin", "bedrock", "both"), default="both")
    parser.add_argument("--check", action="store_true", help="exit 1 when a figure is below its floor")
    parser.add_argument("--no-baselines", action="store_true", help="skip TF-IDF / BM25 (faster)")
    args = parser.parse_args()
    splits = [name.strip() for name in args.splits.split(",") if name.strip()]
    data = harness.load({*splits, "dev"})
    engines: list[tuple[str, harness.Review]] = []
    if args.engine in ("builtin", "both"):
        engines.append(("built-in engine", builtin_engine()))
    skipped = None
    if args.engine in ("bedrock", "both"):
        found, why = bedrock_engine()
        if found is None:
            skipped = f"Bedrock engine: skipped ({why}); run with AWS credentials and BEDROCK_MODEL_ID to evaluate it."
        else:
            engines.append((f"Bedrock ({why})", found))
    print(f"# Review engine evaluation ({time.strftime('%Y-%m-%d %H:%M')})")
    failures: list[str] = []
    for engine_name, review in engines:
        print(f"\n## {engine_name}")
        for name in splits:
            issues = data[name]
            started = time.perf_counter()
            results = harness.simulate(issues, review)
            report = evaluate_engine(name, issues, results, time.perf_counter() - started)
            if engine_name == "built-in engine":
                report.figures.update(category_unsettled(issues))
            empty: dict[str, float | None] = {"hit@1": None, "recall@3": None, "mrr": None}
            base = (
                {"TF-IDF": empty, "BM25": empty}
                if args.no_baselines
                else baselines(issues, data["dev"] if name != "synthetic" else None)
            )
            print_split(report, base, engine_name.split(" (")[0])
            if isinstance(review, BedrockUnderEval):
                print(review.report())
            if args.check and engine_name == "built-in engine":
                failures += check(report)
        if engine_name == "built-in engine":
            failures += quality_examples(review)
    if skipped:
        print(f"\n{skipped}")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if (failures and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
