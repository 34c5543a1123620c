"""DynamoDB as the local stack needs it from moto: isolated, atomic, and as fast for one partition
of a big table as for a small one. `install()` patches moto's DynamoDB models in this process
(the stack's moto server runs in it); every change is checked against moto's own answers by
tests/integration/test_dynamodb_emulation.py.

- **One request at a time.** moto's server answers on many threads and its DynamoDB backend is
  not thread-safe, so every DynamoDB and DynamoDB Streams request is handled under `LOCK` (moto's
  request handlers are wrapped; the stack's own in-process calls take it too): DynamoDB requests
  are serialisable, which is what conditional writes and transactions promise.
- **Transactions without copying the table.** moto deep-copies every touched table (items and
  stream shard) before each TransactWriteItems and puts the copy back when one fails: O(table)
  time and garbage per write, and, with threads, a restored copy loses other requests' committed
  writes. Here every condition is checked first against the current state (a refused transaction
  raises TransactionCanceledException with per-item reasons and ALL_OLD items, and has written
  nothing); then the writes are applied with an undo log of the touched items and the stream's
  length, so a write that fails half-way (a validation error) is undone exactly. An UpdateItem
  that fails half-way (moto edits the stored item in place) is undone the same way.
- **Query reads one partition.** moto's Query sorts every item of the table on each call, for a
  base-table partition and for an index alike. Here a base-table Query starts from the partition
  (`table.items[hash]`) and an index Query from a map kept per index hash attribute (value →
  items), maintained on every write; moto's own query logic then runs on those candidates only
  (order, key conditions, filters, Limit, pagination unchanged).
- **Items at rest are packed.** moto keeps each item as Python objects, some 12 KB for a ticket;
  here an item is kept pickled and compressed (under 1 KB; against a dictionary learned from the
  first items packed) and unpacked when a request uses it, then packed again (anew if the
  request wrote it) when the request ends.
- **Streams are trimmed.** moto's stream shard keeps every record forever (packed here, like
  items, until read). `trim_stream` drops
  the records every consumer has processed (the local event sources call it with their
  checkpoint) and `housekeeping` those older than 24 hours, as DynamoDB Streams does; sequence
  numbers stay valid (the shard's starting sequence number advances), and an iterator behind the
  trim horizon gets TrimmedDataAccessException as in AWS. Shard iterators are forgotten after
  15 minutes, when AWS expires them."""

from __future__ import annotations

import contextvars
import copy
import dataclasses
import datetime
import functools
import inspect
import pickle
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

LOCK = threading.RLock()  # every DynamoDB (and Streams) request, and the stack's own calls
STREAM_RETENTION = datetime.timedelta(hours=24)
ITERATOR_LIFETIME = 15 * 60  # seconds

_patched: list[tuple[Any, str, Any]] = []  # (class, attribute, moto's original)
_ABSENT = object()  # an attribute the class did not have
_settling: list[Any] = []  # items unpacked or written during the current request (under LOCK)
_dictionary: list[bytes] = []  # the compression dictionary, once learned from the first items packed
_samples: list[bytes] = []
DICTIONARY_SAMPLES, DICTIONARY_STRIDE = 64, 8  # every 8th of the first 512 items packed
_CANDIDATES: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("local_query_candidates", default=None)

Key = tuple[Any, Any]  # (hash DynamoType, range DynamoType or None)


