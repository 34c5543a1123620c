"""Secret redaction: what the review stores or quotes never carries a credential.

Each rule replaces the secret (not its label) with `[REDACTED:<kind>]`, so a reader still sees
that, and where, a key was pasted. Rules run from the most specific to the most generic.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

PLACEHOLDER = "[REDACTED:{kind}]"


def _mark(kind: str) -> str:
    return PLACEHOLDER.format(kind=kind)


@dataclass(frozen=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    group: int = 0  # the group holding the secret (0: the whole match)
    accept: Callable[[str], bool] | None = None


def _mixed(value: str) -> bool:
    """A random-looking string: upper case, lower case and digits (a hex digest is not one)."""
    return any(c.isupper() for c in value) and any(c.islower() for c in value) and any(c.isdigit() for c in value)


def _not_placeholder(value: str) -> bool:
    return not value.startswith(("[REDACTED", '"[REDACTED', "'[REDACTED")) and value.strip("\"'") != ""


_KEY_VALUE_NAMES = (
    r"password|passwd|pwd|passphrase|secret|client[_-]?secret|secret[_-]?key|api[_-]?key|apikey|x-api-key"
    r"|access[_-]?token|auth[_-]?token|refresh[_-]?token|id[_-]?token|token|private[_-]?key|credentials?"
)

_RULES: tuple[_Rule, ...] = (
    _Rule(
        "private_key",
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|(?:\s*[A-Za-z0-9+/=]{16,})*)"
        ),
    ),
    _Rule(
        "kubeconfig",
        re.compile(
            r"(?<![A-Za-z0-9_-])(?:client-key-data|client-certificate-data|certificate-authority-data|id-token|refresh-token"
            r"|token)[ \t]*:[ \t]*[\"']?([A-Za-z0-9+/=._~-]{8,})"
        ),
        group=1,
    ),
    _Rule("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
    _Rule("bearer_token", re.compile(r"(?i)\b(?:bearer|basic)[ \t]+([A-Za-z0-9._~+/=-]{8,})"), group=1),
    _Rule("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{22,255})\b")),
    _Rule("gitlab_token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    _Rule("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    _Rule("stripe_key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b")),
    _Rule("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    _Rule("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b")),
    _Rule(
        "aws_secret_key",
        re.compile(
            r"(?i)(?:aws_?secret_?(?:access_?)?key|secret_?access_?key)[\"']?[ \t]*[:=][ \t]*[\"']?"
            r"([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
        ),
        group=1,
    ),
    _Rule(
        "url_password",
        re.compile(r"\b[a-z][a-z0-9+.-]{0,31}://[^\s:/@]+:([^\s@/]+)@", re.IGNORECASE),  # a scheme: ≤ 32 characters
        group=1,
        accept=_not_placeholder,
    ),
    _Rule(  # `password: …` (YAML, headers): the value runs to the end of the word
        "secret",
        re.compile(
            rf"(?i)(?<![A-Za-z0-9_-])[\"']?(?:{_KEY_VALUE_NAMES})[\"']?[ \t]*:[ \t]*"
            r"(\"[^\"\n]*\"|'[^'\n]*'|[^\s,;\"'}{)]+)"
        ),
        group=1,
        accept=_not_placeholder,
    ),
    _Rule(  # `password=…` (env, URL query): the value also stops at `&`
        "secret",
        re.compile(
            rf"(?i)(?<![A-Za-z0-9_-])[\"']?(?:{_KEY_VALUE_NAMES})[\"']?[ \t]*=[ \t]*"
            r"(\"[^\"\n]*\"|'[^'\n]*'|[^\s,;&\"'}{)]+)"
        ),
        group=1,
        accept=_not_placeholder,
    ),
    _Rule("aws_secret_key", re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"), accept=_mixed),
)


def _apply(rule: _Rule, text: str, found: set[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        secret = match.group(rule.group)
        if rule.accept is not None and not rule.accept(secret):
            return match.group(0)
        found.add(rule.kind)
        start, end = match.start(rule.group) - match.start(), match.end(rule.group) - match.start()
        whole = match.group(0)
        return whole[:start] + _mark(rule.kind) + whole[end:]

    return rule.pattern.sub(replace, text)


def redact_report(text: str) -> tuple[str, list[str]]:
    """The text with every secret replaced, and the kinds of secret that were found (sorted)."""
    found: set[str] = set()
    for rule in _RULES:
        text = _apply(rule, text, found)
    return text, sorted(found)


def redact(text: str) -> str:
    """The text with every secret we recognise replaced by `[REDACTED:<kind>]`."""
    return redact_report(text)[0]
