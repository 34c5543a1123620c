"""The built-in review engine: what a support engineer sees for a draft."""

import math
import re

import pytest

from helpdesk.domain.models import Category, Severity
from helpdesk.review import classify, matching, model
from helpdesk.review import engine as engine_module
from helpdesk.review.engine import (
    DUPLICATE_CANDIDATES,
    SUMMARY_CHARS,
    ReviewDraft,
    ReviewResult,
    error_output,
    review,
    score_candidates,
)
from helpdesk.review.matching import Query
from helpdesk.review.redact import redact
from helpdesk.review.similarity import MAX_KEYS, Candidate, InMemoryCandidateSource

OOM = """Since the deploy at 09:40 CET our `payments-api` pods in namespace prod keep restarting.

```
payments-api-7d9f8b6c5-x2k4l    0/1     CrashLoopBackOff   9 (2m ago)    31m
Last State: Terminated, Reason: OOMKilled, Exit Code: 137
```
Checkout is degraded for customers. Cluster: prod-eu-1."""

OOM_PARAPHRASE = """Our checkout service containers restart over and over since this morning's rollout. Describe pod says
they were killed for using too much memory: OOMKilled, exit code 137. Cluster prod-eu-1, customers notice slow checkouts."""

SSO = """Since 08:30 UTC nobody in our organisation can log in. After the Okta login we get
`SAML response invalid: signature validation failed`. We rotated the Okta signing certificate this morning."""


def run(
    body: str, subject: str | None = None, source: InMemoryCandidateSource | None = None, **fields: object
) -> ReviewResult:
    draft = ReviewDraft(subject=subject, body=body, **fields)  # type: ignore[arg-type]
    return review(draft, "acme", source or InMemoryCandidateSource())


def codes(result: ReviewResult) -> set[str]:
    return {issue.code for issue in result.quality.issues}


# ------------------------------------------------------------------------------------ category


@pytest.mark.parametrize(
    ("body", "category"),
    [
        (OOM, Category.TECHNICAL),
        (
            'Our PVC is stuck Pending on cluster stg-1: storageclass "gp3" not found. How do we create it?',
            Category.TECHNICAL,
        ),
        (
            "Since your console release the cluster page shows the wrong node count. Steps to reproduce: open "
            "Clusters → web-prod → Node pools. Expected 5, actual 0.",
            Category.BUG,
        ),
        ("It would be nice if the console had a dark mode. Is that on the roadmap?", Category.FEATURE_REQUEST),
        (SSO, Category.ACCOUNT),
        ("I lost my phone and need my MFA / two-factor authentication reset.", Category.ACCOUNT),
        ("We were charged twice for invoice INV-2024-0512, please refund the duplicate payment.", Category.BILLING),
        ("Please add 10 seats to our Team plan and send the invoice to finance.", Category.BILLING),
        ("Could you share your SOC 2 Type II report and your GDPR data processing agreement?", Category.GENERAL),
    ],
)
def test_clear_cases_get_their_category(body: str, category: Category) -> None:
    result = run(body)
    assert result.suggested_category is category
    # more than twice the chance of a guess among 7 categories (2/7): the wish that ends in a question ("Is that
    # on the roadmap?") is the least sure of these, 0.54 with pass 8's data and features (0.31 after pass 7)
    assert 2 / 7 < result.category_confidence <= 1


def test_template_headings_pasted_output_and_urls_are_not_the_reporters_questions() -> None:
    template = (
        "### What happened?\nkubelet exits with code 1 after the upgrade.\n"
        "### How can we reproduce it (as minimally and precisely as possible)?\nUpgrade a node to 1.31.\n"
        "**Anything else we need to know?**\nNo.\n"
        "```\nE1207 probe failed: is the socket there? how to recover: restart\n```\n"
        "Logs: https://gist.example.com/raw?file=kubelet.log\n"
    )
    bug = classify.features("kubelet crashes on start", template)
    assert "questions:0" in bug
    assert "cue:how_to" not in bug
    asked = classify.features("kubelet crashes on start", template + "How do I get the kubelet logs? Is there a flag?")
    assert "questions:2" in asked
    assert "cue:how_to" in asked