def install() -> None:
    """Patch moto's DynamoDB models in this process (idempotent)."""
    with LOCK:
        if _patched:
            return
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models.dynamo_type import Item
        from moto.dynamodb.models.table import StreamRecord, StreamShard, Table
        from moto.dynamodb.responses import DynamoHandler
        from moto.dynamodbstreams.models import ShardIterator
        from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

        replacements: list[tuple[Any, str, Callable[[Any], Any]]] = [
            (DynamoHandler, "call_action", _one_at_a_time(settle_after=True)),
            (DynamoDBStreamsHandler, "call_action", _one_at_a_time(settle_after=False)),
            (Item, "attrs", lambda _: property(_attrs_get, _attrs_set)),
            (DynamoDBBackend, "transact_write_items", lambda _: _transact_write_items),
            (DynamoDBBackend, "update_item", _update_item),
            (Table, "put_item", _put_item),
            (Table, "delete_item", _delete_item),
            (Table, "query", _query),
            (Table, "all_items", _all_items),
            (StreamShard, "get", lambda _: _shard_get),
            (StreamRecord, "__init__", _packed_record),
            (StreamRecord, "to_json", lambda _: _record_json),
            (ShardIterator, "__init__", _iterator_init),
        ]
        for cls, name, make in replacements:
            _patched.append((cls, name, cls.__dict__.get(name, _ABSENT)))
            setattr(cls, name, make(getattr(cls, name, None)))  # what the class has, maybe inherited


def uninstall() -> None:
    """moto as it was (for tests that compare with moto's own answers). Items stored while it was
    installed stay readable: they are unpacked for good first."""
    with LOCK:
        _unpack_everything()
        while _patched:
            cls, name, original = _patched.pop()
            if original is _ABSENT:
                delattr(cls, name)
            else:
                setattr(cls, name, original)


