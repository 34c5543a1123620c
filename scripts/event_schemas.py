"""The JSON Schema of every domain event (helpdesk.notify.events), as EventBridge delivers it:
`make openapi` writes them to schemas/events/; tests/infrastructure holds them current.

    python scripts/event_schemas.py [directory]
"""

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers/common"), str(ROOT)]
os.environ.setdefault("TABLE_NAME", "schemas")
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")

from helpdesk.notify.events import DETAILS, SCHEMA_VERSION, SOURCE  # noqa: E402


def slug(detail_type: str) -> str:
    return detail_type.lower().replace(" ", "-")


def schemas() -> dict[str, dict[str, Any]]:
    found = {}
    for detail_type, model in DETAILS.items():
        detail = model.model_json_schema(by_alias=True, mode="serialization")
        found[f"{slug(detail_type)}.json"] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://helpdesk.example.com/schemas/events/{slug(detail_type)}/v{SCHEMA_VERSION}.json",
            "title": detail_type,
            "description": f"EventBridge event `{detail_type}` (source `{SOURCE}`), detail version {SCHEMA_VERSION}.",
            "type": "object",
            "required": ["source", "detail-type", "detail"],
            "properties": {
                "source": {"const": SOURCE},
                "detail-type": {"const": detail_type},
                "time": {"type": "string", "format": "date-time"},
                "detail": detail,
            },
        }
    return found


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "schemas" / "events"
    target.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas().items():
        (target / name).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
