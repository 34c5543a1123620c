"""Text handling shared by the classifier and the duplicate index.

Concept terms fold paraphrases into one (`#oom` for "OOMKilled", "out of memory", "exit code 137"),
so two people describing the same problem in their own words share terms; `terms()` (lower case,
light stemming, stop words, ids and hashes out, concepts in) is what the summary's sentence scorer reads.
"""

import re
from collections.abc import Iterator
from functools import cache

# A URL, any scheme (a pattern: case-insensitive where it is used). A scheme is at most 32 characters,
# so a long run without `://` is not read again from each of its letters; a `?` ending the URL is
# the sentence's ("is it the same as https://…/issues/12?").
URL = r"[a-z][a-z0-9+.-]{0,31}://\S*[^\s?]"

# Concepts: one term for the many ways to say the same thing. Order matters where phrases overlap:
# a longer or more specific phrase comes before the shorter one it contains.
CONCEPTS: tuple[tuple[str, str], ...] = (
    ("hpa", r"\bhpa\b|horizontal\s*pod\s*auto-?scal\w*|keda\b"),
    (
        "crashloop",
        r"crash\s*-?\s*loop\w*|back-?off\s+restarting\w*"
        r"|restart\w*\s+(?:loop|over\s+and\s+over|again\s+and\s+again|constantly|repeatedly|continuously)"
        r"|keeps?\s+(?:on\s+)?(?:restarting|crashing)|(?:constantly|continuously|repeatedly)\s+(?:restarting|crashing)"
        r"|crash(?:es|ing)?\s+(?:over\s+and\s+over|again\s+and\s+again|repeatedly|on\s+start\w*)",
    ),
    (
        "oom",
        r"oom\s*-?\s*kill\w*|\boom\b|out[\s-]of[\s-]memory|exit\s+code:?\s*137|\b137\b"
        r"|killed\s+(?:for|because\s+of)\s+(?:using\s+)?(?:too\s+much|excessive)\s+memory"
        r"|memory\s+(?:limit\s+)?exceeded|exceed\w*\s+(?:its|the)\s+memory\s+limit",
    ),
    (
        "notready",
        r"not\s*-?\s*ready|notready|stopped\s+posting\s+(?:node\s+)?status|lost\s+contact"
        r"|kubelet\s+(?:is\s+)?not\s+(?:reporting|responding)",
    ),
    ("http502", r"\b502\b|bad\s+gateway"),
    ("http504", r"\b504\b|gateway\s+time-?\s?out"),
    ("http503", r"\b503\b|service\s+unavailable"),
    ("http500", r"\b500\b|internal\s+server\s+error"),
    ("http404", r"\b404\b"),
    ("denied", r"\b403\b|forbidden|access\s*denied|permission\s+denied|not\s+authori[sz]ed\s+to"),
    ("http401", r"\b401\b|unauthori[sz]ed|unauthenticated"),
    ("pvc", r"persistent\s*volume\s*claims?|volume\s+claims?|\bpvcs?\b"),
    ("pv", r"persistent\s*volumes?|\bpvs?\b|\bebs\b(?:\s+volumes?)?|\bvolumes?\b"),
    ("storageclass", r"storage\s*class\w*"),
    (
        "imagepull",
        r"imagepullbackoff|errimagepull|image\s*pull\w*|failed\s+to\s+pull"
        r"|pull(?:ing|ed)?\s+(?:the\s+|their\s+|its\s+|our\s+|private\s+)?(?:container\s+|docker\s+)?images?"
        r"|images?\s+(?:can't|cannot|can\s+not|could\s+not|couldn't)\s+be\s+pulled",
    ),
    ("registry", r"\becr\b|container\s+registr\w*|\bregistr(?:y|ies)\b|docker\s*hub|\bgcr\b|\bacr\b"),
    ("cert", r"x509|certificates?|\bcerts?\b|\btls\b|\bssl\b"),
    ("expired", r"expir\w*|not\s+(?:been\s+)?renewed|renew\w*"),
    (
        "dns",
        r"\bdns\b|coredns|kube-dns|name\s+resolution|resolv\w*|nxdomain|\blookups?\b"
        r"|host\s*names?\s+(?:cannot|can't|could\s+not)\s+be\s+resolved",
    ),
    ("timeout", r"time[sd]?\s*-?\s*outs?\b|timed\s*-?\s*out|timing\s+out|deadline\s+exceeded|context\s+deadline"),
    ("connrefused", r"connection\s+refused|econnrefused"),
    (
        "unschedulable",
        r"insufficient\s+(?:cpu|memory|resources|nvidia\S*)|\b\d+/\d+\s+nodes\s+are\s+available|failedscheduling"
        r"|can(?:'t|not|\s+not)\s+be\s+scheduled|unschedulable|stay\w*\s+pending|stuck\s+(?:in\s+)?pending",
    ),
    (
        "autoscaler",
        r"cluster[\s-]?auto-?scal\w*|auto-?scal\w*|karpenter|scal\w*\s+up\b|scale-up"
        r"|(?:launch|add|provision)\w*\s+(?:any\s+)?(?:new\s+|more\s+)?(?:nodes|machines|instances)",
    ),
    ("scaledown", r"scal\w*\s+(?:it\s+|them\s+)?down|scale-down|scal\w*\s+to\s+(?:0|zero)\b|drain\w*"),
    ("schedule", r"schedul(?:e|es|ed)\b(?!\s+on)|cron\w*|every\s+(?:evening|night|morning)|at\s+night|weekends?"),
    ("ingress", r"ingress(?:-nginx)?(?:\s+controller)?|nginx(?:\s+ingress)?\s+controller"),
    ("loadbalancer", r"load\s*-?balanc\w*|\b[enac]?lb\b|\belb\b|\bnlb\b|\balb\b"),
    ("controlplane", r"control\s*-?\s*plane|api\s*-?\s*server|kube-apiserver|master\s+nodes?"),
    ("evicted", r"evict\w*"),
    (
        "diskpressure",
        r"disk\s*-?\s*pressure|ephemeral[\s-]storage|low\s+on\s+(?:resource|disk)\w*|disk\s+(?:is\s+)?full"
        r"|no\s+space\s+left|root\s+volumes?",
    ),
    ("configmap", r"config\s*-?\s*maps?|createcontainerconfigerror"),
    ("probe", r"(?:readiness|liveness|startup)\s+probes?|health\s*-?\s*checks?|\bprobes?\b"),
    ("gpu", r"\bgpus?\b|nvidia\S*|\bcuda\b"),
    ("quota", r"quotas?|vcpulimitexceeded|limit\s+exceeded|service\s+limits?"),
    ("arm", r"\barm64\b|\barm\b|graviton\w*|aarch64"),
    ("darkmode", r"dark\s+(?:mode|theme)|night\s+mode"),
    ("terraform", r"terraform|\btf\b"),
    ("console", r"\bconsole\b|web\s+(?:ui|console|portal|interface)|\bui\b|\bbrowser\b"),
    ("cli", r"\bcli\b|command[\s-]line"),
    ("auditlog", r"audit\s*-?\s*logs?|audit\s+trail|audit\s+events?"),
    ("notify", r"slack|notification\w*|webhooks?|alert\s+emails?|ms\s+teams"),
    ("metrics", r"metrics?\b|graphs?\b|charts?\b|dashboards?\b"),
    ("latency", r"latenc\w*|\bslow\w*|\bp99\b|\bp95\b|round[\s-]trip"),
    ("backup", r"velero|backups?|snapshots?"),
    ("mount", r"\befs\b|\bnfs\d?\b|\bmount\w*"),
    ("portforward", r"port[\s-]?forward\w*"),
    ("netpol", r"network\s*-?\s*polic\w*"),
    ("mesh", r"istio\w*|linkerd|service\s+mesh|sidecars?|envoy"),
    (
        "internet",
        r"nat\s+gateway|internet|outbound\s+(?:traffic|connections?|calls?|requests?)|external\s+endpoints?|\begress\b",
    ),
    ("helm", r"\bhelm\b|helm\s+releases?|charts?\s+release"),
    ("upgrade", r"upgrad\w*|\bbump\w*\s+(?:to|the)\s+(?:version|v?\d)"),
    (
        "sso",
        r"\bsso\b|single\s+sign[\s-]?on|\bsaml\b|okta|azure\s+ad|entra(?:\s+id)?|\boidc\b|identity\s+provider|\bidp\b",
    ),
    (
        "mfa",
        r"\bmfa\b|\b2fa\b|two[\s-]factor|multi[\s-]factor|authenticator(?:\s+app)?|\btotp\b"
        r"|one[\s-]time\s+(?:code|password)|\d-digit\s+code",
    ),
    ("scim", r"\bscim\b|provision\w*\s+(?:of\s+)?(?:new\s+)?users?|user\s+provisioning"),
    ("pwreset", r"(?:password|pwd)\s+reset|reset\s+(?:my\s+|the\s+|your\s+)?password|forgot\w*\s+(?:my\s+)?password"),
    (
        "login",
        r"log\s*-?\s*(?:in|on)\b|logging\s+in|logged\s+(?:in|out)|logs?\s+(?:me|us)\s+out|sign(?:ing)?\s*-?\s*in\b|locked\s+out",
    ),
    ("invite", r"invit\w*"),
    ("owner", r"owner\w*"),
    ("apitoken", r"(?:api|access|personal|service)\s+tokens?|\bpat\b|\btokens?\b"),
    (
        "doublecharge",
        r"(?:charged|billed|debited|paid)\s+(?:us\s+)?(?:twice|two\s+times|double)|double[\s-](?:charg\w*|bill\w*|payments?)"
        r"|duplicate\s+(?:charges?|payments?)|second\s+payment",
    ),
    ("refund", r"refund\w*|credit\s+(?:back|note)|\brevers\w*|reimburs\w*|money\s+back|\bcredit\s+the\b"),
    ("invoice", r"invoic\w*|receipts?"),
    ("vat", r"\bvat\b|tax\s+ids?|\btax\w*|\bgst\b"),
    ("seat", r"\bseats?\b|licen[cs]es?"),
    ("plan", r"(?:team|business|enterprise|pro|starter|free)\s+plan|\bplans?\b|subscription\w*|\btier\b"),
    ("card", r"credit\s*cards?|\bcards?\b|payment\s+methods?"),
    ("datatransfer", r"data\s+transfer|inter-az|bandwidth"),
    (
        "duplicatemail",
        r"(?:sent|arriv\w*|receiv\w*|comes?)\s+twice|duplicate\s+(?:e-?mails?|notifications?)|two\s+copies",
    ),
)

