"""The CLI's and MCP server's copy of the API's enums, generated from openapi.json (`make openapi`),
so a change in the API that the clients miss fails CI (tests/infrastructure/test_openapi.py).

    python scripts/client_vocabulary.py > clients/cli/tickets_cli/vocabulary.py
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENUMS = ("Category", "Severity", "Status", "Source", "AuthorKind", "WaitingOn", "AttachmentStatus", "ReviewStatus")


def render(document: dict) -> str:
    schemas = document["components"]["schemas"]
    lines = [
        '"""The API\'s enums, generated from openapi.json by scripts/client_vocabulary.py (`make openapi`).',
        'Do not edit: a test fails when this file and openapi.json disagree."""',
        "",
        "from enum import StrEnum",
        "from typing import Literal",
    ]
    for name in ENUMS:
        values = schemas[name]["enum"]
        lines += ["", "", f"class {name}(StrEnum):"]
        lines += [f'    {value} = "{value}"' for value in values]
    lines += ["", ""]
    for name in ENUMS:
        values = schemas[name]["enum"]
        lines.append(f"{name}Name = Literal[{', '.join(repr(v).replace(chr(39), chr(34)) for v in values)}]")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render(json.loads((ROOT / "openapi.json").read_text())))