# ------------------------------------------------------------------------------------ severity


@pytest.mark.parametrize(
    ("body", "severity"),
    [
        (
            "Production is down: every request to our site returns 502 Bad Gateway, all customers are affected.",
            Severity.CRITICAL,
        ),
        (
            "We lost data: the PVC of our database came back empty after the node replacement, data loss in prod.",
            Severity.CRITICAL,
        ),
        ("Security breach: an admin kubeconfig leaked to a public repo, revoke it immediately.", Severity.CRITICAL),
        (OOM, Severity.HIGH),
        ("On our staging cluster stg-1 one pod fails with ImagePullBackOff since yesterday.", Severity.MEDIUM),
        ("Quick question: how do I configure an HPA on a custom metric? Nothing is broken.", Severity.LOW),
        ("It would be nice to have a dark theme in the console.", Severity.LOW),
    ],
)
def test_severity_follows_the_impact(body: str, severity: Severity) -> None:
    assert run(body).suggested_severity is severity


def test_the_same_problem_in_staging_is_less_severe_than_in_production() -> None:
    prod = run("The ingress returns 502 for the checkout service in production since 10:00 UTC.")
    staging = run("The ingress returns 502 for the checkout service in staging since 10:00 UTC.")
    order = list(Severity)
    assert order.index(staging.suggested_severity) < order.index(prod.suggested_severity)


def test_the_customers_choice_does_not_change_the_suggestion() -> None:
    # Given a feature request filed as critical / Then the review still says what it sees
    result = run("It would be nice if the console had a dark mode.", severity=Severity.CRITICAL)
    assert result.suggested_severity is Severity.LOW


def settled(*categories: tuple[str, int]) -> InMemoryCandidateSource:
    """An org (acme) whose settled tickets are `n` of each category."""
    source = InMemoryCandidateSource()
    for category, n in categories:
        for _ in range(n):
            source.settle("acme", category)
    return source


PENDING = ("Pods stuck in Pending after upgrade", "After upgrading to 1.29 our pods stay in Pending. Is this expected?")


def test_the_orgs_settled_tickets_move_a_report_that_reads_both_ways() -> None:
    # Given a report that could be a question or a bug
    subject, body = PENDING
    alone = classify.probabilities(subject, body)
    assert alone is not None
    # When an org that mostly settles bugs, and one that mostly settles questions, file it
    in_bugs = classify.probabilities(subject, body, {"bug": 40, "technical": 2})
    in_questions = classify.probabilities(subject, body, {"technical": 40, "bug": 2})
    assert in_bugs is not None and in_questions is not None
    # Then each leans to what its org's tickets are; the review reads the org's mix from its source
    assert in_bugs["bug"] > alone["bug"] and in_questions["technical"] > alone["technical"]
    got = run(body, subject, source=settled(("bug", 40), ("technical", 2)))
    best = max(in_bugs, key=lambda name: (in_bugs[name], name))
    assert (got.suggested_category.value, got.category_confidence) == (best, round(in_bugs[best], 2))


def predicted_org(category: str, reports: int = 20) -> InMemoryCandidateSource:
    """An org that has settled nothing, whose indexed reports the classifier read as `category`."""
    source = InMemoryCandidateSource()
    for n in range(reports):
        chances = dict.fromkeys(model.current().category.classes, 0.02)  # type: ignore[union-attr]
        chances[category] = 0.88
        source.add("acme", f"01P{n:023d}", f"Report {n}", "Unrelated words.", predicted=chances)
    return source


def test_before_an_org_settles_anything_what_its_reports_read_as_moves_a_report_that_reads_both_ways() -> None:
    # Given a report that could be a question or a bug
    subject, body = PENDING
    alone = classify.probabilities(subject, body)
    # When it is filed in an org whose 20 reports, none settled, read as bugs, and in one whose read as questions
    in_bugs = run(body, subject, source=predicted_org("bug"))
    in_questions = run(body, subject, source=predicted_org("technical"))
    # Then each leans to what its org's reports read as; a new org's is the classifier's alone
    assert in_bugs.suggested_category is Category.BUG and in_questions.suggested_category is Category.TECHNICAL
    assert max(alone.values()) < 0.8 < in_questions.category_confidence
    assert classify.probabilities(subject, body, {}, (), {}, 0) == alone


