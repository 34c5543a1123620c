"""The API against its own OpenAPI document, by an outside tool: Schemathesis (pinned in
requirements-dev.txt) runs every check it has against the local stack, with a fixed seed and a
bounded number of examples. Zero failures.

Two passes, as two tenants:
- the contract: every check (schema conformance, status codes, content types, headers, positive and
  negative data, missing headers, undeclared methods, missing auth, use after free, created resources
  available) for one tenant's member;
- tenancy: the object-level authorisation check between two tenants (acme and globex as peers: an
  object one created must not be readable by the other), with every check that does not assume a
  single caller (`ensure_resource_availability` reads another tenant's 404 as a lost resource).

What the document cannot tell a generator (a key identifies one request, a cursor is the API's own,
how to make a PNG) is in tests/integration/contract/hooks.py, each written in the document itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.harness import ROOT, RunningStack

SEED = 20261206
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "10"))
TENANTS = {
    "acme": {"sub": "u-contract-acme", "email": "contract@acme.test", "org_id": "acme", "roles": ["member"]},
    "globex": {"sub": "u-contract-globex", "email": "contract@globex.test", "org_id": "globex", "roles": ["member"]},
}
# use_after_free: DELETE /v1/tickets/{id} is an alias of close (SPEC §4): a closed ticket is kept and
# still read (200), which that check takes for a deleted resource still served.
PASSES = {
    "contract": (
        ["--auth-wfc-user", "acme", "--checks", "all", "--exclude-checks", "object_level_authorization,use_after_free"],
        [],
    ),
    "tenancy": (
        ["--checks", "all", "--exclude-checks", "ensure_resource_availability,use_after_free"],
        ["acme", "globex"],
    ),
}


# A refusal the SPEC names is a refusal: too large (413, SPEC §4) and a refused file type (415).
# A valid request may still meet a state that refuses it: 412 is an If-Match naming an older
# version (the stateful phase replays ETags it saw earlier), 409 a closed ticket.
CHECKS = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "406", "413", "415", "422", "428"]

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "429"]
"""


def schemathesis(stack: RunningStack, tmp_path: Path, arguments: list[str], peers: list[str]) -> str:
    auth = {
        "auth": [
            {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {stack.mint(**claims)}"}]}
            for name, claims in TENANTS.items()
        ]
    }
    (tmp_path / "wfc.json").write_text(json.dumps(auth))
    config = f'[auth.wfc]\npath = "{tmp_path / "wfc.json"}"\n' + (f"peers = {json.dumps(peers)}\n" if peers else "")
    config += CHECKS
    (tmp_path / "schemathesis.toml").write_text(config)
    command = [
        sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file", str(tmp_path / "schemathesis.toml"),
        "run", str(ROOT / "openapi.json"), "--url", stack.url, *arguments,
        "--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES), "--workers", "2",
        "--generation-database", "none", "--request-timeout", "30",
    ]  # fmt: skip
    environment = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.integration.contract.hooks", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=600)
    report = result.stdout + result.stderr
    (tmp_path / "schemathesis.txt").write_text(report)
    assert result.returncode == 0, report[-25000:]
    return report


@pytest.mark.parametrize("name", PASSES)
def test_the_api_keeps_its_openapi_contract(stack: RunningStack, tmp_path: Path, name: str) -> None:
    arguments, peers = PASSES[name]
    report = schemathesis(stack, tmp_path, arguments, peers)
    assert "Test cases:" in report  # it ran (and exited 0: no failure, no error)