# Function words and support chatter: they say nothing about the problem.
_STOPWORDS = """
a about above after again against all also am an and any are aren as at be because been before being below
between both but by can cannot could couldn did didn do does doesn doing don down during each either else
even ever every few for from further get gets getting got had hadn has hasn have haven having he her here hers
herself him himself his how however i if in into is isn it its itself just let lets like ll me might mine more
most much must my myself no nor not now of off on once one only or other ought our ours ourselves out over own
per please quite rather re really same she should shouldn since so some such than that the their theirs them
themselves then there these they this those through thus to too under until up upon us use used using ve very
via was wasn we were weren what when where whether which while who whom why will with within without won would
wouldn yet you your yours yourself yourselves s t d m y
hi hello hey dear team thanks thank thx cheers regards best kind greetings folks guys support hope
anyone someone something anything everything nothing way thing things bit lot lots kindly appreciate appreciated
know think seem seems seemed look looks looked see saw sure able unable want wanted wanting wants try tried trying
tell told say said make makes made still already yesterday today tomorrow morning afternoon evening night
week weeks day days hour hours minute minutes ago last next time times currently right now recently
"""
STOPWORDS = frozenset(_STOPWORDS.split())

# Words every ticket here uses: kept, but they weigh little.
_GENERIC = """
cluster clust pod pods node nodes issue issu problem problems error errors fail fails failed failing work works
working worked help need needs needed question questions run runs running new old case happen happens happened
start started starting show shows showing find found set setup also again first second still stuck get
kubernetes k8s kubectl prod production stag staging dev environment service servic services app application
account org organisation organization user users customer customers team platform check checked some
"""
GENERIC = frozenset(_GENERIC.split())