def test_the_predicted_shift_is_bounded_and_yields_to_the_settled_mix() -> None:
    learned = model.current().category
    assert learned is not None and len(learned.typical) == len(learned.classes)
    # An org whose 1,000 reports all read as `other`, the rarest class, moves it by at most PREDICTED_CAP
    shift = classify.predicted_shift({"other": 1000.0}, 1000, learned)
    assert max(shift) == pytest.approx(learned.temperature * classify.PREDICTED_CAP)
    assert min(shift) == pytest.approx(-learned.temperature * classify.PREDICTED_CAP)
    assert classify.predicted_shift({}, 0, learned) == [0.0] * len(learned.classes)
    # And once the org has settled a ticket, its mix decides, not what its reports read as
    subject, body = PENDING
    with_mix = classify.probabilities(subject, body, {"bug": 3})
    assert classify.probabilities(subject, body, {"bug": 3}, (), {"technical": 1000.0}, 1000) == with_mix


LIKE_PENDING = ("Pods stay Pending after the 1.29 upgrade", "Since our upgrade to 1.29 all new pods stay in Pending.")


def even_org_with(category: str | None) -> InMemoryCandidateSource:
    """An org with as many settled bugs as questions, and one ticket much like PENDING, settled under
    `category` (or not settled)."""
    source = settled(("bug", 20), ("technical", 20))
    source.add("acme", "01LIKE", *LIKE_PENDING)
    if category:
        source.settle("acme", category, "01LIKE")
    return source


def test_the_orgs_settled_ticket_most_like_a_report_says_what_it_is() -> None:
    # Given a report that could be a question or a bug, in an org that settles both alike
    subject, body = PENDING
    unsettled = run(body, subject, source=even_org_with(None))
    # When the org's ticket most like it was settled as a question, or as a bug
    as_question = run(body, subject, source=even_org_with("technical"))
    as_bug = run(body, subject, source=even_org_with("bug"))
    # Then the review leans to what that ticket was (the classifier reads it as a question, 0.77 alone):
    # surer of a question beside a settled question, less sure beside a settled bug
    assert {r.suggested_category for r in (unsettled, as_question, as_bug)} == {Category.TECHNICAL}
    assert as_question.category_confidence > unsettled.category_confidence + 0.05
    assert as_bug.category_confidence < unsettled.category_confidence - 0.1


def test_the_neighbours_weigh_by_how_alike_they_are_the_ten_most_alike_only() -> None:
    # Given an org of 30 settled bugs and 10 questions, and a draft's settled neighbours, most alike first
    classes = ("technical", "bug", "feature_request")
    mix = {"bug": 30, "technical": 10}
    shares = [(10 + 20 / 3) / 60, (30 + 20 / 3) / 60, (20 / 3) / 60]  # the mix smoothed by 20 towards even
    neighbours = [(0.9, "feature_request"), (0.5, "technical"), (0.3, "technical")] + [(0.1, "bug")] * 12
    # Then each category gets the cosines of its neighbours among the first ten (7 of the 12 bugs)
    votes = {"technical": 0.8, "bug": 0.7, "feature_request": 0.9}
    total = sum(votes.values())
    expected = [
        classify.ORG_PRIOR_WEIGHT * math.log(share)
        + classify.NEIGHBOUR_WEIGHT
        * math.log((votes[name] + classify.NEIGHBOUR_STRENGTH * share) / (total + classify.NEIGHBOUR_STRENGTH))
        for name, share in zip(classes, shares, strict=True)
    ]
    assert classify.org_prior(mix, classes, neighbours) == pytest.approx(expected)
    # And with none settled alike the mix counts twice; a category the model does not know adds nothing
    twice = [(classify.ORG_PRIOR_WEIGHT + classify.NEIGHBOUR_WEIGHT) * math.log(share) for share in shares]
    assert classify.org_prior(mix, classes) == pytest.approx(twice)
    assert classify.org_prior(mix, classes, [(0.9, "no-such-category")]) == pytest.approx(twice)
    # And a new org without neighbours gets the same for every class (the softmax is unchanged)
    assert len(set(classify.org_prior({}, classes))) == 1


