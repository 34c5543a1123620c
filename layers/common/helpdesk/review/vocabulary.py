"""What the built-in engine knows: weighted cues for categories and for severity.

Patterns are regular-expression fragments matched on lower-cased text, compiled on first use. Where
phrases overlap, the longer (or negated) one comes first: one pass, the leftmost match wins.
"""

from helpdesk.domain.models import Category

T, B, F = Category.TECHNICAL, Category.BUG, Category.FEATURE_REQUEST
A, BI, G, OT = Category.ACCOUNT, Category.BILLING, Category.GENERAL, Category.OTHER

Weights = dict[Category, float]

# A starting point before any cue: most tickets are technical.
CATEGORY_PRIOR: Weights = {T: 0.8, B: 0.3, F: 0.2, A: 0.2, BI: 0.2, G: 0.4, OT: 0.1}

# Concept terms (see text.CONCEPTS) and what they say about the category.
CONCEPT_CATEGORY: dict[str, Weights] = {
    "crashloop": {T: 2.0},
    "oom": {T: 2.0},
    "notready": {T: 1.5},
    "http502": {T: 1.5},
    "http504": {T: 1.5},
    "http503": {T: 1.0},
    "http500": {B: 1.5, T: 0.3},
    "http404": {T: 0.5, B: 0.5},
    "denied": {T: 0.6, A: 0.4},
    "http401": {A: 1.0, T: 0.3},
    "pvc": {T: 2.0},
    "pv": {T: 1.0},
    "storageclass": {T: 2.0},
    "imagepull": {T: 2.0},
    "registry": {T: 1.0},
    "cert": {T: 1.2},
    "expired": {T: 0.3, A: 0.3},
    "dns": {T: 2.0},
    "timeout": {T: 1.0},
    "connrefused": {T: 1.5},
    "unschedulable": {T: 2.0},
    "autoscaler": {T: 1.0},
    "hpa": {T: 2.0},
    "scaledown": {T: 0.5},
    "schedule": {F: 0.5},
    "ingress": {T: 1.5},
    "loadbalancer": {T: 1.5},
    "controlplane": {T: 1.0},
    "evicted": {T: 2.0},
    "diskpressure": {T: 2.0},
    "configmap": {T: 2.0},
    "probe": {T: 2.0},
    "gpu": {T: 1.0},
    "quota": {T: 0.8},
    "netpol": {T: 2.0},
    "mesh": {T: 2.0},
    "internet": {T: 1.5},
    "helm": {T: 1.5},
    "mount": {T: 1.5},
    "portforward": {T: 2.0},
    "backup": {T: 1.0},
    "latency": {T: 1.0},
    "upgrade": {T: 0.5, BI: 0.2},
    "arm": {F: 1.0, T: 0.5},
    "darkmode": {F: 3.0},
    "terraform": {B: 0.7, F: 0.5, T: 0.3},
    "console": {B: 1.2},
    "cli": {B: 0.8, T: 0.3},
    "auditlog": {B: 0.4, F: 0.4},
    "notify": {F: 0.6, B: 0.4},
    "metrics": {B: 0.4, T: 0.3},
    "duplicatemail": {B: 2.5},
    "sso": {A: 2.5},
    "mfa": {A: 3.0},
    "scim": {A: 2.5},
    "pwreset": {A: 3.0},
    "login": {A: 1.5},
    "invite": {A: 2.0},
    "owner": {A: 1.5},
    "apitoken": {A: 1.2},
    "doublecharge": {BI: 3.0},
    "refund": {BI: 3.0},
    "invoice": {BI: 3.0},
    "vat": {BI: 2.5},
    "seat": {BI: 2.0, A: 0.3},
    "plan": {BI: 2.0},
    "card": {BI: 2.0},
    "datatransfer": {BI: 1.0, T: 0.3},
}