_TOKEN = re.compile(r"#[a-z0-9]+|[a-z][a-z0-9]*|[0-9]+[a-z0-9]*")
_HASHLIKE = re.compile(r"(?=[a-z]*[0-9])(?=[0-9]*[a-z])[a-z0-9]{5,}")


@cache
def _concept_pattern(flags: int = 0) -> re.Pattern[str]:
    """One alternation over every concept (lower case); compiled on first use, not at import."""
    return re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in CONCEPTS), flags)


def concept_spans(text: str) -> Iterator[tuple[str, int, int]]:
    """(concept, start, end) for every concept phrase in the text, left to right, not overlapping."""
    lowered = text.lower()
    if len(lowered) == len(text):  # matching lower-case text is faster than ignoring case
        matches = _concept_pattern().finditer(lowered)
    else:
        matches = _concept_pattern(re.IGNORECASE).finditer(text)
    for match in matches:
        if match.lastgroup is not None:
            yield match.lastgroup, match.start(), match.end()


def stem(word: str) -> str:
    """A deliberately light stemmer: plural, -ing, -ed, -ly and a final -e, so variants meet."""
    if len(word) <= 4 or not word.isalpha():
        return word
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("ly", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            word = word[: len(word) - len(suffix)] + keep
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def keep_token(token: str) -> bool:
    """Drop stop words, one-letter tokens, ids and hashes, and numbers other than short codes."""
    if token.startswith("#"):
        return True
    if len(token) < 2 or token in STOPWORDS:
        return False
    if token.isdigit():
        return len(token) == 3
    return not _HASHLIKE.fullmatch(token)


def terms(text: str) -> list[str]:
    """The ticket's normalised terms, in order, with concept phrases folded into `#concept`."""
    lowered = text.lower()
    pieces: list[str] = []
    cursor = 0
    for concept, start, end in concept_spans(lowered):
        pieces.append(lowered[cursor:start])
        pieces.append(f" #{concept} ")
        cursor = end
    pieces.append(lowered[cursor:])
    out: list[str] = []
    for token in _TOKEN.findall("".join(pieces)):
        if keep_token(token):
            out.append(token if token.startswith("#") else stem(token))
    return [term for term in out if term not in STOPWORDS]


def term_weight(term: str) -> float:
    """A static rarity prior (no corpus statistics needed): concepts and codes weigh most."""
    if term.startswith("#"):
        return 2.0
    if term in GENERIC:
        return 0.35
    if any(c.isdigit() for c in term):
        return 1.5
    return 0.8 + 0.04 * min(len(term), 12)  # longer words are rarer
