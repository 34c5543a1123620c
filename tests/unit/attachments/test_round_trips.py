"""What attachments cost: AWS calls per request (none more without files), and imports on cold start
(a JSON request never loads the S3 client, the multipart parser or the content checks)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from helpdesk.adapters import queue as review_queue
from helpdesk.adapters import storage
from helpdesk.store import core as repository
from tests.support import ROOT, event, invoke
from tests.unit.attachments.support import (
    create,
    download,
    key_of,
    multipart,
    post_upload,
    presign,
    reply,
    run_check,
)
from tests.unit.attachments.test_content import LOG, png


@pytest.fixture
def calls(aws: Any) -> Iterator[Counter[str]]:
    """Every AWS call the functions' clients make, by operation."""
    counted: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        counted[model.name] += 1

    clients = (repository.client, review_queue.client, storage.client())
    for client in clients:
        client.meta.events.register("before-call", count)
    yield counted
    for client in clients:
        client.meta.events.unregister("before-call", count)


def measured(calls: Counter[str], action: Any) -> dict[str, int]:
    calls.clear()
    action()
    return dict(calls)


def test_requests_without_files_make_the_same_calls_as_before(calls: Counter[str]) -> None:
    ticket = create()
    path = {"ticket_id": ticket["id"]}

    assert measured(calls, lambda: create()) == {"TransactWriteItems": 1, "SendMessage": 1}
    reply_json = measured(calls, lambda: invoke("reply_ticket", event("reply_ticket", path=path)))
    assert reply_json == {"TransactWriteItems": 1}


def test_files_add_one_put_each_and_are_recorded_in_the_same_transaction(calls: Counter[str]) -> None:
    files = [("a.log", LOG, "text/plain"), ("b.png", png(), "image/png")]
    assert measured(calls, lambda: create(files)) == {"PutObject": 2, "TransactWriteItems": 1, "SendMessage": 1}

    ticket = create()
    three = [*files, ("c.log", LOG, "text/plain")]
    assert measured(calls, lambda: reply(ticket["id"], three)) == {"PutObject": 3, "TransactWriteItems": 1}


def test_a_refused_write_deletes_the_bytes_it_stored(calls: Counter[str]) -> None:
    ticket = create()
    invoke("close_ticket", event("close_ticket", path={"ticket_id": ticket["id"]}))

    spent = measured(calls, lambda: reply(ticket["id"], [("late.log", LOG, "text/plain")]))

    assert spent == {"PutObject": 1, "TransactWriteItems": 1, "DeleteObjects": 1}


def test_presigning_downloading_and_checking(calls: Counter[str]) -> None:
    ticket = create()
    grant: dict[str, Any] = {}

    def ask() -> None:
        grant.update(presign(ticket["id"], size=len(png())).json())

    assert measured(calls, ask) == {"TransactWriteItems": 1}  # the POST itself is signed locally
    post_upload(grant, png())
    key = key_of(ticket["id"], grant["attachment_id"])
    assert measured(calls, lambda: run_check(key)) == {"GetItem": 1, "HeadObject": 1, "GetObject": 1, "UpdateItem": 1}
    assert measured(calls, lambda: download(ticket["id"], grant["attachment_id"])) == {"BatchGetItem": 1}
    upload = multipart("upload_attachment", None, [("a.log", LOG, "text/plain")], path={"ticket_id": ticket["id"]})
    assert measured(calls, lambda: invoke("upload_attachment", upload)) == {"PutObject": 1, "TransactWriteItems": 1}


LOADED = """
import sys, app
print(" ".join(sorted(name for name in sys.modules if name.startswith(("helpdesk.", "python_multipart")))))
"""


def loaded_on_import(function: str) -> set[str]:
    """The helpdesk (and python-multipart) modules a fresh interpreter holds after importing the handler."""
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / function), str(ROOT / "layers/common")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", LOADED], capture_output=True, text=True, check=True, env=environment, cwd=ROOT
    )
    return set(result.stdout.split())


@pytest.mark.parametrize("function", ["create_ticket", "reply_ticket"])
def test_create_and_reply_load_s3_multipart_and_sniffing_only_for_multipart_requests(function: str) -> None:
    loaded = loaded_on_import(function)
    assert "helpdesk.api.http" in loaded
    assert not loaded & {
        "helpdesk.adapters.storage",
        "helpdesk.tickets.attachments",
        "helpdesk.tickets.content",
        "helpdesk.api.multipart",
    }
    assert not any(name.startswith("python_multipart") for name in loaded)


def test_a_download_loads_no_sniffing_no_parser_no_schemas() -> None:
    loaded = loaded_on_import("get_attachment")
    assert "helpdesk.adapters.storage" in loaded
    assert not loaded & {"helpdesk.tickets.content", "helpdesk.api.multipart", "helpdesk.api.schemas"}
