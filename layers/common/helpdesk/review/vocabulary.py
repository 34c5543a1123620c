"""What the built-in engine knows beside its learned model: weighted cues for severity.

Patterns are regular-expression fragments matched on lower-cased text, compiled on first use. Where
phrases overlap, the longer (or negated) one comes first: one pass, the leftmost match wins.
"""

from helpdesk.domain.models import Category

T, B, F = Category.TECHNICAL, Category.BUG, Category.FEATURE_REQUEST
A, BI, G, OT = Category.ACCOUNT, Category.BILLING, Category.GENERAL, Category.OTHER

Weights = dict[Category, float]

# Impact: points towards a higher (or lower) severity, and whether the cue is outage-class; each cue counted once (saying "production"
# three times does not make it more so). Negations come before what they negate.
SEVERITY_CUES: tuple[tuple[str, float, bool], ...] = (
    (r"no\s+(?:customer|user|production|prod)?\s*impact|not\s+urgent|no\s+rush|nothing\s+is\s+broken", -3.0, False),
    (r"low\s+priority|\bminor\b|cosmetic|not\s+a\s+big\s+deal|just\s+letting\s+you\s+know|annoying", -2.0, False),
    (r"no\s+data\s+loss|no\s+outage|(?:production|prod)\s+(?:is\s+)?(?:not\s+affected|unaffected|fine)", -2.0, False),
    (
        r"(?:still|keeps?|is)\s+serving|(?:existing|running|old)\s+(?:pods|replicas?|replicaset)\s+(?:keep|is|are|still)",
        -1.0,
        False,
    ),
    (r"applications?\s+keep\s+serving|workloads?\s+still\s+run", -1.0, False),
    (
        r"non-?prod\w*|\bstag(?:ing|e)\b|\bstg\b|\bdev\b|development|sandbox|\bqa\b|test\s+cluster|\btmp-|internal\s+tool",
        -1.5,
        False,
    ),
    (
        r"quick\s+question|just\s+(?:wondering|curious|planning)|\bplanning\b|\bevaluating\b|we\s+are\s+evaluating",
        -2.0,
        False,
    ),
    (r"how\s+(?:do|can|should)\s+(?:i|we)\b|what\s+is\s+the\s+(?:recommended|best)|is\s+there\s+a\s+way", -1.5, False),
    (
        r"(?:production|prod|site|website|service|platform|app|shop|storefront|checkout|everything)\s+(?:is\s+)?(?:completely\s+)?down",
        5.0,
        True,
    ),
    (r"(?:full|complete|total|major)\s+outage|\boutages?\b|down\s+for\s+(?:all|every)", 4.0, True),
    (
        r"\ball\s+(?:of\s+)?(?:our\s+)?(?:users|customers|services|hosts|routes|requests)|every\s+(?:customer|user|host|request)",
        2.5,
        True,
    ),
    (
        r"\bnobody\b|\bno\s+one\s+(?:can|is\s+able)|whole\s+(?:team|organi[sz]ation|company|cluster)|locked\s+out",
        2.5,
        True,
    ),
    (
        r"data\s+(?:loss|is\s+(?:gone|lost))|lost\s+(?:all\s+|the\s+|our\s+)?(?:\w+\s+){0,4}(?:data|logs|volumes?|records)",
        7.0,
        True,
    ),
    (
        r"security\s+(?:breach|incident)|\bbreach\w*|compromis\w*|\bleak\w*|exposed\s+(?:keys?|credentials|secrets?)",
        8.0,
        True,
    ),
    (r"security\s+(?:concern|issue|risk)|\bunauthori[sz]ed\s+access", 3.0, False),
    (r"\bsev\s*-?\s*1\b|\bp1\b|\burgent\b|\bescalat\w*", 2.0, False),
    (r"\basap\b|as\s+soon\s+as\s+possible|\bimmediately\b|right\s+now", 1.0, False),
    (r"completely\s+unreachable|unreachable|entire\s+(?:cluster|platform)", 2.0, True),
    (r"\bproduction\b|\bprod\b|\bin\s+prod|\bprod-|-prod\b", 1.5, False),
    (
        r"\bdegraded\b|customer[s\s-]+(?:facing|see|notice|are\s+affected|get|complain|report)|customers\s+notice",
        2.0,
        False,
    ),
    (r"\bcheckout\b|\bpayments?\s+(?:fail|are\s+failing)|failed\s+payments|revenue", 1.5, False),
    (
        r"\bblock(?:ed|ing|s)?\b|can(?:'t|not|\s+not)\s+(?:deploy|ship|release)|cannot\s+manage"
        r"|release\s+(?:is\s+)?blocked|deploy(?:ment)?s?\s+(?:is\s+|are\s+)?blocked",
        2.0,
        False,
    ),
    (r"\bincident\b|legally\s+required|card\s+limit|over\s+our\s+(?:card\s+)?limit", 1.5, False),
    (
        r"charged\s+(?:us\s+)?twice|double[\s-]charg\w*|duplicate\s+(?:charge|payment)|billed\s+(?:us\s+)?two\s+times",
        5.0,
        False,
    ),
    (r"\bsuspend\w*|payment\s+(?:has\s+)?failed|card\s+(?:was\s+)?declined", 3.0, False),
    (r"\brefund\w*|unexpected\s+(?:spike|charges?|increase)|(?<!\d)\d+x\s+higher|credit\s+the\s+charges", 1.5, False),
    (r"\brecommend\w*|best\s+practices?|\bdocs\b|documentation", -1.0, False),
    (r"\bdeadline\b|\btonight\b|\blate\b", 0.5, False),
    (
        r"intermittent\w*|sporadic\w*|occasional\w*|\bsome\s+(?:users|customers|requests)|(?<!\d)\d+\s*%\s+of",
        0.5,
        False,
    ),
)

# Where each category starts on the severity scale (points added before the cues), and what a
# problem report (something broken, not a question) adds.
SEVERITY_BASE: Weights = {T: 0.0, B: -0.5, F: -3.0, A: -1.0, BI: -2.0, G: -3.0, OT: -3.0}
SEVERITY_PROBLEM = 1.5

# Points → severity: at least this many points for each level (checked from the top). Critical also
# needs an outage-class cue (the third field above: an outage, data loss, a breach, everyone affected).
SEVERITY_THRESHOLDS = (("critical", 7.0), ("high", 3.0), ("medium", -1.0))
