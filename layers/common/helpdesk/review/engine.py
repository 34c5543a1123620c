"""The built-in review engine: no network, deterministic, a few milliseconds per ticket.

`review(draft, org_id, source)` reads the draft, suggests a category (given the org's own category
mix and the categories of its settled tickets most like the draft) and a severity (with a
confidence), writes a one-line summary, checks the ticket's quality and asks for what is missing,
and finds likely duplicates among the org's tickets through the index in `similarity`: one read of
the source, and one scoring of its candidates, serve both. Everything it quotes is redacted first.
"""

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from helpdesk.domain.models import Category, Severity
from helpdesk.domain.reviews import (
    MAX_QUESTIONS,
    SUMMARY_CHARS,
    Duplicate,
    Quality,
    QualityIssue,
    ReviewDraft,
    ReviewResult,
)
from helpdesk.review import classify as classifier
from helpdesk.review import model
from helpdesk.review import vocabulary as vocab
from helpdesk.review.matching import Query, features, probabilities, rivals, score
from helpdesk.review.redact import redact_report
from helpdesk.review.similarity import (
    Analysis,
    Candidate,
    Candidates,
    CandidateSource,
    analyse,
    document,
    evidence,
    keys_of,
    title_of,
)
from helpdesk.review.text import STOPWORDS, URL, concept_spans, stem, terms

ENGINE = "builtin-2"
DUPLICATE_CANDIDATES = 40  # tickets fetched from the index and scored
MAX_DUPLICATES = 5
MIN_WORDS, MIN_CHARS = 20, 100  # below either, a description is too short to act on
MAX_TEXT = 8_000  # characters read for severity and quality (classify.MAX_TEXT for the category)


# ------------------------------------------------------------------------------------------- cues


@cache
def _severity_cues() -> re.Pattern[str]:
    """The severity cues as one alternation (named groups c0, c1, …), compiled on first use."""
    patterns = (pattern for pattern, *_ in vocab.SEVERITY_CUES)
    return re.compile("|".join(f"(?P<c{i}>{p})" for i, p in enumerate(patterns)), re.IGNORECASE)


_ADDRESS = re.compile(rf"(?<!\S)[^\s@]+@\S+\.\w+|{URL}", re.IGNORECASE)


def _cue_hits(text: str) -> Iterator[int]:
    """Indexes of the severity cues found, left to right (e-mail addresses and URLs are not read: `x@corp.dev`)."""
    for match in _severity_cues().finditer(_ADDRESS.sub(" ", text)):
        if match.lastgroup is not None:
            yield int(match.lastgroup[1:])


# --------------------------------------------------------------------------------------- category


def classify(
    subject: str | None,
    body: str,
    mix: Mapping[str, int] | None = None,
    neighbours: Sequence[tuple[float, str]] = (),
    predicted: Mapping[str, float] | None = None,
    reports: int = 0,
) -> tuple[Category, float]:
    """The most likely category and its probability (the shipped classifier's, given the org's category
    mix and the draft's settled neighbours when known, or else its reports' predicted categories)."""
    learned = classifier.probabilities(subject, body, mix, neighbours, predicted, reports)
    best = max(learned, key=lambda name: (learned[name], name))
    return Category(best), round(learned[best], 2)


# --------------------------------------------------------------------------------------- severity


def is_problem_report(text: str, category: Category) -> bool:
    """Something of the customer's is broken (not a how-to question, not a wish, not an invoice). A
    text classified as a wish counts when it states a failure and no wish ("it doesnt work")."""
    technical = category in (Category.TECHNICAL, Category.BUG) or (
        category is Category.FEATURE_REQUEST and not _WISH.search(text)
    )
    how_to = bool(_HOW_TO.search(text)) and len(_FAILURE.findall(text)) <= 1
    return technical and not how_to and bool(_FAILURE.search(text))


def severity_points(text: str, category: Category) -> tuple[float, bool]:
    """Impact points (the category's base, a broken thing, each impact cue once), and
    whether an outage-class cue was among them."""
    points = vocab.SEVERITY_BASE[category] + (vocab.SEVERITY_PROBLEM if is_problem_report(text, category) else 0.0)
    outage = False
    for cue in set(_cue_hits(text[:MAX_TEXT].lower())):
        _, value, critical = vocab.SEVERITY_CUES[cue]
        points += value
        outage = outage or critical
    return points, outage


