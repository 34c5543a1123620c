"""Secret redaction: every class of credential a customer pastes into a ticket is replaced."""

import pytest

from helpdesk.review.redact import redact, redact_report

PRIVATE_KEY = """-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun
VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK
-----END RSA PRIVATE KEY-----"""

KUBECONFIG = """users:
- name: admin
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMvakNDQWVhZ0F3SUJBZ0lCQURBTkJna3Foa2lHOXcw
    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFcEFJQkFBS0NBUUVBeGZ6YnVwb2dHZmVhYkVlbHlt
    token: kfa8s9d7f6g5h4j3k2l1qwertyuiopasdfgh
"""


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        ("key id AKIAIOSFODNN7EXAMPLE in the logs", "AKIAIOSFODNN7EXAMPLE", "aws_access_key"),
        ("session ASIAY34FZKBOKMUTVV7A expired", "ASIAY34FZKBOKMUTVV7A", "aws_access_key"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_key",
        ),
        (
            '"SecretAccessKey": "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"',
            "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
            "aws_secret_key",
        ),
        ("Authorization: Bearer abcDEF123456ghiJKL789", "abcDEF123456ghiJKL789", "bearer_token"),
        (
            "id token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "eyJhbGciOiJSUzI1NiJ9",
            "jwt",
        ),
        ("db password=hunter2secret!", "hunter2secret!", "secret"),
        ("passwd: Tr0ub4dor&3", "Tr0ub4dor&3", "secret"),
        ("secret: 9f8e7d6c5b4a", "9f8e7d6c5b4a", "secret"),
        ('{"password": "correct horse battery"}', "correct horse battery", "secret"),
        ("curl 'https://api.example.com/v1?api_key=sk12345abcdef&x=1'", "sk12345abcdef", "secret"),
        ("export API-KEY=0123456789abcdef", "0123456789abcdef", "secret"),
        (
            "token ghp_16C7e42F292c6912E7710c838347Ae178B4a in CI",
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
            "github_token",
        ),
        (
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789",
            "github_pat_11ABCDEFG0123456789",
            "github_token",
        ),
        ("postgres://app:S3cr3tPassw0rd@db.internal:5432/app", "S3cr3tPassw0rd", "url_password"),
        ("slack xoxb-123456789012-abcdefghijkl", "xoxb-123456789012-abcdefghijkl", "slack_token"),
    ],
)
def test_each_class_of_secret_is_redacted(text: str, secret: str, kind: str) -> None:
    # Given a text holding a secret / When it is redacted
    redacted, kinds = redact_report(text)
    # Then the secret is gone, its kind is named in its place
    assert secret not in redacted
    assert f"[REDACTED:{kind}]" in redacted
    assert kind in kinds


def test_a_private_key_block_is_redacted_whole() -> None:
    redacted = redact(f"our deploy key:\n{PRIVATE_KEY}\nplease rotate")
    assert "MIIEowIBAAKCAQEA" not in redacted
    assert "VTLw7onLRnrq0" not in redacted
    assert "[REDACTED:private_key]" in redacted
    assert redacted.startswith("our deploy key:") and redacted.endswith("please rotate")


def test_a_truncated_private_key_is_redacted_too() -> None:
    truncated = "\n".join(PRIVATE_KEY.splitlines()[:3])  # pasted without its END line
    assert "MIIEowIBAAKCAQEA" not in redact(truncated)


def test_kubeconfig_credentials_are_redacted_and_the_structure_kept() -> None:
    redacted = redact(KUBECONFIG)
    for secret in ("LS0tLS1CRUdJTiBDRVJU", "LS0tLS1CRUdJTiBSU0Eg", "kfa8s9d7f6g5h4j3k2l1"):
        assert secret not in redacted
    assert "client-key-data: [REDACTED:kubeconfig]" in redacted
    assert "token: [REDACTED:kubeconfig]" in redacted
    assert "- name: admin" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "I requested a password reset three times",
        "the secretName: tls-cert volume mounts fine",
        "commit 3f786850e387550fdab836ed7e6dc881de23001b broke it",
        "node ip-10-0-12-44.eu-west-1b is NotReady; see https://status.example.com/incidents/42",
        "the token expired after 90 days",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_redaction_is_idempotent() -> None:
    once = redact(f"AKIAIOSFODNN7EXAMPLE password=x1y2z3 {KUBECONFIG}")
    assert redact(once) == once
