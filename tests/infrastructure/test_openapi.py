"""The OpenAPI document is generated from the functions' own route declarations and kept current."""

from __future__ import annotations

import json
import subprocess
import sys

from local.template import ROOT


def generated() -> dict:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/openapi.py")], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(result.stdout)


def test_checked_in_document_is_current() -> None:
    # Given the document `make openapi` writes, When it is generated again, Then nothing changed
    assert json.loads((ROOT / "openapi.json").read_text()) == generated(), "run `make openapi`"


def test_document_covers_every_template_route_with_problem_errors(sam: dict) -> None:
    document = generated()
    for resource in sam["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] != "HttpApi" or "Path" not in event["Properties"]:
                continue  # the `$default` route answers what no route takes
            operation = document["paths"][event["Properties"]["Path"]][event["Properties"]["Method"].lower()]
            errors = [code for code in operation["responses"] if code.startswith(("4", "5"))]
            assert errors
            for code in errors:
                content = operation["responses"][code]["content"]
                if code in ("401", "413", "429"):  # API Gateway may answer before any function: its own JSON
                    assert content["application/json"]["schema"]["required"] == ["message"]
                else:
                    assert "application/problem+json" in content


def test_document_is_valid_openapi() -> None:
    from openapi_spec_validator import validate

    validate(generated())


def test_the_clients_enums_are_the_apis() -> None:
    """The CLI and the MCP server take their enums from clients/cli/tickets_cli/vocabulary.py, which is
    generated from openapi.json: an API change the clients miss fails here."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import client_vocabulary

    expected = client_vocabulary.render(json.loads((ROOT / "openapi.json").read_text()))
    assert (ROOT / "clients/cli/tickets_cli/vocabulary.py").read_text() == expected, "run `make openapi`"


def test_the_default_routes_table_is_the_documents() -> None:
    """functions/unmatched_route/routes.json (405 + Allow) is derived from openapi.json."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/openapi.py"), "--routes"], capture_output=True, text=True, check=True
    )
    assert (ROOT / "functions/unmatched_route/routes.json").read_text() == result.stdout, "run `make openapi`"


def test_the_event_schemas_in_the_repo_are_the_events(tmp_path) -> None:
    """schemas/events/ holds one JSON Schema per domain event (`make openapi` writes them)."""
    subprocess.run([sys.executable, str(ROOT / "scripts/event_schemas.py"), str(tmp_path)], check=True, cwd=ROOT)
    written = {path.name: path.read_text() for path in tmp_path.iterdir()}
    kept = {path.name: path.read_text() for path in (ROOT / "schemas/events").iterdir()}
    assert kept == written, "run `make openapi`"
    assert len(kept) == 8