def assess_severity(text: str, category: Category) -> tuple[Severity, float]:
    """Severity from impact signals, with a confidence that grows with the distance to the nearest boundary."""
    points, outage = severity_points(text, category)
    level = Severity.LOW
    for name, threshold in vocab.SEVERITY_THRESHOLDS:
        if points >= threshold and (name != Severity.CRITICAL or outage):
            level = Severity(name)
            break
    boundaries = [threshold for _, threshold in vocab.SEVERITY_THRESHOLDS]
    margin = min(abs(points - b) for b in boundaries)
    return level, round(0.5 + 0.45 * (1 - math.exp(-margin / 1.5)), 2)


# ---------------------------------------------------------------------------------------- summary

_LINK = re.compile(r"\[([^\[\]]*)\]\([^)\[\]]*\)")
_DECORATION = re.compile(r"^[\s>#*+\-]+|\*+|`+|(?<!\w)_+|_+(?!\w)")
_GREETING = re.compile(r"^(?:hi|hello|hey|dear\s+\w+|good\s+(?:morning|afternoon))\b[^.!?\n]{0,20}?[,!.]\s+", re.I)
_OUTPUT_LINE = ("$ ", "NAME ", "Warning ", "Error from", "Events:", "Status:", "Reason:", "Message:")
_ERROR_LINE = re.compile(r"error|fail|denied|refused|timeout|timed out|x509|exception|forbidden|invalid", re.I)
_ERROR_MESSAGE = re.compile(
    r"\b(?:error|fatal|panic|exception)\b\s*(?:from\s+server\s*(?:\(\w+\))?)?:|\bwarning\s", re.I
)
_NOT_QUOTED = ("$ ", "NAME ", "Status:", "Events:", "Reason:", "Type ")
_SENTENCE_END = re.compile(r"(?<![ .]e\.g\.)(?<![ .]i\.e\.)(?<=[.!?])\s+(?=[A-Z0-9`\"'(])")
_SALUTATION = re.compile(
    r"^(?:hi|hello|hey|dear|good\s+(?:morning|afternoon)|thanks?|thank\s+you|cheers|best|regards|kind\s+regards"
    r"|br|urgent)\b[\s\w,!.]{0,30}$",
    re.IGNORECASE,
)
_PROBLEM = re.compile(
    r"\b(?:fail\w*|errors?|cannot|can't|can\s+not|unable|not\s+(?:working|able|start\w*|reach\w*|load\w*|bound)"
    r"|broken|down|crash\w*|stuck|hang\w*|timed?\s*out|refus\w*|denied|missing|wrong|lost|charged|billed|twice"
    r"|never|no\s+longer|nobody|degraded|unexpected|spike|higher\s+than|would\s+(?:like|love)|would\s+be"
    r"|please\s+add|how\s+(?:do|can|to)|what\s+(?:is|are)|do\s+you|is\s+there)\b",
    re.IGNORECASE,
)
_WEAK_PROBLEM = re.compile(r"\b(?:keeps?|returns?|shows?|need|every|all\s+of|since|flagged|still)\b", re.IGNORECASE)
_DANGLING = re.compile(r"\b(?:with|says?|shows?|errors?|message|fails?|failed|returns?)\s*:?$", re.IGNORECASE)
_STATUS_TOKEN = re.compile(
    r"CrashLoopBackOff|OOMKilled|ImagePullBackOff|ErrImagePull|CreateContainerConfigError|NotReady|Evicted"
    r"|x509: [^:\n]{5,60}|\b50[234] [A-Z][a-z]+(?: [A-Z][a-z-]+)?|i/o timeout|connection refused"
)


def _telling_line(block: list[str]) -> str | None:
    """The line of a code block worth quoting: its first error line."""
    lines = [line.strip() for line in block[:12] if line.strip() and not line.lstrip().startswith(_NOT_QUOTED)]
    best = [line for line in lines if _ERROR_MESSAGE.search(line)] or [
        line for line in lines if _ERROR_LINE.search(line)
    ]
    return best[0] if best else None