# Phrases, with what they say about the category.
CATEGORY_CUES: tuple[tuple[str, Weights], ...] = (
    # feature requests: a wish, not a fault
    (r"feature\s+(?:request|idea|suggestion)", {F: 4.0}),
    (
        r"(?:it|that|this)\s+would\s+be\s+(?:really\s+|very\s+|so\s+)?(?:nice|great|helpful|useful|awesome|perfect)",
        {F: 3.0},
    ),
    (r"would\s+be\s+(?:nice|great|helpful|useful)\s+(?:if|to)|nice\s+to\s+have", {F: 3.0}),
    (r"we(?:'d|\s+would)\s+(?:love|like)\s+to\s+be\s+able\s+to|would\s+love\s+to", {F: 3.0}),
    (r"(?:could|can|would)\s+you\s+(?:please\s+)?(?:add|support|build|provide|offer)|please\s+add", {F: 2.5}),
    (r"(?:is|are)\s+there\s+(?:any\s+)?plans?\s+(?:to|for)|on\s+(?:the|your)\s+roadmap|roadmap", {F: 2.5}),
    (r"\benhancement\b|\bwish\w*\b|\bability\s+to\b|\boption\s+to\b|allow\s+(?:us|users|me)\s+to", {F: 1.5}),
    (r"support\s+for\b|built[\s-]in\b|integration\b|let\s+us\s+(?:define|set|choose|configure)", {F: 1.0}),
    (r"would\s+(?:it\s+)?be\s+possible\s+to\s+(?:show|add|have|get|support|export|display|define|choose)", {F: 2.5}),
    (r"would\s+(?:it\s+)?be\s+possible\s+to|is\s+there\s+a\s+way\s+to", {F: 1.0, T: 0.8}),
    (r"too\s+(?:coarse|limited|basic)|(?:currently|right\s+now)\s+(?:we\s+)?(?:have\s+to|must)|by\s+hand\b", {F: 1.5}),
    # bugs: the product misbehaves
    (r"\bbugs?\b|\bbuggy\b|regression", {B: 3.0}),
    (r"steps\s+to\s+reproduce|to\s+reproduce|\brepro\b|steps:", {B: 2.5}),
    (r"\bexpected\b|\bactual(?:ly)?:|instead\s+of", {B: 1.5}),
    (r"used\s+to\s+work|worked\s+(?:fine\s+)?before|works?\s+with\s+(?:version\s+)?v?\d", {B: 2.0}),
    (
        r"(?:your|the\s+platform(?:'s)?|the\s+console(?:'s)?)\s+(?:latest\s+|last\s+|recent\s+)?"
        r"(?:release|update|rollout)|platform\s+update|console\s+update",
        {B: 2.5},
    ),
    (r"(?:console|\bui\b|dashboard|page|badge)\s+(?:shows?|says|displays?|is\s+flagged|flags)", {B: 2.0}),
    (r"\b(?:button|toast|dialog|spinner|spinning|badge|dropdown|tab)\b", {B: 1.5}),
    (r"reload\w*|refresh\w*\s+the\s+page|page\s+reload|after\s+a\s+refresh", {B: 1.5}),
    (r"\b(?:chrome|firefox|safari|edge|browser)\b", {B: 1.0}),
    (r"\bwrong\b|incorrect\w*|\bbroken\s+link|\btypo\b|doesn't\s+persist|not\s+saved|revert\w*", {B: 1.5}),
    (r"traceback|\b\w+error:\s|\bpanic:|stack\s*trace|\bcrash(?:es|ed)\b", {B: 1.2}),
    (r"terraform\s+(?:plan|apply|import)|\bprovider\b", {B: 1.0}),
    (r"\bapi\s+(?:returns|responds|answers)|\bendpoint\b", {B: 1.0}),
    (r"\bthe\s+docs?\b|documentation", {B: 0.6, G: 0.4}),
    # technical: how-to and problems with the customer's own workloads
    (r"how\s+(?:do|can|should|would)\s+(?:i|we)\b|how\s+to\b", {T: 2.0}),
    (r"what\s+is\s+the\s+(?:recommended|best|right|preferred)\s+way|\brecommend\w*", {T: 2.0}),
    (r"\bkubectl\b|\bnamespaces?\b|\bstatefulsets?\b|\bdeployments?\b|\bdaemonsets?\b|\bmanifests?\b", {T: 1.0}),
    (r"\bpods?\b|\bcontainers?\b|\bworkloads?\b|\byaml\b|\bkubelet\b|\bjobs?\b", {T: 0.8}),
    (r"\bnodes?\b|\bnode\s+pools?\b|\bcluster\b", {T: 0.4}),
    # account: who may get in
    (r"\brevok\w*|remove\s+(?:his|her|their|a\s+user'?s?|the\s+user'?s?)\s+access|offboard\w*", {A: 2.5}),
    (r"leave\s+(?:an?|the|our)\s+organi[sz]ation|\bmembers?\b|\broles?\b", {A: 1.0}),
    (r"(?:my|our|his|her)\s+(?:user|account|profile|login)\b|e-?mail\s+address|\bcredentials?\b", {A: 1.2}),
    (r"\baccess\b|\bpermissions?\b|\borgani[sz]ation\b", {A: 0.6}),
    (r"\bpassword\b", {A: 1.5}),
    # billing: money
    (r"\bbill(?:ed|ing)?\b|\bpayments?\b|\bpa(?:y|id|ying)\b|\bcharg\w*", {BI: 2.0}),
    (r"bank\s+transfer|purchase\s+order|\bpo\s+number|procurement|\bquote\b|prorat\w*|discount", {BI: 2.5}),
    (r"\bpric\w*|\bcosts?\b|\bfinance\b|accounts\s+payable|\bannual\w*|\bmonthly\b", {BI: 1.5}),
    (r"(?<![\d,.])\d[\d,.]*\s*(?:eur|usd|gbp|chf)\b|[€$£]\s*\d", {BI: 1.5}),
    (r"\bcancel\w*", {BI: 1.0}),
    # general: about the company and the service
    (r"support\s+hours|\bsla\b|response\s+times?|phone\s+line|emergenc\w*", {G: 2.5}),
    (r"soc\s*2|iso\s*27001|compliance|due\s+diligence|security\s+questionnaire|pen(?:etration)?\s*test", {G: 3.0}),
    (r"\bgdpr\b|\bdpa\b|data\s+processing\s+agreement|sub-?processors?|data\s+residency", {G: 3.0}),
    (r"status\s+page|maintenance\s+windows?", {G: 3.0}),
    (r"\bpartner\w*|\bresell\w*|\bonboarding\b|\btraining\b|\bwebinar\b|\bevaluat\w*", {G: 2.5}),
    # other: not a support request
    (
        r"thanks?\s+(?:you\s+)?(?:to|for)\s+\w+\s+(?:from|on|in)\s+your|great\s+support|just\s+wanted\s+to\s+say",
        {OT: 3.0},
    ),
    (r"postal\s+address|(?:company|our)(?:'s)?\s+(?:postal\s+)?address\s+in\s+your|\bunsubscribe\b", {OT: 2.5}),
    (r"\bjob\s+(?:application|opening)|\bhiring\b|\bcareers?\b|\bmeetup\b|\bconference\b|\bsponsor\w*", {OT: 2.5}),
)

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
