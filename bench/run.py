"""make bench: cold-start import cost per function, AWS round trips per request, list latency as
data grows. Figures are ratios within one run (these machines are noisy); README quotes them."""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".bench"
PYTHON313 = os.environ.get("PYTHON313") or shutil.which("python3.13") or "python3.13"  # make bench sets it
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
FLOOR = "import boto3\nclient = boto3.client('dynamodb')\n"


# ---------------------------------------------------------------- cold starts


@dataclass(frozen=True)
class Target:
    """What a cold start imports: the handler's folder and the built layer (None: the floor)."""

    code: Path
    layer: Path | None
    function: str  # the logical id whose environment it gets


def _build_layer(source: Path, into: Path) -> Path:
    platform = "manylinux2014_aarch64" if os.uname().machine == "aarch64" else "manylinux2014_x86_64"
    subprocess.run(
        ["make", "-s", "-C", str(source), "build-CommonLayer",
         f"ARTIFACTS_DIR={into}", f"PLATFORM={platform}", f"PYTHON313={PYTHON313}"],
        check=True,
    )  # fmt: skip
    return into / "python"


def _checkout(revision: str) -> Path:
    """The shared layer and the functions of another revision (git archive), to measure both in one run."""
    folder = BUILD / "baseline-source"
    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "layers/common", "functions"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def _compile(folder: Path) -> None:
    subprocess.run(
        [PYTHON313, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(folder)],
        check=True,
    )


def build_artifacts(baseline: str | None = None) -> dict[str, Target]:
    """The layer built by its own Makefile recipe (for this machine's platform), each function's
    code, and the boto3 the Lambda runtime provides; every .py compiled like `make build` does.
    With `baseline`, the same again from that git revision, as `base:<function>` targets."""
    runtime = BUILD / "runtime"
    shutil.rmtree(BUILD, ignore_errors=True)
    import boto3

    subprocess.run(
        [PYTHON313, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(runtime),
         f"boto3=={boto3.__version__}"],
        check=True,
    )  # fmt: skip
    _compile(runtime)
    floor = BUILD / "floor"
    floor.mkdir(parents=True)
    (floor / "app.py").write_text(FLOOR)
    _compile(floor)
    targets = {"floor": Target(floor, None, "floor")}
    sources = {"": ROOT}
    if baseline:
        sources["base:"] = _checkout(baseline)
    for prefix, source in sources.items():
        layer = _build_layer(source / "layers/common", BUILD / f"{prefix.rstrip(':') or 'current'}-layer")
        functions = BUILD / f"{prefix.rstrip(':') or 'current'}-functions"
        for logical_id, code in _functions().items():
            if not (source / code / "app.py").exists():
                continue
            target = functions / logical_id
            shutil.copytree(source / code, target, ignore=shutil.ignore_patterns("__pycache__"))  # as sam build
            targets[prefix + logical_id] = Target(target, layer, logical_id)
        _compile(functions)
    return targets


def _functions() -> dict[str, str]:
    """Every function of the template, by its code folder."""
    from local import template

    return {
        logical_id: res["Properties"]["CodeUri"].rstrip("/")
        for logical_id, res in template.resources("AWS::Serverless::Function").items()
    }


def _lambda_environment(logical_id: str) -> dict[str, str]:
    """What Lambda gives the function: the template's variables and the runtime's own."""
    from local import template

    stack = template.Stack(names={name: f"helpdesk-{name.lower()}" for name in template.load()["Resources"]})
    stack.names["ReviewQueue"] = "https://sqs.eu-west-1.amazonaws.com/123456789012/helpdesk-ReviewQueue"
    env = template.function_environment(stack, logical_id, {}) if logical_id != "floor" else {}
    return {
        "PATH": "/usr/bin:/bin",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": f"helpdesk-{logical_id}",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": "/var/task",
        **env,
    }


def cold_starts(targets: dict[str, Target]) -> dict[str, float]:
    """Median wall time of a fresh python3.13 that imports the handler module, per target (the
    targets shuffled in every round, so a busy moment of the machine hits them alike)."""
    runtime = BUILD / "runtime"
    samples: dict[str, list[float]] = {name: [] for name in targets}
    names = list(targets)
    for _ in range(ROUNDS):
        random.shuffle(names)
        for name in names:
            target = targets[name]
            path = [str(target.code), *([str(target.layer)] if target.layer else []), str(runtime)]
            code = f"import sys; sys.path[:0] = {path!r}; import app"
            started = time.perf_counter()
            subprocess.run([PYTHON313, "-I", "-S", "-c", code], check=True, env=_lambda_environment(target.function))
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def instruction_counts(targets: dict[str, Target]) -> dict[str, int]:
    """Instructions a fresh python3.13 executes to import each handler (valgrind's callgrind): the
    same for the same code whatever else the machine is doing, so a few percent can be told apart."""
    runtime = BUILD / "runtime"
    counts: dict[str, int] = {}
    for name, target in targets.items():
        path = [str(target.code), *([str(target.layer)] if target.layer else []), str(runtime)]
        code = f"import sys; sys.path[:0] = {path!r}; import app"
        result = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", PYTHON313, "-I", "-S", "-c", code],
            env={**_lambda_environment(target.function), "PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
            check=True,
        )
        counts[name] = int(result.stderr.split("Collected :")[1].split()[0])
    return counts