def _paragraphs(body: str) -> Iterator[tuple[str, bool]]:
    """(text, is_code): prose paragraphs with wrapped lines joined, and one telling line per code block."""
    lines: list[str] = []
    block: list[str] | None = None
    for raw in [*_LINK.sub(r"\1", body).splitlines(), ""]:
        if raw.lstrip().startswith("```"):
            if block is None:
                block = []
            else:
                quoted = _telling_line(block)
                block = None
                if quoted:
                    yield quoted, True
            if lines:
                yield " ".join(lines), False
                lines = []
            continue
        if block is not None:
            block.append(raw)
            continue
        line = _DECORATION.sub("", raw).strip()
        starts_item = bool(re.match(r"\s*(?:[-*+]|\d+[.)])\s", raw))
        if not line or starts_item or line.startswith(_OUTPUT_LINE):
            if lines:
                yield " ".join(lines), False
            lines = [line] if starts_item and line else []
            continue
        lines.append(line)


def _sentences(body: str) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for paragraph, code in _paragraphs(body):
        if code:
            out.append((paragraph, True))
            continue
        for part in _SENTENCE_END.split(paragraph):
            part = _GREETING.sub("", part.strip())
            if part and not _SALUTATION.match(part):
                out.append((part, False))
    return out


SENTENCE_CHARS = 1_000  # a longer "sentence" (a paste without full stops) is no one-line summary, and not read


def _sentence_score(sentence: str, position: int) -> float:
    if len(sentence) > SENTENCE_CHARS:
        return -10.0
    words = len(sentence.split())
    score = 1.2 * min(3, len(_PROBLEM.findall(sentence))) + 0.4 * min(3, len(_WEAK_PROBLEM.findall(sentence)))
    score += 0.8 * min(3, sum(1 for _ in concept_spans(sentence))) + 1.5 / (1 + position)
    if sentence.endswith("?"):
        score += 0.5
    if len(terms(sentence)) < 3:
        score -= 1.5
    if words < 5:
        score -= 2.0
    elif words > 40:
        score -= 1.0
    return score


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:-") + "…"


def summarize(subject: str | None, body: str) -> str:
    """One line: the sentence that states the problem best, with the key status if it is only in the logs."""
    items = _sentences(body)
    prose = [(i, text) for i, (text, code) in enumerate(items) if not code]
    scored = sorted(((_sentence_score(text, n), -i) for n, (i, text) in enumerate(prose)), reverse=True)
    if scored and scored[0][0] >= 1.5:
        at = -scored[0][1]
        line = items[at][0]
        following = items[at + 1] if at + 1 < len(items) else None
        if following and (_DANGLING.search(line) or (line.endswith(":") and following[1])):
            line = f"{line.rstrip(':')}: {following[0]}"  # "fails with:" and the error on the next line
    else:
        line = subject or (prose[0][1] if prose else "")
    line = " ".join(line.split()).rstrip(":") or "Support request"
    status = _STATUS_TOKEN.search(body)
    if status and status.group(0).lower() not in line.lower() and len(line) + len(status.group(0)) + 3 <= SUMMARY_CHARS:
        line = f"{line.rstrip('.')} ({status.group(0)})"
    return shorten(redact_report(line)[0], SUMMARY_CHARS)


# ---------------------------------------------------------------------------------------- quality