def test_a_filed_tickets_review_does_not_read_its_own_settled_category() -> None:
    # Given a ticket settled as a question
    source = even_org_with("technical")
    subject, body = LIKE_PENDING
    # When it is reviewed again as a filed ticket (excluded from its own candidates)
    again = review(ReviewDraft(subject=subject, body=body), "acme", source, exclude_id="01LIKE")
    # Then its category is the classifier's given the org's mix alone: its own settling is not a neighbour
    expected = classify.probabilities(subject, body, {"bug": 20, "technical": 21})
    assert expected is not None
    best = max(expected, key=lambda name: (expected[name], name))
    assert (again.suggested_category.value, again.category_confidence) == (best, round(expected[best], 2))


def test_a_new_org_gets_the_classifier_alone_and_a_clear_report_keeps_its_category() -> None:
    # Given a wish the classifier is sure of
    subject = "Add an option to disable telemetry"
    wish = "It would be nice to have a flag to disable telemetry. Proposal: add a setting in the config file."
    alone = classify.probabilities(subject, wish)
    assert alone is not None and alone["feature_request"] > 0.9
    # Then a new org's review is the classifier's alone
    assert classify.probabilities(subject, wish, {}) == alone
    # And an org whose 200 settled tickets are all bugs still gets a wish
    assert run(wish, subject, source=settled(("bug", 200))).suggested_category is Category.FEATURE_REQUEST


# ------------------------------------------------------------------------------------- summary


def test_the_summary_is_the_sentence_stating_the_problem() -> None:
    body = (
        "Hi team,\n\nhope you are well. We run several services on your platform and are very happy overall.\n"
        "Since 14:00 UTC all pods in namespace batch stay Pending because the autoscaler does not add nodes.\n\n"
        "Thanks, Jo"
    )
    summary = run(body, subject="Question").summary
    assert summary.startswith("Since 14:00 UTC all pods in namespace batch stay Pending")


def test_the_summary_is_one_short_line_and_quotes_the_status_hidden_in_the_logs() -> None:
    result = run(OOM + "\n" + "More words to make this long. " * 30)
    assert "\n" not in result.summary
    assert len(result.summary) <= SUMMARY_CHARS
    assert "OOMKilled" in result.summary or "CrashLoopBackOff" in result.summary


def test_the_summary_never_quotes_a_secret() -> None:
    result = run("Our CI fails with 401 when it uses the key AKIAIOSFODNN7EXAMPLE against the registry.")
    assert "AKIAIOSFODNN7EXAMPLE" not in result.summary
    assert "[REDACTED:aws_access_key]" in result.summary


# ------------------------------------------------------------------------------------- quality


def test_a_vague_cluster_problem_gets_every_issue_and_question() -> None:
    # Given a report of a broken cluster without output, cluster, or time
    result = run("Our pods keep crashing and the service is broken, please help us fix it quickly.")
    # Then the review says what is missing and asks for it
    assert {"too_short", "no_error_output", "no_cluster", "no_timeframe"} <= codes(result)
    assert result.quality.score <= 40
    questions = " ".join(result.questions).lower()
    assert "cluster" in questions
    assert "when did this start" in questions
    assert "kubectl" in questions  # the output to paste, for a pod problem
    assert len(result.questions) <= 4


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (None, "help"),
        ("help", "it doesnt work"),
        (None, "pls fix asap!!!"),
        (None, "nothing works anymore, please help asap"),
        ("Urgent", "Something is wrong, can you check?"),
        (None, "our system is really slow"),
        (None, "Can someone call me back?"),
        ("Follow-up", "any news on this?"),
        (None, "The service has been acting weird since the last update"),
    ],
)
def test_a_one_line_report_that_names_nothing_is_vague(subject: str | None, body: str) -> None:
    # A report with no problem word gets no problem checks (error output, timeframe): it is vague all the same
    result = run(body, subject=subject)
    assert {"too_short", "vague"} <= codes(result)
    assert result.quality.score < 40


def test_a_short_report_that_names_what_it_is_about_is_not_vague() -> None:
    result = run("How do I add a node pool to cluster web-prod?")
    assert codes(result) == {"too_short"}
    assert result.quality.score >= 40