def _one_at_a_time(*, settle_after: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A DynamoDB (Streams) request handled under LOCK, its items packed again when it is done."""

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def call_action(self: Any) -> Any:
            with LOCK:
                try:
                    return original(self)
                finally:
                    if settle_after:
                        settle()

        return call_action

    return wrap


# ---------------------------------------------------------------------------------- items at rest


def _attrs_get(self: Any) -> Any:
    """Item.attrs: unpacked when first used in a request (settle() packs it again)."""
    state = self.__dict__
    attrs = state.get("_attrs")
    if attrs is None:
        if "_packed" not in state:
            raise AttributeError("attrs")
        attrs = state["_attrs"] = _unpack(state["_packed"])
        _settling.append(self)
    return attrs


def _attrs_set(self: Any, value: Any) -> None:
    state = self.__dict__
    state["_attrs"] = value
    state.pop("_packed", None)


def _pack(attrs: dict[str, Any]) -> bytes:
    """Pickled and compressed; once enough items have been seen, against a dictionary made of some
    of them (attribute names, key prefixes, pickle's own framing: what every item repeats)."""
    raw = pickle.dumps(dict(attrs), protocol=pickle.HIGHEST_PROTOCOL)
    if _dictionary:
        packer = zlib.compressobj(1, zdict=_dictionary[0])
        return b"\x01" + packer.compress(raw) + packer.flush()
    _samples.append(raw)
    if len(_samples) >= DICTIONARY_SAMPLES * DICTIONARY_STRIDE:
        _dictionary.append(b"".join(_samples[::DICTIONARY_STRIDE])[-32768:])  # zlib's window
        _samples.clear()
    return b"\x00" + zlib.compress(raw, 1)


def _unpack(packed: bytes) -> Any:
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    if packed[0] == 1:
        raw = zlib.decompressobj(zdict=_dictionary[0]).decompress(packed[1:])
    else:
        raw = zlib.decompress(packed[1:])
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(attrs, pickle.loads(raw))  # noqa: S301 - our own bytes, this process
    return attrs


def settle() -> None:
    """At the end of a request: the items it unpacked or wrote go back to their packed form (a
    written one packed anew; one only read keeps the bytes it had)."""
    while _settling:
        state = _settling.pop().__dict__
        dirty = state.pop("_local_dirty", False)
        attrs = state.get("_attrs")
        if attrs is None:
            continue
        if dirty or "_packed" not in state:
            state["_packed"] = _pack(attrs)
        del state["_attrs"]


def _unpack_everything() -> None:
    from moto.dynamodb.models import dynamodb_backends

    for backends in list(dynamodb_backends.values()):
        for backend in list(backends.values()):
            for table in list(backend.tables.values()):
                for item in _stored_items(table):
                    state = item.__dict__
                    if "_attrs" not in state and "_packed" in state:
                        state["_attrs"] = _unpack(state.pop("_packed"))
                for record in table.stream_shard.items if table.stream_shard is not None else []:
                    if "packed" in record.__dict__:
                        record.record = _record_json(record)
    _settling.clear()


# ---------------------------------------------------------------------------------- index maps


class _AttributeMap:
    """The items of a table by the value of one attribute (an index's hash key): value → key → item."""

    def __init__(self, table: Any, attribute: str) -> None:
        self.attribute = attribute
        self.buckets: dict[Any, dict[Key, Any]] = {}
        self.placed: dict[Key, Any] = {}  # key → the value it is filed under
        for item in _stored_items(table):
            self.place(_key_of(item), item)

    def place(self, key: Key, item: Any | None) -> None:
        previous = self.placed.pop(key, None)
        if previous is not None:
            bucket = self.buckets[previous]
            bucket.pop(key, None)
            if not bucket:
                del self.buckets[previous]
        value = item.attrs.get(self.attribute) if item is not None else None
        if value is not None:
            self.buckets.setdefault(value, {})[key] = item
            self.placed[key] = value


def _stored_items(table: Any) -> list[Any]:
    if table.range_key_attr:
        return [item for partition in table.items.values() for item in partition.values()]
    return list(table.items.values())


def _key_of(item: Any) -> Key:
    return (item.hash_key, item.range_key)


def _stored(table: Any, key: Key) -> Any | None:
    """The item stored under a key (without the defaultdict adding an empty partition)."""
    hash_key, range_key = key
    partition = table.items.get(hash_key)
    if partition is None:
        return None
    if table.range_key_attr:
        return partition.get(range_key)
    return partition


def _maps(table: Any) -> dict[str, _AttributeMap]:
    maps: dict[str, _AttributeMap] | None = table.__dict__.get("_local_maps")
    if maps is None:
        maps = table.__dict__["_local_maps"] = {}
    return maps


def _attribute_map(table: Any, attribute: str) -> _AttributeMap:
    maps = _maps(table)
    if attribute not in maps:
        maps[attribute] = _AttributeMap(table, attribute)
    return maps[attribute]


def _written(table: Any, key: Key | None) -> None:
    """After a write to `key`: the stored item is packed anew when the request ends, and filed
    (or its absence) in every index map."""
    if key is None:
        return
    item = _stored(table, key)
    if item is not None:
        item.__dict__["_local_dirty"] = True
        _settling.append(item)
    maps = table.__dict__.get("_local_maps")
    for attribute_map in (maps or {}).values():
        attribute_map.place(key, item)


def _key_from(table: Any, attributes: dict[str, Any]) -> Key | None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_key = DynamoType(attributes[table.hash_key_attr])
        range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    except (KeyError, TypeError, AttributeError):
        return None
    return hash_key, range_key


# ---------------------------------------------------------------------------------- writes


def _put_item(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, item_attrs, *args, **kwargs)
        finally:
            _written(self, _key_from(self, item_attrs))

    return put_item


def _delete_item(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        try:
            return original(self, hash_key, range_key)
        finally:
            _written(self, (hash_key, range_key if self.range_key_attr else None))

    return delete_item


def _update_item(original: Callable[..., Any]) -> Callable[..., Any]:
    """UpdateItem all or nothing: moto edits the stored item in place and can fail half-way (a
    validation error met while applying the expression); the item is then put back as it was."""

    @functools.wraps(original)
    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            table = self.get_table(table_name)
            item_key = _key_from(table, key)
            before = _snapshot(table, item_key)
            shard = table.stream_shard
            length = len(shard.items) if shard is not None else 0
            try:
                return original(self, table_name, key, *args, **kwargs)
            except BaseException:
                if item_key is not None:
                    _restore(table, item_key, before)
                if shard is not None:
                    del shard.items[length:]
                raise
            finally:
                _written(table, item_key)

    return update_item


@dataclasses.dataclass(frozen=True)
class _Packed:
    data: bytes


def _snapshot(table: Any, key: Key | None) -> Any | None:
    """The stored item as it is now, to put back if a write fails: its packed bytes when they are
    current (no copy), else a deep copy."""
    item = _stored(table, key) if key is not None else None
    if item is None:
        return None
    state = item.__dict__
    if "_packed" in state and not state.get("_local_dirty"):
        return _Packed(state["_packed"])
    return copy.deepcopy(item)


def _restore(table: Any, key: Key, snapshot: Any | None) -> None:
    from moto.dynamodb.models.dynamo_type import Item

    hash_key, range_key = key
    item = snapshot
    if isinstance(snapshot, _Packed):
        item = Item.__new__(Item)
        item.__dict__.update(hash_key=hash_key, range_key=range_key, _packed=snapshot.data)
    if table.range_key_attr:
        partition = table.items.get(hash_key)
        if item is not None:
            table.items[hash_key][range_key] = item
        elif partition is not None:
            partition.pop(range_key, None)
            if not partition:
                del table.items[hash_key]
    elif item is not None:
        table.items[hash_key] = item
    else:
        table.items.pop(hash_key, None)
    _written(table, key)


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """TransactWriteItems: conditions first, then the writes, undone exactly if one fails."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with LOCK:
        # 1. every item's shape, uniqueness and condition, against the current state
        targets: set[tuple[str, str]] = set()
        plans: list[tuple[str, dict[str, Any], Any, dict[str, Any]]] = []
        errors: list[tuple[Any, Any, Any]] = []
        for entry in transact_items:
            if len(entry) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(entry.items()))
            old_image: dict[str, Any] | None = None
            try:
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")
                table_name = op["TableName"]
                table = self.get_table(table_name)
                if op_type == "Put":
                    attrs = op["Item"]
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]
                target = (str(table_name), str(dict(sorted(key.items()))))
                if target in targets:
                    raise MultipleTransactionsException()
                targets.add(target)
                current = self.get_item(table_name, key)
                condition = op.get("ConditionExpression")
                if condition is not None:
                    check = get_filter_expression(
                        condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                    )
                    if not check.expr(current):
                        if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                            old_image = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=old_image)
                plans.append((op_type, op, table, key))
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                raise
            except ConditionalCheckFailed as exc:
                errors.append(("ConditionalCheckFailed", str(exc.message), old_image))
            except Exception as exc:  # as moto: any other failure cancels with its name
                errors.append((type(exc).__name__, str(exc), None))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)

        # 2. the writes, with an undo log of the items they touch and of the streams' lengths
        undo: list[tuple[Any, Key, Any]] = []
        lengths: dict[int, tuple[Any, int]] = {}
        position = 0  # of the write being applied
        try:
            for op_type, op, table, key in plans:
                if op_type == "ConditionCheck":
                    position += 1
                    continue
                shard = table.stream_shard
                if shard is not None and id(shard) not in lengths:
                    lengths[id(shard)] = (shard, len(shard.items))
                item_key = _key_from(table, key)
                if item_key is not None:
                    undo.append((table, item_key, _snapshot(table, item_key)))
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op_type == "Put":
                    self.put_item(op["TableName"], op["Item"])
                elif op_type == "Delete":
                    self.delete_item(op["TableName"], key)
                else:
                    self.update_item(
                        op["TableName"],
                        key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                position += 1
        except BaseException as exc:
            for table, item_key, before in reversed(undo):
                _restore(table, item_key, before)
            for shard, length in lengths.values():
                del shard.items[length:]
            if isinstance(exc, MultipleTransactionsException | MockValidationException) or not isinstance(
                exc, Exception
            ):
                raise
            errors[position] = (type(exc).__name__, str(exc), None)
            raise TransactionCanceledException(errors) from exc


# ---------------------------------------------------------------------------------- queries


def _query(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        given = signature.bind(self, hash_key, *args, **kwargs).arguments  # moto passes the index positionally
        candidates = _candidates(self, hash_key, given.get("index_name"), given.get("hash_key_conditions"))
        if candidates is None:
            return original(self, hash_key, *args, **kwargs)
        candidates.sort(key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)  # as all_items()
        token = _CANDIDATES.set(candidates)
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            _CANDIDATES.reset(token)

    return query


def _all_items(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def all_items(self: Any) -> Any:
        candidates = _CANDIDATES.get()
        return list(candidates) if candidates is not None else original(self)

    return all_items


def _candidates(
    table: Any, hash_key: Any, index_name: str | None, hash_key_conditions: list[tuple[str, Any]] | None
) -> list[Any] | None:
    """The only items a Query can return: its partition (None: let moto look at every item)."""
    if index_name is None or any(index.name == index_name for index in table.indexes or []):
        if hash_key is None:  # a local index shares the table's partition
            return None
        partition = table.items.get(hash_key)
        if partition is None:
            return []
        return list(partition.values()) if table.range_key_attr else [partition]
    index = next((index for index in table.global_indexes or [] if index.name == index_name), None)
    if index is None:
        return None  # moto answers the unknown index
    attribute = next((str(k["AttributeName"]) for k in index.schema if k["KeyType"] == "HASH"), None)
    if attribute is None:
        return None
    value = dict(hash_key_conditions).get(attribute) if hash_key_conditions else hash_key
    if value is None:
        return None
    return list(_attribute_map(table, attribute).buckets.get(value, {}).values())


# ---------------------------------------------------------------------------------- streams


def _shard_get(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
    """StreamShard.get that answers a position behind the trim horizon as DynamoDB Streams does."""
    from moto.core.exceptions import JsonRESTError

    offset = start - self.starting_sequence_number
    if offset < 0:
        raise JsonRESTError(
            "TrimmedDataAccessException",
            f"The requested sequence number {start} is beyond the trim horizon "
            f"(records from {self.starting_sequence_number} are kept)",
        )
    return [record.to_json() for record in self.items[offset : offset + quantity]]


def _packed_record(original: Callable[..., Any]) -> Callable[..., Any]:
    """A stream record kept packed (its images are whole items) until a consumer reads it."""

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        record = self.__dict__.pop("record")
        self.created = record["dynamodb"]["ApproximateCreationDateTime"]
        self.packed = zlib.compress(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL), 1)

    return init


def _record_json(self: Any) -> dict[str, Any]:
    record: dict[str, Any] = pickle.loads(zlib.decompress(self.packed))  # noqa: S301 - our own bytes
    return record


def _iterator_init(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.local_created = time.monotonic()

    return init


def _backend() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    from local import config

    return dynamodb_backends[config.ACCOUNT_ID][config.REGION]


def trim_stream(stream_arn: str, through: str | None) -> int:
    """Drop a table's stream records up to sequence number `through` (every consumer has handled
    them) and those older than 24 hours; how many were dropped."""
    table_name = stream_arn.split(":table/", 1)[-1].split("/", 1)[0]
    with LOCK:
        try:
            table = _backend().get_table(table_name)
        except Exception:  # the table is gone
            return 0
        return _trim(table.stream_shard, int(through) if through is not None else None)


def _trim(shard: Any, through: int | None) -> int:
    from moto.core.utils import utcnow

    if shard is None:
        return 0
    count = 0
    if through is not None:
        count = max(0, min(len(shard.items), through - shard.starting_sequence_number + 1))
    cutoff = utcnow() - STREAM_RETENTION
    while count < len(shard.items) and shard.items[count].created < cutoff:
        count += 1
    if count:
        del shard.items[:count]
        shard.starting_sequence_number += count
    return count


def housekeeping() -> None:
    """What AWS expires on its own: stream records after 24 h, shard iterators after 15 minutes."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    from local import config

    with LOCK:
        for table in list(_backend().tables.values()):
            _trim(table.stream_shard, None)
        iterators = dynamodbstreams_backends[config.ACCOUNT_ID][config.REGION].shard_iterators
        expired = time.monotonic() - ITERATOR_LIFETIME
        for arn in [arn for arn, it in iterators.items() if getattr(it, "local_created", expired) < expired]:
            iterators.pop(arn, None)