_ERROR_OUTPUT = re.compile(
    r"```|^(?: {4}|\t)\S|`[^`\n]{12,}`|^[^\S\n]*(?:error|err|fatal|panic|warning|exception|caused\s+by)\b.{0,40}:"
    r"|\b\w*(?:Error|Exception)\b:|HTTP/\d|\b[1-5]\d\d\s+[A-Z][a-z]+|\"[^\"\n]{12,}\"|reason:\s*\w+|exit\s+code:?\s*\d+"
    # a tool's own error line: `docker: Error response from daemon`, the AWS CLI's, the kernel's OOM killer
    r"|^[^\S\n]*(?:docker|podman|kubectl|helm|git|npm|yarn|pip|terraform|tofu|aws|gcloud|az|ssh|curl|wget|make|go|cargo"
    r"|java|python3?|node|sudo|systemctl|journalctl|crictl|ctr|kubeadm|kubelet|eksctl|kind|minikube)(?:\.exe)?:"
    r" (?:[Ee]rror|ERROR|[Ff]atal|FATAL)\b|Error response from daemon|An error occurred \(\w+\) when calling"
    r"|Out of memory: Kill|Segmentation fault|core dumped|: command not found|is not recognized as the name of a cmdlet",
    re.MULTILINE,
)
# Pasted output that is not fenced: what a terminal, `kubectl`, `docker` or a runtime prints.
_PASTED: tuple[tuple[str, re.Pattern[str], int], ...] = (
    (
        "stack trace",
        re.compile(
            r"^panic:|^goroutine \d+ \[|Traceback \(most recent call last\)|^[^\S\n]*File \"[^\"]+\", line \d+"
            r"|^[^\S\n]+at [\w$.<>]+\([\w$.]*(?::\d+)?\)|Exception in thread|^[^\S\n]*Caused by:|\.(?:go|py|java|rs|js|ts|rb):\d+\b"
            r"|^[^\S\n]*stack backtrace:",  # Rust's
            re.MULTILINE,
        ),
        1,
    ),
    (
        "command",
        re.compile(r"^[^\S\n]*(?:\$|❯|>>>|PS [A-Z]:\\[^>]*>)\s+\w|^[\w.-]+@[\w.-]+:[^\n]{0,80}?[$#]\s+\w", re.M),
        1,
    ),
    (
        "command output",
        re.compile(
            r"^[^\S\n]*(?:Name|Namespace|Labels|Annotations|Status|Events|Conditions|Containers|Type|Reason|Message|State"
            r"|Last State|Exit Code|Ready|Restart Count|Node|IP|Image|Priority|Controlled By|Volumes):(?:\s|$)",
            re.MULTILINE,
        ),
        2,
    ),
    (
        "command output",  # `kubectl describe`'s events, `systemctl status`
        re.compile(
            r"^[^\S\n]*Type[^\S\n]{2,}Reason[^\S\n]{2,}Age[^\S\n]{2,}From[^\S\n]{2,}Message\b|^[^\S\n]*(?:Normal|Warning)[^\S\n]{2,}[A-Z][A-Za-z]+[^\S\n]{2,}\S"
            r"|^[^\S\n]*●[^\S\n]+[\w@.-]+\.service\b|^[^\S\n]*Active:[^\S\n]+(?:active|inactive|failed|activating|deactivating)\b",
            re.MULTILINE,
        ),
        1,
    ),
    (
        "table",
        re.compile(
            r"^[^\S\n]*[A-Z][A-Z0-9_()/.-]*(?: [A-Z][A-Z0-9_()/.-]*)?(?:[^\S\n]{2,}[A-Z][A-Z0-9_()/.-]*(?: [A-Z][A-Z0-9_()/.-]*)?){2,}[^\S\n]*$",
            re.M,
        ),
        1,
    ),
    (
        "log",
        re.compile(
            r"^[^\S\n]*\[?\d{4}[-/]\d\d[-/]\d\d[T ]\d\d:\d\d|\blevel=(?:error|warn\w*|fatal|info|debug)\b"
            r"|^[EWIF]\d{4} \d\d:\d\d|^[^\S\n]*\[?(?:ERROR|WARN|WARNING|FATAL|CRITICAL)\]?[\s:]"
            r"|^[^\S\n]*\[[^\S\n]*\d+\.\d{3,}\][^\S\n]|^[^\S\n]*npm ERR!",  # the kernel's ring buffer (dmesg), npm
            re.MULTILINE,
        ),
        1,
    ),
)


def error_output(body: str) -> str | None:
    """What kind of error output the text carries (a stack trace, a command and its output, a table, log
    lines, a quoted error), or None."""
    for kind, pattern, needed in _PASTED:
        if len(pattern.findall(body, 0, MAX_TEXT)) >= needed:
            return kind
    return "error message" if _ERROR_OUTPUT.search(body[:MAX_TEXT]) else None