@pytest.mark.parametrize(
    "body",
    [
        "Invoice 20240042 is wrong",  # ids, codes and versions name what it is about
        "cluster c-8f3a2b1d down",
        "Upgrade to 1.30 failed",
        "Не могу войти в консоль после смены пароля",  # any script
    ],
)
def test_a_short_report_that_names_an_id_a_version_or_in_another_script_is_not_vague(body: str) -> None:
    assert "vague" not in codes(run(body))


# Chinese and Japanese put no spaces between words.
JAPANESE_REPORT = (
    "昨日の夜から本番クラスタのノードが三台とも起動しません。kubelet のログには証明書の期限切れのエラーが出ています。"
    "ノードを再起動しても同じで、今朝からお客様のサイトに接続できない状態が続いています。証明書の更新方法を教えてください。"
)


def test_a_report_in_chinese_or_japanese_is_measured_like_one_in_a_spaced_script() -> None:
    # A full report in Japanese is neither too short nor vague (before, as one "word", it was both)
    assert not {"too_short", "vague"} & codes(run(JAPANESE_REPORT))
    # A short specific one is short, not vague; a Chinese or Japanese cry for help is both
    assert codes(run("本番クラスタのノードが起動しません")) >= {"too_short"}
    assert "vague" not in codes(run("本番クラスタのノードが起動しません"))
    for vague in (
        "救命",
        "帮帮我",
        "助けて",
        "请帮帮我",
        "不能用了",
        "系统出问题了",
        "助けてください",
        "なにもうごかない",
    ):
        assert {"too_short", "vague"} <= codes(run(vague)), vague
    assert "vague" not in codes(run("证书过期了"))  # "the certificate expired"


def test_chinese_and_japanese_punctuation_is_no_word() -> None:
    assert engine_module._words("本番、ノード、起動。kubelet！") == ["kubelet", "本番", "ノー", "ド", "起動"]


def test_a_complete_report_has_no_issues() -> None:
    result = run(OOM, subject="payments-api OOMKilled")
    assert result.quality.issues == []
    assert result.quality.score == 100
    assert result.questions == []


IMAGE_PULL = """Since today 07:30 UTC every new pod on cluster prod-eu-1 fails with ImagePullBackOff. Pods already
running are fine.

```
Failed to pull image "registry.acme.io/shop/api": rpc error: code = Unknown desc = failed to authorize: 401 Unauthorized
```
We checked that the imagePullSecret `regcred` exists in the namespace and re-created it with a fresh token, and we can
pull the same image from a laptop. Nothing changed on our side since yesterday."""


@pytest.mark.parametrize("category", [None, Category.BUG])
def test_what_since_when_error_output_cluster_and_what_was_tried_make_a_complete_report(category) -> None:
    # The issue's complete report; neither steps to reproduce nor a version is part of it
    result = run(IMAGE_PULL, subject="Pods on prod-eu-1 cannot pull images since this morning", category=category)
    assert codes(result) <= {"no_steps", "no_version"}
    assert result.quality.score > 80


def test_a_cluster_named_in_the_properties_counts() -> None:
    body = "Pods on the cluster fail with `Error: ImagePullBackOff` since this morning, only in one namespace."
    assert "no_cluster" in codes(run(body))
    assert "no_cluster" not in codes(run(body, properties={"cluster_id": "c-8f2a91"}))


@pytest.mark.parametrize(("amount", "named"), [(".99 usd", True), ("1.99 usd", True), ("some usd", False)])
def test_an_amount_names_the_invoice(amount: str, named: bool) -> None:
    body = f"We were charged {amount} twice on the card, please refund the second payment as soon as you can."
    assert ("no_invoice_ref" in codes(run(body, category=Category.BILLING))) is not named


def test_a_bug_without_steps_asks_how_to_reproduce() -> None:
    body = "Since your release yesterday the console shows the wrong invoice total on the billing page, a bug."
    result = run(body, category=Category.BUG)
    assert "no_steps" in codes(result)
    assert any("steps to reproduce" in q for q in result.questions)


