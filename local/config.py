"""What the local stack stands in for: the account, region, identity provider and demo tenants.

Kept free of heavy imports: every `python -m local.*` command and every function worker reads it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.template import ROOT

REGION = "eu-west-1"
ACCOUNT_ID = "123456789012"  # moto's default account
PREFIX = "helpdesk"  # physical names: helpdesk-<logical id> (local.template)
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


def aws_environment(endpoint_url: str) -> dict[str, str]:
    """What points boto3 (in the stack and in every function) at the local AWS, and only there:
    fake credentials, the region, the endpoint, and none of the host's ~/.aws files or metadata."""
    return {
        **FAKE_CREDENTIALS,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


# The identity provider the local JWT authorizer trusts (template parameters JwtIssuer / JwtAudience).
ISSUER = "https://auth.helpdesk.localhost"
AUDIENCE = "helpdesk-local"

# Template parameters of the local stack (template defaults fill in the rest; --parameter-overrides wins).
PARAMETERS = {
    "JwtIssuer": ISSUER,
    "JwtAudience": AUDIENCE,
    "SenderEmail": "noreply@helpdesk.test",
    "SupportEmail": "support@helpdesk.test",
    # the demo cluster-context provider (DescribeClusterFunction) runs, and the reviewer asks it
    "DemoClusterContext": "true",
}


@dataclass(frozen=True)
class DemoUser:
    key: str  # its name in .local/tokens.json
    sub: str
    email: str
    org: str
    roles: tuple[str, ...]


DEMO_USERS = (
    DemoUser("acme_admin", "u-acme-admin", "admin@acme.test", "acme", ("admin",)),
    DemoUser("acme_user", "u-acme-user", "user@acme.test", "acme", ("member",)),
    DemoUser("globex_user", "u-globex-user", "user@globex.test", "globex", ("member",)),
    DemoUser("support", "u-support", "agent@helpdesk.test", "helpdesk", ("support",)),
)


def state_dir() -> Path:
    """Where the stacks of this checkout keep their key set and the demo tokens (HELPDESK_LOCAL_DIR
    overrides .local/). Each running stack describes itself in its own `<port>/stack.json` under it,
    so that stacks on two ports do not overwrite each other."""
    return Path(os.environ.get("HELPDESK_LOCAL_DIR") or ROOT / ".local").resolve()


def stack_dir(port: int) -> Path:
    """The state of the stack serving `port`: its stack.json (address, resources) and tokens.json."""
    return state_dir() / str(port)


def running_stacks() -> dict[int, dict[str, Any]]:
    """The stacks of this checkout that are running, by gateway port."""
    found: dict[int, dict[str, Any]] = {}
    for path in sorted(state_dir().glob("*/stack.json")):
        try:
            info: dict[str, Any] = json.loads(path.read_text())
            os.kill(int(info["pid"]), 0)
            found[int(path.parent.name)] = info
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


class StackChoice(Exception):
    """No running stack answers to the request, or several do."""


def running_stack(port: int | None = None) -> dict[str, Any] | None:
    """The running stack on `port` (else on $PORT, else the only one running), or None when none
    runs. StackChoice when the asked-for port has no stack, or when several run and none was named."""
    stacks = running_stacks()
    wanted = port if port is not None else int(os.environ["PORT"]) if os.environ.get("PORT", "").isdigit() else None
    if wanted is not None:
        if wanted in stacks:
            return stacks[wanted]
        if port is not None or stacks:
            raise StackChoice(f"no stack is running on port {wanted}{_listed(stacks)}")
        return None
    if len(stacks) > 1:
        raise StackChoice(f"several stacks are running{_listed(stacks)}: choose one with --port")
    return next(iter(stacks.values()), None)


def _listed(stacks: dict[int, Any]) -> str:
    return f" (running: port {', '.join(str(port) for port in stacks)})" if stacks else ""