_FAILURE = re.compile(
    r"\b(?:fail\w*|errors?|cannot|can't|can\s+not|couldn't|unable|not\s+(?:working|starting|reachable|ready|bound)"
    r"|broken|down|crash\w*|stuck|hangs?|timed?\s*-?\s*out|timeouts?|refused|denied|forbidden|evicted|pending"
    r"|restart\w*|unhealthy|degraded|lost|drops?|wrong|missing|empty|blank|never|no\s+longer|doesn'?t|does\s+not"
    r"|didn'?t|did\s+not|won'?t|isn'?t|aren'?t|cant|not\s+\w+ing|not\s+work\w*|without|[45]\d\d)\b",
    re.IGNORECASE,
)
_KUBERNETES = re.compile(
    r"\b(?:cluster|kubectl|pods?|nodes?|node\s+pools?|namespaces?|ingress|pvcs?|deployments?|statefulsets?|helm"
    r"|kubelet|control\s+plane|api\s+server|workloads?|containers?|services?\s+type|coredns)\b",
    re.IGNORECASE,
)
_CLUSTER_NAMED = re.compile(
    r"\bcluster(?:[\s_-]*(?:id|name))?\s*[:=]?\s*[`'\"*]*(?=[a-z0-9-]*[0-9-])[a-z0-9][a-z0-9-]{2,}"
    r"|(?<![a-z0-9-])[`'\"*]?[a-z0-9][a-z0-9]*-[a-z0-9-]+[`'\"*]?\s+cluster\b|\bc-[0-9a-f]{4,}\b|cluster\s+`[^`]+`"
    r"|\b(?:on|in|of|against|for|to)\s+[`'\"*]?(?=[a-z0-9-]*(?:prod|stg|stag|dev|qa|test|sandbox|\d))"
    r"[a-z][a-z0-9]*-[a-z0-9-]+",
    re.IGNORECASE,
)
_TIMEFRAME = re.compile(
    r"\b(?:since|ago|yesterday|today|tonight|overnight|last\s+(?:night|week|month|\w+day)|this\s+(?:morning|afternoon"
    r"|evening|week|month)|early\s+today|(?:mon|tues|wednes|thurs|fri|satur|sun)day|always|every\s+(?:run|time|night)"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|utc|cet|cest|[ecmp][sd]t|after\s+(?:the|our|we|i|upgrading"
    r"|deploying|moving|applying|enabling|adding|creating)|started\s+(?:after|when|on|at)|for\s+(?:the\s+last|over|about"
    r"|more\s+than)\s+\w+)\b|\b\d{1,2}:\d{2}\b|\b\d{1,2}\s*(?:am|pm)\b|\b\d{4}-\d{2}-\d{2}",
    re.IGNORECASE,
)
_STEPS = re.compile(
    r"\bsteps?\b|to\s+reproduce|\brepro|^[^\S\n]*\d+[.)]\s|→|->|\bclick\w*|\b(?:when|if|after)\s+(?:i|we)\s+"
    r"(?:click|open|run|go|select|change|try|call|create|delete|set|export|install|upgrade)|\brun(?:ning)?\s+`",
    re.IGNORECASE | re.MULTILINE,
)
_HOW_TO = re.compile(
    r"\bhow\s+(?:do|can|should|would)\s+(?:i|we)\b|\bhow\s+to\b|\bwhat\s+is\s+the\b|\bis\s+(?:it|there)\s+"
    r"|recommend|\bquestion\b|\bplanning\b|\bdo\s+you\s+(?:support|offer|have)\b",
    re.IGNORECASE,
)
_INVOICE_REF = re.compile(
    r"\binv[-\s]?\d|\binvoice\s+(?:number|no\.?|#)|(?<![\d,.])\.?\d[\d,.]*\s*(?:eur|usd|gbp|chf)\b|[€$£]\s*\d"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\b(?:this|last)\s+month",
    re.IGNORECASE,
)
_BILLING_MONEY = re.compile(r"\b(?:invoic\w*|charg\w*|refund\w*|billed|payment|bill)\b", re.IGNORECASE)

_VERSION = re.compile(
    r"\bv?\d+\.\d+(?:\.\d+)?\b|\bversions?\b|\b(?:ubuntu|debian|macos|os\s*x|windows|linux|centos|rhel|fedora"
    r"|alpine|eks|gke|aks|k3s|rke2?|openshift)\b",
    re.IGNORECASE,
)
_WISH = re.compile(
    r"\bfeature\b|\bwould\s+(?:be|love|like)\b|\bsupport\s+for\b|\badd\b|\ballow\w*\b|\bability\s+to\b"
    r"|\bproposal\b|\benhancement\b|\bwish\b|\bplease\s+(?:add|support|consider)\b|\boption\s+to\b",
    re.IGNORECASE,
)
_CLUSTER_PROPERTIES = ("cluster_id", "cluster_name", "cluster")
# Words that ask for help, say that something is wrong, or name the whole product, without saying what: a
# short report made of these and stop words alone ("help", "it doesnt work", "pls fix asap!!!", "our app is
# really slow, call me back") names nothing support could look at. A short report that names fewer than
# VAGUE_TERMS other words (any script; ids, codes and versions count) is vague: "How do I add a node pool?",
# "Invoice 20240042 is wrong" and "cluster c-8f3a2b1d down" are short, not vague.
_VAGUE_WORDS = """
help please pls plz fix fixed asap urgent urgently issue issues problem problems error errors broken broke wrong
work works working worked doesnt dont cant wont isnt didnt check look looking something anything thing things
stuff thanks thank hi hello hey support need needed still again anymore now today yesterday fail fails failed
failing happen happens happening weird strange bad down stopped stop everything nothing team guys someone
quickly soon possible immediately critical important sorry slow slowly really super very big fast call back
answer answers reply waiting wait assistance assist regarding mess acting complaining complain customers
customer news follow up followup question previous email read system systems platform service services app
application website site our my your we it
"""
_GENERIC_WORDS = frozenset(stem(word) for word in _VAGUE_WORDS.split())
VAGUE_TERMS = 2
_ANY_WORD = re.compile(r"\w+")
# Chinese and Japanese put no spaces between words: a run of their characters counts as a word every
# CJK_CHARS_PER_WORD characters, and each of them as two characters in a length, so that a report written in them
# is measured as long as the same report in a spaced script.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK_PUNCTUATION = re.compile(r"[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]")
CJK_CHARS_PER_WORD = 2
# A piece that says nothing of what a report is about: of hiragana (Japanese grammar) and these characters only
# (please, help, me, can't, use, system, problem, urgent, thanks, ...).
_HIRAGANA = re.compile(r"[\u3040-\u309f]+")
_GENERIC_CJK = frozenset(
    "请帮助我你您们的了是不能用系统问题出有没吗呢啊在这那个一下什么怎么急快谢救命好坏都很还就也要会可以马上尽紧麻烦求何"
)


def _words(text: str) -> list[str]:
    """A text's words: spaced scripts' by their spaces, Chinese and Japanese runs in pieces of CJK_CHARS_PER_WORD."""
    runs = _CJK.findall(text)
    if not runs:
        return text.split()
    pieces = [run[i : i + CJK_CHARS_PER_WORD] for run in runs for i in range(0, len(run), CJK_CHARS_PER_WORD)]
    return _CJK_PUNCTUATION.sub(" ", _CJK.sub(" ", text)).split() + pieces


def _telling_piece(word: str) -> bool:
    """Whether a word (or a Chinese or Japanese piece) can say what a report is about."""
    if len(word) < 2:
        return False
    if _CJK.fullmatch(word):
        return not all(char in _GENERIC_CJK or _HIRAGANA.fullmatch(char) for char in word)
    return word not in STOPWORDS and stem(word) not in _GENERIC_WORDS


def _length(text: str) -> int:
    """Characters, a Chinese or Japanese one counting as two."""
    return len(text) + sum(len(run) for run in _CJK.findall(text))


def _telling_words(text: str) -> set[str]:
    """The words of a text that say what it is about (any script, ids and numbers too)."""
    return {word for token in _words(text.lower()) for word in _ANY_WORD.findall(token) if _telling_piece(word)}


def _question_for_error_output(text: str) -> str:
    lowered = text.lower()
    if re.search(r"\bnodes?\b.*(?:not\s*ready|notready)|(?:not\s*ready|notready).*\bnodes?\b", lowered):
        hint = "`kubectl describe node <name>` and the node's recent events"
    elif "ingress" in lowered or re.search(r"\b50[234]\b", lowered):
        hint = "the failing request and response, and the ingress controller's log lines for it"
    elif re.search(r"\bpvc|volume\s+claim|storage\s*class", lowered):
        hint = "`kubectl describe pvc <name>` including its events"
    elif re.search(r"\bpods?\b|crash|oom|restart", lowered):
        hint = "`kubectl describe pod <name>` and `kubectl logs <name> --previous`"
    else:
        hint = "the command you ran and its full output"
    return f"Can you paste the exact error message or output ({hint})?"


SECRET_PENALTY = 10


def secret_warning(secrets: list[str]) -> str:
    """What a review says when the text held credentials (their kinds), which were redacted."""
    kinds = ", ".join(kind.replace("_", " ") for kind in secrets)
    return f"The text contains what looks like a credential ({kinds}); it was redacted. Rotate it."


def _checks(
    draft: ReviewDraft, text: str, category: Category, secrets: list[str]
) -> Iterator[tuple[str, str, int, str | None]]:
    """(code, message, penalty, question) for each problem found, most important first."""
    word_count = len(_words(text))
    text, body = text[:MAX_TEXT], draft.body[:MAX_TEXT]
    problem = is_problem_report(text, category)
    if secrets:
        yield "contains_secret", secret_warning(secrets), SECRET_PENALTY, None
    if word_count < MIN_WORDS or _length(body.strip()) < MIN_CHARS:
        yield (
            "too_short",
            "The description is very short.",
            35,
            "Could you describe the problem in more detail: what you did, what you expected, and what happened?",
        )
        if len(_telling_words(text)) < VAGUE_TERMS:
            yield ("vague", "The description does not say what is affected or what goes wrong.", 30, None)
    if problem and error_output(body) is None:
        yield ("no_error_output", "No error message, log or command output.", 20, _question_for_error_output(text))
    has_cluster = any(draft.properties.get(key, "").strip() for key in _CLUSTER_PROPERTIES)
    if problem and _KUBERNETES.search(text) and not has_cluster and not _CLUSTER_NAMED.search(text):
        yield (
            "no_cluster",
            "A cluster problem that does not say which cluster.",
            15,
            "Which cluster is affected? Please give its cluster ID or name (and region).",
        )
    if problem and not _TIMEFRAME.search(text):
        yield (
            "no_timeframe",
            "No timeframe: when it started, or whether it is still happening.",
            10,
            "When did this start (date, time and timezone), is it still happening, and did anything change just before?",
        )
    if problem and category is Category.BUG and not _VERSION.search(text):
        yield (
            "no_version",
            "No version: which release of the software (and of Kubernetes, the OS) this happens with.",
            5,
            "Which versions are involved (the component, Kubernetes or the OS, your tooling)?",
        )
    if category is Category.BUG and not _STEPS.search(body):
        yield (
            "no_steps",
            "A bug report without steps to reproduce.",
            10,
            "What are the exact steps to reproduce it, what did you expect, and what happened instead?",
        )
    if category is Category.BILLING and _BILLING_MONEY.search(text) and not _INVOICE_REF.search(text):
        yield (
            "no_invoice_ref",
            "No invoice number, billing period or amount.",
            10,
            "Which invoice is this about (invoice number or billing period), and what amount did you expect?",
        )


def assess_quality(draft: ReviewDraft, text: str, category: Category, secrets: list[str]) -> tuple[Quality, list[str]]:
    """A 0–100 score with its concrete issues, and the clarifying questions they call for."""
    issues: list[QualityIssue] = []
    questions: list[str] = []
    score = 100
    for code, message, penalty, question in _checks(draft, text, category, secrets):
        issues.append(QualityIssue(code=code, message=message))
        score -= penalty
        if question is not None and len(questions) < MAX_QUESTIONS:
            questions.append(question)
    return Quality(score=max(0, score), issues=issues), questions


# ------------------------------------------------------------------------------------- duplicates


@dataclass(frozen=True)
class Lookup:
    """A draft's analysis and what the org's index returned for it: the candidates and the org's
    statistics (one read of the source per review, shared by the category and the duplicates)."""

    analysis: Analysis
    keys: list[str]
    found: list[Candidate]

    @property
    def mix(self) -> dict[str, int]:
        """The org's settled tickets per category (empty when the source does not keep them)."""
        return getattr(self.found, "categories", {})

    @property
    def predicted(self) -> tuple[dict[str, float], int]:
        """The classifier's probabilities summed over the org's indexed reports, and how many they are
        (empty when the source does not keep them)."""
        return getattr(self.found, "predicted", {}), getattr(self.found, "predicted_reports", 0)


def predicted_categories(subject: str | None, body: str) -> dict[str, float]:
    """The classifier's probabilities for a ticket, read alone (no org), as its org's index sums them."""
    body = redact_report(body)[0]
    subject = redact_report(subject)[0] if subject else None
    return {name: round(chance, 4) for name, chance in classifier.probabilities(subject, body).items()}


def look_up(subject: str | None, body: str, org_id: str, source: CandidateSource, statistics: bool = True) -> Lookup:
    """Read the org's index for the draft. A draft without keys has no candidates: the source is read
    for the org's statistics only when they are wanted (the built-in review's category reads its mix)."""
    analysis = analyse(subject, body)
    keys = keys_of(analysis)
    found = source.candidates(org_id, keys, DUPLICATE_CANDIDATES + 1) if keys or statistics else Candidates()
    return Lookup(analysis, keys, found)


def draft_query(subject: str | None, body: str, looked: Lookup) -> Query:
    """The draft as duplicate matching reads it, with the org's statistics when the source has them."""
    found = looked.found
    counts: dict[str, int] | None = getattr(found, "counts", None)
    indexed = getattr(found, "indexed", 0)
    return Query(title_of(subject, body), looked.analysis, looked.keys, counts, indexed, document(subject, body))


def score_candidates(
    subject: str | None,
    body: str,
    org_id: str,
    source: CandidateSource,
    exclude_id: str | None = None,
    looked: Lookup | None = None,
) -> list[tuple[float, dict[str, float], Candidate]]:
    """The candidates the index returns for a draft (`looked` up already, or now), each with its match
    features and its learned probability of being a duplicate, most likely first (ties: the newest)."""
    looked = looked or look_up(subject, body, org_id, source, statistics=False)
    if not looked.keys:
        return []
    query = draft_query(subject, body, looked)
    kept = [(values, candidate) for candidate in looked.found if candidate.ticket_id != exclude_id
            for values in [features(query, candidate)] if values is not None]  # fmt: skip
    ranked = sorted(kept, key=lambda item: -score(item[0]))
    chances = probabilities([values for values, _ in kept], len(looked.analysis.title), rivals(query, ranked))
    scored = [(chance, values, candidate) for chance, (values, candidate) in zip(chances, kept, strict=True)]
    scored.sort(key=lambda item: (-item[0], _descending(item[2].ticket_id)))
    return scored[:DUPLICATE_CANDIDATES]


def _descending(ticket_id: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in ticket_id)


def settled_neighbours(scored: list[tuple[float, dict[str, float], Candidate]]) -> list[tuple[float, str]]:
    """The resolved or closed tickets among a draft's scored candidates: (how alike their words are, the
    category they are settled under), most alike first."""
    found = [(values["snippet_cos"], candidate.settled) for _, values, candidate in scored if candidate.settled]
    return sorted(found, key=lambda item: -item[0])


def proposals(
    subject: str | None, body: str, scored: list[tuple[float, dict[str, float], Candidate]]
) -> list[Duplicate]:
    """What is proposed of the scored candidates: nothing unless the best one's probability reaches the
    model's `propose` threshold; then every candidate from `also` on (at most MAX_DUPLICATES)."""
    learned = model.current().duplicates
    if not scored or scored[0][0] < learned.propose:
        return []
    return shown(subject, body, [(candidate, chance) for chance, _, candidate in scored if chance >= learned.also])


def shown(subject: str | None, body: str, proposed: list[tuple[Candidate, float]]) -> list[Duplicate]:
    """Proposed candidates (with their scores) as the review shows them: redacted subject, status and
    the phrases the draft shares with them (at most MAX_DUPLICATES)."""
    text = document(subject, body)
    return [
        Duplicate(
            ticket_id=candidate.ticket_id,
            subject=redact_report(candidate.subject)[0],
            status=candidate.status,
            score=round(chance, 2),
            evidence=evidence(text, candidate.text),
        )
        for candidate, chance in proposed[:MAX_DUPLICATES]
    ]


# ----------------------------------------------------------------------------------------- review


def review(
    draft: ReviewDraft,
    org_id: str,
    source: CandidateSource,
    exclude_id: str | None = None,
    looked: Lookup | None = None,
) -> ReviewResult:
    """Review a draft (or a filed ticket: pass its id as `exclude_id` so it is not its own duplicate;
    `looked`: the draft's index read, when the caller made it already)."""
    body, secrets = redact_report(draft.body)
    subject = redact_report(draft.subject)[0] if draft.subject else None
    text = document(subject, body)
    properties = " ".join(f"{key}: {value}" for key, value in sorted(draft.properties.items()))
    looked = looked or look_up(subject, body, org_id, source)
    scored = score_candidates(subject, body, org_id, source, exclude_id, looked)
    category, category_confidence = classify(subject, body, looked.mix, settled_neighbours(scored), *looked.predicted)
    severity, severity_confidence = assess_severity(f"{text}\n{properties}", category)
    reviewed = draft.model_copy(update={"body": body, "subject": subject})
    quality, questions = assess_quality(reviewed, text, draft.category or category, secrets)
    return ReviewResult(
        engine=ENGINE,
        summary=summarize(subject, body),
        suggested_category=category,
        category_confidence=category_confidence,
        suggested_severity=severity,
        severity_confidence=severity_confidence,
        quality=quality,
        questions=questions,
        duplicates=proposals(subject, body, scored),
    )