PASTED = {
    "kubectl describe": "Name:         web-7d9f8b6c5-x2k4l\nNamespace:    prod\nStatus:       Running\n",
    "its events' heading": "Events:\n  Type     Reason            Age   From               Message\n",
    "an event": "  Warning  FailedMount  2m (x5 over 10m)  kubelet  MountVolume.SetUp failed for volume data\n",
    "kubectl get": "NAME                  READY   STATUS             RESTARTS   AGE\nweb-7d9f8b6c5-x2k4l   0/1     CrashLoopBackOff   9   31m\n",
    "a Go panic": "panic: runtime error: invalid memory address or nil pointer dereference\n\ngoroutine 1 [running]:\n",
    "a Python traceback": "Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\nKeyError: 'x'\n",
    "a Java trace": 'Exception in thread "main" java.lang.NullPointerException\n\tat com.example.App.main(App.java:14)\n',
    "a Node.js trace": "TypeError: Cannot read properties of undefined\n    at render (/app/src/list.js:12:20)\n",
    "systemctl status": "● kubelet.service - kubelet: The Kubernetes Node Agent\n",
    "its state": "     Active: failed (Result: exit-code) since Tue 2024-05-14\n",
    "dmesg": "[12345.678901] eth0: link down\n",
    "the kernel's OOM killer": "Out of memory: Killed process 4321 (java)\n",
    "the AWS CLI": "An error occurred (AccessDenied) when calling the AssumeRole operation: not authorized\n",
    "docker": "Error response from daemon: pull access denied for foo/bar.\n",
    "a tool's error line": "kubectl: error: You must be logged in to the server\n",
    "a klog line": 'E0514 10:02:11.123456    1234 pod_workers.go:951] "Error syncing pod"\n',
    "npm": "npm ERR! code ERESOLVE\nnpm ERR! unable to resolve dependency tree\n",
    "a fenced block": "```\nsomething went sideways\n```\n",
    "a Rust backtrace": "stack backtrace:\n   0: rust_begin_unwind\n",
    "a crash": "Segmentation fault\n",
    "a core dump": "Aborted (core dumped)\n",
    "a shell": "bash: kubectl: command not found\n",
    "PowerShell": "The term 'kubectl' is not recognized as the name of a cmdlet, function, script file.\n",
}


@pytest.mark.parametrize("pasted", PASTED.values(), ids=PASTED.keys())
def test_pasted_command_output_and_stack_traces_are_error_output(pasted: str) -> None:
    body = f"Our deploys to prod-eu-1 fail since this morning. This is what we see:\n\n{pasted}\nWe restarted it once."
    assert error_output(body) is not None
    assert "no_error_output" not in codes(run(body))
    # as a browser on Windows sends it, and indented with no-break spaces (a paste from a chat or a wiki)
    assert error_output(body.replace("\n", "\r\n")) is not None
    assert error_output(re.sub("^ +", lambda spaces: "\u00a0" * len(spaces[0]), body, flags=re.M)) is not None


@pytest.mark.parametrize(
    "prose",
    [
        "The service has been slow since Monday and customers complain; we deploy with Argo CD.",
        "Normal operation resumed for a while, then the nodes went NotReady again this morning.",
        "Update: error on login since today for every user of the console.",
        "fyi: error when I save a ticket: nothing happens",
    ],
)
def test_prose_is_not_error_output(prose: str) -> None:
    assert error_output(prose) is None


def test_no_pattern_for_pasted_output_reads_a_line_start_across_blank_lines() -> None:
    # `^\s*` under re.MULTILINE tries every later line from every line start: a body of blank lines took seconds
    patterns = [pattern for _, pattern, _ in engine_module._PASTED] + [
        engine_module._ERROR_OUTPUT,
        engine_module._STEPS,
    ]
    for pattern in patterns:
        assert not re.search(r"\^\\s", pattern.pattern), pattern.pattern


def test_a_how_to_question_is_not_asked_for_error_output() -> None:
    result = run("How do I configure the cluster autoscaler to scale our node pool to zero at night on prod-eu-1?")
    assert not {"no_error_output", "no_timeframe", "no_cluster"} & codes(result)