# ---------------------------------------------------------------- round trips and latency


def _in_process_aws() -> tuple[object, dict[str, int]]:
    """moto in-process with the template's resources; every AWS call counted by a botocore hook."""
    import boto3
    from moto import mock_aws

    import tests.conftest  # noqa: F401 - the functions' environment
    from local import template

    mock = mock_aws()
    mock.start()
    template.create_all(boto3.Session(region_name="eu-west-1"))
    calls: dict[str, int] = {}
    boto3.setup_default_session(region_name="eu-west-1")

    def count(model: object, **_: object) -> None:
        key = f"{model.service_model.service_name}.{model.name}"  # type: ignore[attr-defined]
        calls[key] = calls.get(key, 0) + 1

    boto3.DEFAULT_SESSION._session.register("before-call", count)  # type: ignore[union-attr]
    return mock, calls


def round_trips(calls: dict[str, int]) -> dict[str, dict[str, int]]:
    from tests.support import SUPPORT, event, invoke

    def measured(name: str, sample: dict) -> tuple[dict[str, int], dict]:
        calls.clear()
        response = invoke(name, sample)
        assert response.status < 300, response
        return dict(calls), response.json()

    results = {}
    results["create_ticket"], ticket = measured("create_ticket", event("create_ticket"))
    path = {"ticket_id": ticket["id"]}
    results["get_ticket"], _ = measured("get_ticket", event("get_ticket", path=path))
    results["list_tickets"], _ = measured("list_tickets", event("list_tickets", query={}))
    results["reply_ticket"], _ = measured("reply_ticket", event("reply_ticket", path=path))
    results["reply_ticket (support)"], _ = measured("reply_ticket", event("reply_ticket", path=path, claims=SUPPORT))
    results["update_ticket"], _ = measured(
        "update_ticket", event("update_ticket", path=path, headers={"if-match": "*"})
    )
    resolve = event("update_ticket", path=path, claims=SUPPORT, body={"status": "resolved"}, headers={"if-match": "*"})
    results["update_ticket (support resolves: the org's category mix)"], _ = measured("update_ticket", resolve)
    results["close_ticket"], _ = measured("close_ticket", event("close_ticket", path=path))
    results["get_me"], _ = measured("get_me", event("get_me"))
    results["update_me"], _ = measured("update_me", event("update_me"))
    return results


def _texts(count: int, seed: int) -> list[tuple[str, str]]:
    """Realistic (subject, body) pairs: sentences of the evaluation set's tickets, recombined."""
    import json

    tickets = [json.loads(line) for line in (ROOT / "eval/tickets.jsonl").read_text().splitlines() if line.strip()]
    sentences = [s.strip() for t in tickets for s in t["body"].replace("\n", " ").split(". ") if len(s.strip()) > 20]
    subjects = [t["subject"] for t in tickets]
    rng = random.Random(seed)
    return [(rng.choice(subjects), ". ".join(rng.sample(sentences, rng.randint(3, 6))) + ".") for _ in range(count)]


def _ticket_items(org: str, subject: str, body: str, reviewed: bool) -> tuple[str, list[dict]]:
    """A ticket of `org` and its first message as the API writes them (reviewed, or pending review)."""
    from helpdesk.domain.models import (
        Author,
        AuthorKind,
        Message,
        ReviewStatus,
        Severity,
        Status,
        Ticket,
        TicketReview,
        stamp,
    )
    from helpdesk.store import tickets as repository

    ticket_id, at = stamp()
    ticket = Ticket(
        id=ticket_id, org_id=org, subject=subject, category="technical", severity=Severity.MEDIUM,
        status=Status.OPEN if reviewed else Status.PENDING_REVIEW, summary=body[:160],
        review=TicketReview(status=ReviewStatus.COMPLETED if reviewed else ReviewStatus.PENDING),
        created_by={"id": "u-1"}, source="api", created_at=at, updated_at=at, last_activity_at=at, version=1,
    )  # fmt: skip
    first = Message(id=ticket_id, author=Author(id="u-1", email=None, kind=AuthorKind.USER), body=body, created_at=at)
    return ticket_id, [repository.ticket_item(ticket), repository.message_item(ticket.id, first)]


