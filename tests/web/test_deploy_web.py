"""What `make deploy` writes for the web app: its runtime configuration and the upload plan."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from local.template import ROOT


def deploy_web() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_web", ROOT / "scripts" / "deploy_web.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_runtime_config_comes_from_the_stacks_outputs() -> None:
    outputs = {
        "ApiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/",
        "WebOidcIssuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X",
        "WebOidcClientId": "client123",
        "WebOidcScope": "openid email",
        "WebApiToken": "id_token",
    }
    assert deploy_web().runtime_config(outputs, {"SupportRoleName": "helpdesk-support"}) == {
        "apiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com",
        "auth": "oidc",
        "supportRole": "helpdesk-support",
        "oidc": {
            "authority": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X",
            "clientId": "client123",
            "scope": "openid email",
            "apiToken": "id_token",
        },
    }


def test_hashed_assets_are_cached_for_good_and_index_html_goes_last(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index-abc123.js").write_text("x")
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    plan = [(key, kind, cache) for _, key, kind, cache in deploy_web().upload_plan(tmp_path)]
    assert plan == [
        ("assets/index-abc123.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"),
        ("favicon.svg", "image/svg+xml", "no-cache"),
        ("index.html", "text/html; charset=utf-8", "no-cache"),
    ]