def test_a_pasted_secret_is_flagged() -> None:
    result = run(
        "Deploys fail since 10:00 with `AccessDenied` on cluster c-8f2a91 using aws_secret_access_key = "
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    )
    assert "contains_secret" in codes(result)
    assert "wJalrXUtnFEMI" not in result.model_dump_json()


# ---------------------------------------------------------------------------------- duplicates


def org_with(*tickets: tuple[str, str, str]) -> InMemoryCandidateSource:
    source = InMemoryCandidateSource()
    for ticket_id, subject, body in tickets:
        source.add("acme", ticket_id, subject, body)
    return source


def test_a_paraphrase_is_found_as_a_duplicate_with_evidence() -> None:
    # Given the org's earlier ticket about an OOM crash loop, and unrelated ones
    source = org_with(
        ("01A", "payments-api pods in CrashLoopBackOff", OOM),
        ("01B", "SSO login fails", SSO),
        ("01C", "Dark mode", "It would be nice if the console had a dark mode."),
    )
    # When a colleague describes the same problem in other words
    result = run(OOM_PARAPHRASE, subject="checkout keeps restarting, exit code 137", source=source)
    # Then the earlier ticket is proposed first, with the phrases both share and how likely it is the same
    assert [d.ticket_id for d in result.duplicates][:1] == ["01A"]
    top = result.duplicates[0]
    assert model.current().duplicates.propose <= top.score <= 1
    assert top.subject == "payments-api pods in CrashLoopBackOff" and top.status == "open"
    assert any("137" in phrase or "oomkilled" in phrase.lower() for phrase in top.evidence)


def test_an_unrelated_ticket_is_not_a_duplicate() -> None:
    source = org_with(("01A", "payments-api pods in CrashLoopBackOff", OOM))
    result = run("We were charged twice for invoice INV-2024-0512, please refund one payment.", source=source)
    assert result.duplicates == []


def test_a_same_topic_different_problem_scores_lower_than_the_true_duplicate() -> None:
    near_miss = "Our notifications pods fail with CreateContainerConfigError: couldn't find key SMTP_HOST in ConfigMap."
    source = org_with(("01A", "payments-api OOMKilled", OOM), ("01B", "configmap key missing", near_miss))
    scored = {
        candidate.ticket_id: chance for chance, _, candidate in score_candidates(None, OOM_PARAPHRASE, "acme", source)
    }
    assert scored["01A"] > scored.get("01B", 0.0)


def test_identical_titles_are_proposed_whatever_the_bodies_say() -> None:
    source = org_with(("01A", "Traefik ignores the priority of a router", "We set priority 10 and 20; 20 is ignored."))
    result = run(
        "After the upgrade the order of our routes is random.",
        subject="Traefik ignores the priority of a router",
        source=source,
    )
    assert [d.ticket_id for d in result.duplicates] == ["01A"]
    assert result.duplicates[0].score >= 0.9


def crowded_org(services: int) -> InMemoryCandidateSource:
    """The draft's original among `services` copies of one OOM report for other services (a common symptom)."""
    names = ["orders-api", "search-api", "billing-api", "users-api", "carts-api", "media-api", "mail-api"] * 2
    copies = [(f"01{n:02d}", f"{name} pods in CrashLoopBackOff", OOM.replace("payments-api", name)) for n, name in
              enumerate(names[:services])]  # fmt: skip
    return org_with(("01A", "payments-api pods in CrashLoopBackOff", OOM), *copies)


def ranked_for_rivals(source: InMemoryCandidateSource) -> tuple[Query, list[tuple[dict[str, float], Candidate]]]:
    """The paraphrase's draft query and its candidates, best ranking score first (as the engine reads them)."""
    looked = engine_module.look_up(None, OOM_PARAPHRASE, "acme", source)
    scored = score_candidates(None, OOM_PARAPHRASE, "acme", source, looked=looked)
    ranked = sorted(((values, candidate) for _, values, candidate in scored), key=lambda item: -matching.score(item[0]))
    return engine_module.draft_query(None, OOM_PARAPHRASE, looked), ranked


def draft_rivals(source: InMemoryCandidateSource) -> int:
    query, ranked = ranked_for_rivals(source)
    return matching.rivals(query, ranked)