def seed_org(org: str, count: int, seed: int) -> None:
    """`count` reviewed tickets of `org`, with their first message and duplicate-index postings,
    written as the API and the reviewer would write them (batched, to seed quickly)."""
    import boto3

    from helpdesk.review.similarity import index_entry
    from helpdesk.store import core as repository
    from helpdesk.store import duplicates as duplicate_index

    client = boto3.client("dynamodb", region_name="eu-west-1")
    items: list[dict] = []
    postings: dict[str, list[str]] = {}
    for subject, body in _texts(count, seed):
        ticket_id, (item, first) = _ticket_items(org, subject, body, reviewed=True)
        entry = index_entry(subject, body)
        item |= {"dup_signature": {"S": entry.signature}, "dup_snippet": {"S": entry.snippet}}
        items += [item, first]
        for key in entry.keys:
            postings.setdefault(key, []).append(ticket_id)
    items += [duplicate_index.postings_item(org, key, ids, len(ids)) for key, ids in postings.items()]
    with _no_stream_records():
        for start in range(0, len(items), 25):
            client.batch_write_item(
                RequestItems={repository.TABLE: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
            )


@contextmanager
def _no_stream_records() -> Iterator[Any]:
    """moto's table (yielded), writing no stream records meanwhile: a bulk load's records are consumed
    by nothing here, and moto keeps every one and copies them all with the table for each
    TransactWriteItems (its rollback copy): with 20,000 seeded tickets the reviews' transactions
    then took over 24 GB."""
    from moto.dynamodb.models import dynamodb_backends

    from helpdesk.store import core as repository

    table = dynamodb_backends["123456789012"]["eu-west-1"].get_table(repository.TABLE)
    stream, table.stream_shard = table.stream_shard, None
    try:
        yield table
    finally:
        table.stream_shard = stream


def list_latency(calls: dict[str, int]) -> dict[str, float]:
    """Median latency of the first page (limit 25) of each seeded org, and its AWS calls."""
    from tests.support import event, invoke

    results: dict[str, float] = {}
    for org in ("small-org", "big-org"):
        claims = {"sub": f"u-{org}", "email": f"u@{org}.test", "org_id": org, "roles": "[member]"}
        invoke("list_tickets", event("list_tickets", query={}, claims=claims))  # warm
        samples = []
        for _ in range(25):
            calls.clear()
            started = time.perf_counter()
            response = invoke("list_tickets", event("list_tickets", query={}, claims=claims))
            samples.append(time.perf_counter() - started)
            assert response.status == 200
            assert len(response.json()["items"]) == 25
        results[org] = statistics.median(samples)
        results[f"{org} calls"] = sum(calls.values())
    return results


def review_latency(calls: dict[str, int], rounds: int = 15) -> dict[str, float]:
    """Median time the reviewer takes for a new ticket of each seeded org (built-in engine)."""
    import boto3

    from helpdesk.review import worker as reviewer
    from helpdesk.store import core as repository

    client = boto3.client("dynamodb", region_name="eu-west-1")
    results: dict[str, float] = {}
    for org in ("small-org", "big-org"):
        samples = []
        for subject, body in _texts(rounds + 1, seed=99):
            ticket_id, items = _ticket_items(org, subject, body, reviewed=False)
            client.batch_write_item(RequestItems={repository.TABLE: [{"PutRequest": {"Item": i}} for i in items]})
            calls.clear()
            started = time.perf_counter()
            reviewer.review_ticket(ticket_id)
            samples.append(time.perf_counter() - started)
        results[org] = statistics.median(samples[1:])  # the first warms the engine's caches
        results[f"{org} calls"] = sum(calls.values())
    return results


def seed_index(org: str, count: int, seed: int) -> float:
    """`count` indexed tickets of `org` as the reviewer leaves them, and nothing else the review does not
    read: each ticket item with its signature and snippet, the posting lists (capped, with their counts)
    and the org's count. Returns the seconds it took."""
    import boto3

    from helpdesk.review.similarity import index_entry
    from helpdesk.store import core as repository
    from helpdesk.store import duplicates as duplicate_index

    started = time.perf_counter()
    client = boto3.client("dynamodb", region_name="eu-west-1")
    ids: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    items: list[dict] = []
    entries: dict[tuple[str, str], object] = {}
    for n, (subject, body) in enumerate(_texts(count, seed)):
        ticket_id = f"01{org[:4].upper()}{n:020d}"
        entry = entries.get((subject, body)) or index_entry(subject, body)
        entries[(subject, body)] = entry
        items.append({
            **repository.ticket_key(ticket_id), "id": {"S": ticket_id}, "org_id": {"S": org},
            "subject": {"S": subject}, "status": {"S": "open"},
            "dup_signature": {"S": entry.signature}, "dup_snippet": {"S": entry.snippet},  # type: ignore[attr-defined]
        })  # fmt: skip
        for key in entry.keys:  # type: ignore[attr-defined]
            counts[key] = counts.get(key, 0) + 1
            posted = ids.setdefault(key, [])
            if len(posted) < duplicate_index.MAX_POSTINGS:
                posted.append(ticket_id)
    items += [duplicate_index.postings_item(org, key, posted, counts[key]) for key, posted in ids.items()]
    items.append({**duplicate_index.postings_key(org, duplicate_index.COUNT_KEY), "n": {"N": str(count)}})
    for start in range(0, len(items), 25):
        client.batch_write_item(
            RequestItems={repository.TABLE: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        )
    return time.perf_counter() - started


def review_latency_at_scale(sizes: tuple[int, ...] = (100, 100_000), rounds: int = 31) -> dict[int, dict[str, float]]:
    """Median and p90 of one review of a new ticket against an org of each size: the built-in engine
    with the table's candidate source (the duplicate index's two BatchGetItems), in-process moto.
    The drafts are new texts recombined from the synthetic set's sentences, as the seeded tickets."""
    from helpdesk.domain.reviews import ReviewDraft
    from helpdesk.review import engine
    from helpdesk.review.candidates import TableCandidateSource

    results: dict[int, dict[str, float]] = {}
    source = TableCandidateSource()
    drafts = [ReviewDraft(subject=subject, body=body) for subject, body in _texts(rounds + 1, seed=99)]
    for size in sizes:
        org = f"org{size}"
        seconds = seed_index(org, size, seed=size)
        engine.review(drafts[0], org, source)  # warm: the model, the regular expressions
        samples, proposed = [], 0
        for draft in drafts[1:]:
            started = time.perf_counter()
            result = engine.review(draft, org, source)
            samples.append(time.perf_counter() - started)
            proposed += bool(result.duplicates)
        samples.sort()
        results[size] = {
            "p50": statistics.median(samples),
            "p90": samples[int(0.9 * len(samples))],
            "seed_s": seconds,
            "proposed": proposed / len(samples),
        }
    return results


REVIEWER_FIRST_REVIEW = """
from helpdesk.domain.reviews import ReviewDraft
from helpdesk.review import engine
from helpdesk.review.similarity import InMemoryCandidateSource
engine.review(ReviewDraft(subject="checkout pods OOMKilled", body="Since 10:00 UTC the checkout pods restart with exit code 137."), "acme", InMemoryCandidateSource())
"""


def reviewer_cold_start(targets: dict[str, Target]) -> dict[str, dict[str, float]]:
    """The reviewer's cold start, for each revision built: importing its handler, and importing it and
    reviewing one draft (what the first job of a new instance pays: the model file, compiled patterns).
    Median of ROUNDS fresh python3.13 processes, and instructions (callgrind) when valgrind is there."""
    runtime = BUILD / "runtime"
    out: dict[str, dict[str, float]] = {}
    for name, target in targets.items():
        if not name.endswith("ReviewTicketFunction"):
            continue
        path = [str(target.code), *([str(target.layer)] if target.layer else []), str(runtime)]
        for label, extra in (("import", ""), ("import + first review", REVIEWER_FIRST_REVIEW)):
            code = f"import sys; sys.path[:0] = {path!r}; import app\n{extra}"
            env = _lambda_environment(target.function)
            samples = []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                subprocess.run([PYTHON313, "-I", "-S", "-c", code], check=True, env=env)
                samples.append(time.perf_counter() - started)
            row = {"wall": statistics.median(samples)}
            if shutil.which("valgrind"):
                result = subprocess.run(
                    ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", PYTHON313, "-I", "-S", "-c", code],
                    env={**env, "PYTHONHASHSEED": "0"}, capture_output=True, text=True, check=True,
                )  # fmt: skip
                row["instructions"] = int(result.stderr.split("Collected :")[1].split()[0])
            out[f"{name} ({label})"] = row
    return out


SEARCH_BIG_ORG = int(os.environ.get("BENCH_SEARCH_TICKETS", "100000"))
SEARCH_ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", "21"))
SEARCH_QUERIES = {  # each org's searches ({rare}: a word of the org's oldest ticket only), first page
    "1 word, rare": {"q": "{rare}"},
    "1 word, common": {"q": "cluster"},
    "3 words, rare": {"q": "{rare} cluster nodes"},
    "3 words, common (limit 5: the 100-ticket org has 5)": {"q": "cluster prod eu", "limit": "5"},
}


@contextmanager
def _partition_queries(spent: dict[str, float]) -> Iterator[None]:
    """moto's Query made to read one partition of the table, as DynamoDB does: moto itself looks at
    every item of the table on each Query (40 µs an item here), which would measure moto, not the
    search. Base-table queries only (the search's); the localstack branch's local/dynamodb.py does
    this, and index queries too, for the local stack. moto still sorts the whole partition on each
    Query (DynamoDB reads the first items of its sorted partition): `spent["query"]` adds up the
    seconds moto spends in Query."""
    import contextvars
    import inspect

    from moto.dynamodb.models.table import Table

    query, all_items = Table.query, Table.all_items
    signature = inspect.signature(query)
    partition: contextvars.ContextVar[list | None] = contextvars.ContextVar("partition", default=None)

    def one_partition(self: Table, hash_key: object, *args: object, **kwargs: object) -> object:
        if signature.bind(self, hash_key, *args, **kwargs).arguments.get("index_name") is not None:
            return query(self, hash_key, *args, **kwargs)
        token = partition.set(list(self.items.get(hash_key, {}).values()))
        started = time.perf_counter()
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            spent["query"] += time.perf_counter() - started
            partition.reset(token)

    def items_of_partition(self: Table) -> list:
        found = partition.get()
        return list(found) if found is not None else all_items(self)

    Table.query, Table.all_items = one_partition, items_of_partition  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query, Table.all_items = query, all_items  # type: ignore[method-assign]


def seed_search_orgs(orgs: dict[str, int]) -> int:
    """Tickets of each org (name -> how many) with their search index (postings, the tickets' indexed
    words, the counts), as the indexer would have written them; each org's oldest ticket has a word no
    other has (_rare_word). A bulk load into moto's table (BatchWriteItem through moto would take an
    hour for 100,000 tickets), without stream records (nothing consumes them here) and without the
    tickets' message items (a search never reads them; their words are indexed all the same).
    Returns how many items it wrote."""
    from collections import Counter

    from helpdesk.store import search as index
    from helpdesk.tickets.search import words

    every_org: Counter[str] = Counter()
    written = 0
    with _no_stream_records() as table:
        for seed, (org, count) in enumerate(orgs.items(), start=3):
            counted: Counter[str] = Counter()
            for number, (subject, body) in enumerate(_texts(count, seed)):
                body = ". ".join(body.split(". ")[:2])  # two sentences: ~25 words a ticket, not ~50 (moto's memory)
                if number == 0:
                    body += f" Incident {_rare_word(org)} took cluster nodes down."
                ticket_id, (item, _first) = _ticket_items(org, subject, body, reviewed=True)
                indexed = index.IndexedWords(org, set(words(subject)), set(words(body[:160])), set(words(body)))
                counted.update(indexed.all())
                for each in [item, *index.ticket_index_items(ticket_id, indexed)]:
                    table.put_item(each)
                    written += 1
            for word, tickets in counted.items():
                table.put_item(index.count_item(org, word, tickets))
            written += len(counted)
            every_org.update(counted)
        for word, tickets in every_org.items():
            table.put_item(index.count_item(None, word, tickets))
        written += len(every_org)
    return written


def _rare_word(org: str) -> str:
    return "incident" + "".join(c for c in org if c.isalnum())


def search_latency(calls: dict[str, int], orgs: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Median latency of the first page of each search in an org of 100 and one of 100,000 tickets
    (one table), with the AWS calls and the items DynamoDB returned per request."""
    from helpdesk.store import core
    from tests.support import event, invoke

    returned = {"items": 0}
    spent = {"query": 0.0}

    def count_items(parsed: dict, **_: object) -> None:
        returned["items"] += len(parsed.get("Items", [])) + sum(len(i) for i in parsed.get("Responses", {}).values())

    core.client.meta.events.register("after-call.dynamodb", count_items)  # the functions' client
    results: dict[str, dict[str, float]] = {}
    try:
        with _partition_queries(spent):
            for name, template in SEARCH_QUERIES.items():
                samples: dict[str, list[tuple[float, float]]] = {org: [] for org in orgs}
                for round_number in range(SEARCH_ROUNDS + 1):  # the orgs in turn: a busy moment hits both
                    for org in orgs:
                        claims = {"sub": f"u-{org}", "email": f"u@{org}.test", "org_id": org, "roles": "[member]"}
                        query = {k: v.format(rare=_rare_word(org)) for k, v in template.items()}
                        calls.clear()
                        returned["items"], spent["query"] = 0, 0.0
                        started = time.perf_counter()
                        response = invoke("list_tickets", event("list_tickets", query=query, claims=claims))
                        elapsed = time.perf_counter() - started
                        assert response.status == 200, response
                        assert response.json()["items"], (org, query)
                        if round_number:  # the first warms
                            samples[org].append((elapsed, spent["query"]))
                        results[f"{org} {name}"] = {
                            "calls": sum(calls.values()),
                            "items": returned["items"],
                            "found": len(response.json()["items"]),
                        }
                for org in orgs:
                    results[f"{org} {name}"] |= {
                        "ms": statistics.median(total for total, _ in samples[org]) * 1000,
                        "query ms": statistics.median(query for _, query in samples[org]) * 1000,
                        "other ms": statistics.median(total - query for total, query in samples[org]) * 1000,
                    }
    finally:
        core.client.meta.events.unregister("after-call.dynamodb", count_items)
    return results


def index_cost(tickets: int = 20) -> dict[str, float]:
    """What IndexTicketsFunction writes, per new ticket (its record and its first message's) and per
    reply, for tickets of the bench's texts: the mean of `tickets`. The tickets and replies are put
    as the API writes them, without its transactions (moto copies the whole table for each one).
    Items written: postings (BatchWriteItem), counts (UpdateItem), the ticket's indexed words
    (PutItem); reads: GetItem."""
    import boto3

    from helpdesk.domain.models import Author, AuthorKind, Message, stamp
    from helpdesk.store import core
    from helpdesk.store import tickets as repository
    from tests.unit.search import indexer

    client = boto3.client("dynamodb", region_name="eu-west-1")
    written: dict[str, int] = {}
    totals: dict[str, float] = {}

    def count(params: dict, model: object, **_: object) -> None:
        name = model.name  # type: ignore[attr-defined]
        items = sum(len(r) for r in params["RequestItems"].values()) if name == "BatchWriteItem" else 1
        written[name] = written.get(name, 0) + items

    def settled(stage: str) -> None:
        """The indexer catches up with the stream; what it wrote is added to `stage`'s mean."""
        written.clear()
        indexer.catch_up()
        for name, items in written.items():
            totals[f"{stage} {name}"] = totals.get(f"{stage} {name}", 0) + items / tickets

    indexer.skip_pending()  # the bench's other writes
    core.client.meta.events.register("provide-client-params.dynamodb", count, unique_id="bench-index-cost")
    try:
        texts = _texts(tickets * 2, seed=7)
        for (subject, body), (_, answer) in zip(texts[:tickets], texts[tickets:], strict=True):
            ticket_id, items = _ticket_items("index-cost", subject, body, reviewed=False)
            client.batch_write_item(RequestItems={core.TABLE: [{"PutRequest": {"Item": i}} for i in items]})
            settled("ticket")
            message_id, at = stamp()
            support = Author(id="u-support", email=None, kind=AuthorKind.SUPPORT)
            reply = Message(id=message_id, author=support, body=answer, created_at=at)
            client.put_item(TableName=core.TABLE, Item=repository.message_item(ticket_id, reply))
            settled("reply")
    finally:
        core.client.meta.events.unregister("provide-client-params.dynamodb", unique_id="bench-index-cost")
    return totals


def print_search_latency(calls: dict[str, int]) -> None:
    """What the indexer writes; then seed three orgs and search them (README: Performance)."""
    cost = index_cost()  # first: its catch-up reads the stream, which the bulk load below leaves alone
    print("\n## What the indexer writes (mean of 20 tickets of the bench's texts and a reply to each)\n")
    print("| change | postings | count updates | indexed-words puts | reads |\n|---|---:|---:|---:|---:|")
    for stage in ("ticket", "reply"):
        print(
            f"| {stage} | {cost.get(f'{stage} BatchWriteItem', 0):.1f} | {cost.get(f'{stage} UpdateItem', 0):.1f} | "
            f"{cost.get(f'{stage} PutItem', 0):.1f} | {cost.get(f'{stage} GetItem', 0):.1f} |"
        )

    sizes = {"search-100": 100, "search-10000": 10_000, f"search-{SEARCH_BIG_ORG}": SEARCH_BIG_ORG}
    started = time.perf_counter()
    written = seed_search_orgs(sizes)
    seconds = time.perf_counter() - started
    print(
        f"\n(seeded orgs of {', '.join(f'{n:,}' for n in sizes.values())} tickets with their search index: {written:,} items in {seconds:.0f} s)"
    )
    results = search_latency(calls, tuple(sizes))
    small, _, big = sizes
    print(
        f"\n## Search latency as the org grows (first page; median of {SEARCH_ROUNDS}; moto reading one partition per Query)\n"
    )
    print(
        "| q | ms: " + " / ".join(f"{n:,}" for n in sizes.values()) + f" | ratio {SEARCH_BIG_ORG:,} / 100 "
        "| of which moto's Query, ms | ratio without it | AWS calls | items returned | tickets on the page |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in SEARCH_QUERIES:
        rows = [results[f"{org} {name}"] for org in sizes]
        one, other = results[f"{small} {name}"], results[f"{big} {name}"]

        def each(key: str, digits: int = 0, rows: list[dict[str, float]] = rows) -> str:
            return " / ".join(f"{row[key]:.{digits}f}" for row in rows)

        print(
            f"| {name} | {each('ms', 1)} | {other['ms'] / one['ms']:.2f} | {each('query ms', 1)} | "
            f"{other['other ms'] / one['other ms']:.2f} | {each('calls')} | {each('items')} | {each('found')} |"
        )
    print("\nmoto's own Query (every item of the table looked at), one 1-word rare search of each org:")
    for org in sizes:
        claims = {"sub": f"u-{org}", "email": f"u@{org}.test", "org_id": org, "roles": "[member]"}
        started = time.perf_counter()
        response = invoke_list(claims, {"q": _rare_word(org)})
        print(f"- {org}: {time.perf_counter() - started:.1f} s ({len(response['items'])} found)")


def invoke_list(claims: dict[str, str], query: dict[str, str]) -> dict:
    from tests.support import event, invoke

    response = invoke("list_tickets", event("list_tickets", query=query, claims=claims))
    assert response.status == 200, response
    return response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", metavar="REV", help="also measure the cold starts of this git revision")
    parser.add_argument("--cold-starts-only", action="store_true", help="skip round trips and latency")
    parser.add_argument(
        "--instructions", action="store_true", help="also count the instructions of each import (valgrind)"
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        "--reviewer",
        action="store_true",
        help="only the reviewer: its cold start (import, and import + first review; with --baseline, both"
        " revisions) and review latency in an org of 100 vs 100,000 tickets",
    )
    only.add_argument(
        "--search", action="store_true", help="only the search: what the indexer writes, and q latency as the org grows"
    )
    only.add_argument(
        "--hostile", action="store_true", help="only the review of hostile bodies (50,000 characters of one unit)"
    )
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT / "layers/common"), str(ROOT)]
    print(f"# Helpdesk bench ({time.strftime('%Y-%m-%d %H:%M')}, python3.13 = {PYTHON313})\n")
    if args.hostile:
        print_hostile()
        return
    if args.search:
        mock, calls = _in_process_aws()
        try:
            print_search_latency(calls)
        finally:
            mock.stop()
        return

    targets = build_artifacts(args.baseline)
    if args.reviewer:
        print_reviewer(targets, args.baseline)
        return
    medians = cold_starts(targets)
    floor = medians["floor"]
    print(f"## Cold start: import of the handler module, median of {ROUNDS} fresh processes\n")
    if args.baseline:
        print(f"| function | wall ms | × floor | {args.baseline}: × floor | now / then |\n|---|---:|---:|---:|---:|")
    else:
        print("| function | wall ms | × floor |\n|---|---:|---:|")
    for name, value in sorted(medians.items(), key=lambda kv: kv[1]):
        if name.startswith("base:"):
            continue
        row = f"| {name} | {value * 1000:.0f} | {value / floor:.2f} |"
        if args.baseline and f"base:{name}" in medians:
            then = medians[f"base:{name}"]
            row += f" {then / floor:.2f} | {value / then:.3f} |"
        elif args.baseline:
            row += " | |"
        print(row)
    if args.instructions:
        counts = instruction_counts(targets)
        print("\n## Cold start in instructions (callgrind: repeatable on a busy machine)\n")
        header = "| function | instructions | × floor |" + (
            f" {args.baseline}: × floor | now / then |" if args.baseline else ""
        )
        print(header + "\n|---|---:|---:|" + ("---:|---:|" if args.baseline else ""))
        for name, value in sorted(counts.items(), key=lambda kv: kv[1]):
            if name.startswith("base:"):
                continue
            row = f"| {name} | {value:,} | {value / counts['floor']:.2f} |"
            if args.baseline and f"base:{name}" in counts:
                row += f" {counts[f'base:{name}'] / counts['floor']:.2f} | {value / counts[f'base:{name}']:.3f} |"
            print(row)
    if args.cold_starts_only:
        return

    mock, calls = _in_process_aws()
    try:
        print("\n## AWS round trips per request (no Idempotency-Key)\n")
        print("| request | calls |\n|---|---|")
        for name, counted in round_trips(calls).items():
            print(f"| {name} | {', '.join(f'{k} ×{v}' for k, v in sorted(counted.items()))} |")

        started = time.perf_counter()
        seed_org("small-org", 100, seed=1)
        seed_org("big-org", 20_000, seed=2)
        print(f"\n(seeded 100 + 20,000 reviewed tickets with their index in {time.perf_counter() - started:.0f} s)")
        latency = list_latency(calls)
        print("\n## List latency as the org grows (first page, limit 25, in-process moto, one table)\n")
        print("| org | median ms | AWS calls |\n|---|---:|---:|")
        print(f"| 100 tickets | {latency['small-org'] * 1000:.1f} | {latency['small-org calls']:.0f} |")
        print(f"| 20,000 tickets | {latency['big-org'] * 1000:.1f} | {latency['big-org calls']:.0f} |")
        print(f"\nratio 20,000 / 100: {latency['big-org'] / latency['small-org']:.2f}")

        review = review_latency(calls)
        print("\n## Review latency as the org grows (built-in engine, in-process moto, same table)\n")
        print("| org | median ms | AWS calls |\n|---|---:|---:|")
        print(f"| 100 tickets | {review['small-org'] * 1000:.1f} | {review['small-org calls']:.0f} |")
        print(f"| 20,000 tickets | {review['big-org'] * 1000:.1f} | {review['big-org calls']:.0f} |")
        print(f"\nratio 20,000 / 100: {review['big-org'] / review['small-org']:.2f}")

        print_search_latency(calls)
    finally:
        mock.stop()
    print()
    print_hostile()


# One repeated unit each: digits, letters, dashes, quotes, markup, blank lines, ... (what a paste gone wrong, or
# someone probing the reviewer, files); every pattern the review reads must stay linear in them.
HOSTILE_UNITS = (
    "1", "1.", "a", "a ", "a-", "x-", "a_", "0x", "ab1", "A", " ", "\n", " \n", "\t", "`", "```\n", "*", "#", "# ", "-", "/",
    "../", ":", "=", "a=", '"', "'", "(", "[", "[a]", "{", '{"a":', "<", "@", "a@", "\\", "http://a", "> ", "$ ", "token: ",
    "AKIA", "eyJ", "E0101 ", "2024-01-01 ", "v1.", "Error: ", "    at a(", "\u200b", "\U0001f600", "\r\n",
)  # fmt: skip


def hostile_review_times(chars: int = 50_000, rounds: int = 3) -> tuple[float, dict[str, float]]:
    """The built-in engine's review of a typical report, and of a body of `chars` characters of each hostile
    unit (medians of `rounds`, seconds): a pattern that backtracks over a run shows as a unit far above the rest."""
    from helpdesk.domain.reviews import ReviewDraft
    from helpdesk.review.engine import review
    from helpdesk.review.similarity import InMemoryCandidateSource

    def timed(body: str) -> float:
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            review(ReviewDraft(subject="pods fail", body=body), "bench", InMemoryCandidateSource())
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    typical = timed(_texts(1, seed=3)[0][1])
    hostile = {unit: timed(("pods crash since today error " + unit * chars)[:chars]) for unit in HOSTILE_UNITS}
    return typical, hostile


def print_hostile() -> None:
    typical, hostile = hostile_review_times()
    worst = sorted(hostile.items(), key=lambda kv: -kv[1])
    print(f"## Review of hostile bodies (50,000 characters of one unit, {len(hostile)} units, built-in engine)\n")
    print(
        f"typical report: {typical * 1000:.1f} ms; hostile median {statistics.median(hostile.values()) * 1000:.0f} ms;"
    )
    print("slowest: " + ", ".join(f"{unit!r} {seconds * 1000:.0f} ms" for unit, seconds in worst[:5]))
    print(f"\nratio slowest / median hostile: {worst[0][1] / statistics.median(hostile.values()):.2f}")


def print_reviewer(targets: dict[str, Target], baseline: str | None) -> None:
    medians = cold_starts({name: t for name, t in targets.items() if name == "floor"})
    rows = reviewer_cold_start(targets)
    print(f"## Reviewer cold start, median of {ROUNDS} fresh processes (floor: {medians['floor'] * 1000:.0f} ms)\n")
    print("| target | wall ms | × floor | instructions |\n|---|---:|---:|---:|")
    for name, row in rows.items():
        shown = name.replace("base:", f"{baseline}: ") if baseline else name
        instructions = f"{row['instructions']:,.0f}" if "instructions" in row else "n/a"
        print(f"| {shown} | {row['wall'] * 1000:.0f} | {row['wall'] / medians['floor']:.2f} | {instructions} |")
    mock, _ = _in_process_aws()
    try:
        latency = review_latency_at_scale()
    finally:
        mock.stop()
    print("\n## Review latency as the org grows (built-in engine + the table's candidate source, in-process moto)\n")
    print("| org | p50 ms | p90 ms | reviews that proposed a duplicate | seeded in |\n|---|---:|---:|---:|---:|")
    for size, row in latency.items():
        print(
            f"| {size:,} tickets | {row['p50'] * 1000:.1f} | {row['p90'] * 1000:.1f} | {row['proposed']:.0%} | {row['seed_s']:.0f} s |"
        )
    small, big = min(latency), max(latency)
    print(f"\nratio p50 {big:,} / {small:,}: {latency[big]['p50'] / latency[small]['p50']:.2f} (target ≤ 2)")


if __name__ == "__main__":
    main()
