"""Upload the web support center after `sam deploy` (`make deploy` runs it; `make deploy-web` alone).

Reads the stack's outputs (ApiUrl, WebBucketName, WebDistributionId, WebOidc*), writes the app's
runtime configuration as `config.json` (so nothing environment-specific is baked into the bundle),
uploads `web/dist` to the private bucket (hashed assets cached for a year, the rest revalidated),
and invalidates what is not content-addressed on CloudFront. Stack name and region come from
samconfig.toml (`--config-env`, default `default`) unless given."""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "web" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def runtime_config(outputs: dict[str, str], parameters: dict[str, str]) -> dict[str, Any]:
    """config.json of the deployed app: the API and the OIDC client, from the stack."""
    return {
        "apiUrl": outputs["ApiUrl"].rstrip("/"),
        "auth": "oidc",
        "supportRole": parameters.get("SupportRoleName") or "support",
        "oidc": {
            "authority": outputs["WebOidcIssuer"],
            "clientId": outputs["WebOidcClientId"],
            "scope": outputs.get("WebOidcScope") or "openid email profile",
            "apiToken": outputs.get("WebApiToken") or "id_token",
        },
    }


def upload_plan(dist: Path) -> list[tuple[Path, str, str, str]]:
    """(file, key, content type, cache control) for every file of the build; index.html last, so
    that no visitor gets a page whose assets are not there yet."""
    plan = []
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        key = path.relative_to(dist).as_posix()
        kind = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        plan.append((path, key, kind, IMMUTABLE if key.startswith("assets/") else REVALIDATE))
    return sorted(plan, key=lambda item: item[1] == "index.html")


def stack_settings(config_env: str) -> tuple[str, str | None]:
    document = tomllib.loads((ROOT / "samconfig.toml").read_text())
    section = document.get(config_env, {})
    name = section.get("global", {}).get("parameters", {}).get("stack_name", "helpdesk")
    region = section.get("deploy", {}).get("parameters", {}).get("region")
    return str(name), region


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config-env", default="default", help="samconfig.toml environment (default, prod)")
    parser.add_argument("--stack-name", help="overrides samconfig.toml")
    parser.add_argument("--region", help="overrides samconfig.toml")
    args = parser.parse_args(argv)

    import boto3

    name, region = stack_settings(args.config_env)
    session = boto3.Session(region_name=args.region or region)
    stack = session.client("cloudformation").describe_stacks(StackName=args.stack_name or name)["Stacks"][0]
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}
    parameters = {item["ParameterKey"]: item.get("ParameterValue", "") for item in stack.get("Parameters", [])}
    if not (DIST / "index.html").is_file():
        print("web/dist is not built: run `make web` first", file=sys.stderr)
        return 1

    s3 = session.client("s3")
    bucket = outputs["WebBucketName"]
    for path, key, kind, cache in upload_plan(DIST):
        s3.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": kind, "CacheControl": cache})
    config = json.dumps(runtime_config(outputs, parameters), indent=1).encode()
    s3.put_object(
        Bucket=bucket, Key="config.json", Body=config, ContentType="application/json", CacheControl="no-store"
    )

    session.client("cloudfront").create_invalidation(
        DistributionId=outputs["WebDistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": 3, "Items": ["/", "/index.html", "/config.json"]},
            "CallerReference": f"deploy-web-{time.time_ns()}",
        },
    )
    url = outputs["WebUrl"]
    print(f"web support center: {url}")
    print(f"  register with the identity provider: redirect URI {url}/callback, sign-out URI {url}/signin")
    print(f"  set AppBaseUrl={url} (or your custom domain) for links in mail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