def test_a_report_among_many_alike_is_less_likely_the_original_than_one_that_stands_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the draft's best match alone in one org, and among three closer copies of it in another
    alone, crowded = crowded_org(0), crowded_org(3)
    # Then in the crowded org the best match has three rivals (it is more alike them than the draft)
    assert draft_rivals(alone) == 0 and draft_rivals(crowded) == 3
    # and they lower its probability of being the draft's original (beyond what its smaller margin does)
    assert model.current().duplicates.rivals < 0
    with_rivals = score_candidates(None, OOM_PARAPHRASE, "acme", crowded)[0][0]
    monkeypatch.setattr(engine_module, "rivals", lambda query, ranked: 0)
    assert with_rivals < score_candidates(None, OOM_PARAPHRASE, "acme", crowded)[0][0]


def test_rivals_read_a_bounded_number_of_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    query, ranked = ranked_for_rivals(crowded_org(12))
    compared = []
    real = matching.features
    monkeypatch.setattr(matching, "features", lambda q, c: compared.append(c) or real(q, c))
    assert matching.rivals(query, ranked) == matching.RIVALS_MAX
    assert compared == [candidate for _, candidate in ranked[1 : 1 + matching.RIVALS_READ]]


def test_a_filed_ticket_is_not_its_own_duplicate() -> None:
    source = org_with(("01A", "payments-api pods in CrashLoopBackOff", OOM))
    draft = ReviewDraft(subject="payments-api pods in CrashLoopBackOff", body=OOM)
    assert review(draft, "acme", source, exclude_id="01A").duplicates == []
    assert [d.ticket_id for d in review(draft, "acme", source).duplicates] == ["01A"]


def test_another_orgs_tickets_are_never_proposed() -> None:
    source = InMemoryCandidateSource()
    source.add("globex", "01G", "payments-api pods in CrashLoopBackOff", OOM)
    assert run(OOM_PARAPHRASE, source=source).duplicates == []


def test_evidence_never_quotes_a_secret() -> None:
    leaked = OOM + "\nOur registry login is password=Sup3rS3cret and token ghp_16C7e42F292c6912E7710c838347Ae178B4a"
    source = org_with(("01A", "payments-api pods in CrashLoopBackOff", leaked))
    result = run(leaked, source=source)
    assert result.duplicates
    for phrase in result.duplicates[0].evidence:
        assert redact(phrase) == phrase
        assert "Sup3rS3cret" not in phrase


class CountingSource:
    """Records how the engine queries the index."""

    def __init__(self, inner: InMemoryCandidateSource) -> None:
        self.inner = inner
        self.calls: list[tuple[int, int]] = []

    def candidates(self, org_id: str, keys: list[str], limit: int) -> list[Candidate]:
        self.calls.append((len(keys), limit))
        return self.inner.candidates(org_id, keys, limit)


def test_the_review_reads_the_index_not_the_whole_org() -> None:
    # Given an org with many tickets
    inner = InMemoryCandidateSource()
    for n in range(400):
        inner.add(
            "acme", f"{n:05d}", f"ticket {n}", f"Pods of service svc{n} fail with error code E{n} on cluster c{n}."
        )
    source = CountingSource(inner)
    # When a draft is reviewed
    review(ReviewDraft(body=OOM), "acme", source)
    # Then one bounded look-up is made
    assert len(source.calls) == 1
    keys, limit = source.calls[0]
    assert keys <= MAX_KEYS and limit <= DUPLICATE_CANDIDATES + 1


# -------------------------------------------------------------------------------- determinism


def test_the_review_is_deterministic() -> None:
    source = org_with(("01A", "payments-api pods in CrashLoopBackOff", OOM), ("01B", "SSO", SSO))
    first = run(OOM_PARAPHRASE, source=source).model_dump()
    second = run(OOM_PARAPHRASE, source=source).model_dump()
    again = run(
        OOM_PARAPHRASE, source=org_with(("01A", "payments-api pods in CrashLoopBackOff", OOM), ("01B", "SSO", SSO))
    )
    assert first == second == again.model_dump()


def test_an_empty_body_still_gets_a_valid_review() -> None:
    result = run("   ")
    assert result.summary
    assert "too_short" in codes(result)
