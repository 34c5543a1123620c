"""Mint a token the local stack accepts: `.venv/bin/python -m local.token --org acme --sub u1 --email a@b.c --roles admin,support`.

Signed with the key every stack of the checkout uses (.local/jwt-signing-key.pem, made on first
use), for the running stack's issuer and audience (`--port` picks one when several run); the org
and roles go under the claim names of its OrgClaim / RolesClaim parameters (org_id and roles by
default). The token alone is printed, so that `TOKEN=$(.venv/bin/python -m local.token ...)` works."""

from __future__ import annotations

import argparse
import json
import sys

from local import config, keys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.token", description=__doc__.split("\n\n")[0])
    parser.add_argument("--org", required=True, help="the organisation (org claim)")
    parser.add_argument("--sub", required=True, help="the user id (sub claim)")
    parser.add_argument("--email", help="the email claim")
    parser.add_argument("--roles", default="", help="comma-separated roles, e.g. admin,support")
    parser.add_argument(
        "--ttl", type=int, default=24 * 3600, help="seconds until it expires (negative: already expired)"
    )
    parser.add_argument("--audience", help="aud claim (default: the stack's audience)")
    parser.add_argument("--issuer", help="iss claim (default: the stack's issuer)")
    parser.add_argument(
        "--claim", action="append", default=[], metavar="NAME=JSON", help="an extra claim, e.g. scope='\"read\"'"
    )
    parser.add_argument("--decode", action="store_true", help="print the claims as JSON on stderr too")
    parser.add_argument(
        "--port", type=int, help="the stack whose issuer and audience to use (default: $PORT, or the one running)"
    )
    args = parser.parse_args(argv)

    try:
        running = config.running_stack(args.port)
    except config.StackChoice as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    parameters = {**config.PARAMETERS, **(running or {}).get("parameters", {})}
    roles = [role.strip() for role in args.roles.split(",") if role.strip()]
    claims = keys.user_claims(
        args.sub,
        args.email,
        args.org,
        roles,
        org_claim=parameters.get("OrgClaim", "org_id"),
        roles_claim=parameters.get("RolesClaim", "roles"),
    )
    for item in args.claim:
        name, _, value = item.partition("=")
        try:
            claims[name] = json.loads(value)
        except ValueError:
            claims[name] = value
    token = keys.mint(
        claims,
        ttl=args.ttl,
        issuer=args.issuer or parameters["JwtIssuer"],
        audience=args.audience or parameters["JwtAudience"].split(",")[0].strip(),
    )
    if args.decode:
        import jwt

        print(json.dumps(jwt.decode(token, options={"verify_signature": False}), indent=2), file=sys.stderr)
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
