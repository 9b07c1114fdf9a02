"""What crosses the Redis frontier, as JSON that cannot execute anything, and read back only when well formed.

Each value is an envelope {"v": VERSION, "type": KIND, "data": ...}: the run's meta (its options and the category
matcher's specs with their digest; a worker builds the matcher itself and refuses a digest that does not match),
a host's unit (its links: key and investigation not yet started) and a finished link's result (its outcome and
the fetches its pages refer to). The data of a dataclass is an object of its fields, written and read by the
field's declared type: bytes as base64, dates and times in ISO 8601, tuples and lists as arrays. Reading checks
every field: an unknown version or kind, a missing, unknown or ill-typed field, or a value over MAX_BYTES raises
CodecError, whose message says where; nothing of such a value is used.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import types
import typing

from crawler.categories import CategoryMatcher, CategorySpec
from crawler.investigate import Investigation, Outcome
from crawler.items import ItemRule
from crawler.records import Fetch, Item
from crawler.settings import Limits, RunOptions
from crawler.urls import Scope

VERSION = 1
MAX_BYTES = 256 * 1024 * 1024      # one value in Redis (a result carries its pages' bodies)


class CodecError(ValueError):
    """A value read from the frontier is not one this version wrote"""


# -- dataclasses by their declared field types

@functools.cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _encode(value, tp):
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return _encode(value, next(a for a in args if a is not type(None)))
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        return {f.name: _encode(getattr(value, f.name), hints[f.name]) for f in dataclasses.fields(tp) if f.init}
    if tp is bytes:
        return base64.b64encode(value).decode("ascii")
    if tp in (dt.datetime, dt.date):
        return value.isoformat()
    if origin in (tuple, list):
        if origin is tuple and (len(args) != 2 or args[1] is not Ellipsis):
            return [_encode(v, a) for v, a in zip(value, args, strict=True)]
        return [_encode(v, args[0]) for v in value]
    if origin is dict:      # JSON keys are strings: an int key (an item's position) is written as its digits
        return {str(k): _encode(v, args[1]) for k, v in value.items()}
    return value


def _decode(raw, tp, where: str):
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if raw is None and type(None) in args:
            return None
        return _decode(raw, next(a for a in args if a is not type(None)), where)
    if dataclasses.is_dataclass(tp):
        if not isinstance(raw, dict):
            raise CodecError(f"{where}: {tp.__name__} is not an object")
        hints = _hints(tp)
        fields = {f.name: f for f in dataclasses.fields(tp) if f.init}
        unknown = set(raw) - set(fields)
        if unknown:
            raise CodecError(f"{where}: unknown field {sorted(unknown)[0]!r} of {tp.__name__}")
        values = {}
        for name, f in fields.items():
            if name in raw:
                values[name] = _decode(raw[name], hints[name], f"{where}.{name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise CodecError(f"{where}: {tp.__name__} lacks its field {name!r}")
        try:
            return tp(**values)
        except (TypeError, ValueError) as exc:
            raise CodecError(f"{where}: {exc}") from None
    if tp is bytes:
        if not isinstance(raw, str):
            raise CodecError(f"{where}: not base64 text")
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise CodecError(f"{where}: not base64") from None
    if tp in (dt.datetime, dt.date):
        if not isinstance(raw, str):
            raise CodecError(f"{where}: not an ISO 8601 {tp.__name__}")
        try:
            value = tp.fromisoformat(raw)
        except ValueError:
            raise CodecError(f"{where}: not an ISO 8601 {tp.__name__}") from None
        if tp is dt.date and isinstance(value, dt.datetime):
            raise CodecError(f"{where}: a time where a date is wanted")
        return value
    if origin in (tuple, list):
        if not isinstance(raw, list):
            raise CodecError(f"{where}: not an array")
        if origin is tuple and (len(args) != 2 or args[1] is not Ellipsis):
            if len(raw) != len(args):
                raise CodecError(f"{where}: {len(raw)} items where {len(args)} are wanted")
            return tuple(_decode(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(raw, args, strict=True)))
        items = [_decode(v, args[0], f"{where}[{i}]") for i, v in enumerate(raw)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(raw, dict):
            raise CodecError(f"{where}: not an object")
        return {_key(k, args[0], where): _decode(v, args[1], f"{where}[{k!r}]") for k, v in raw.items()}
    if tp is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise CodecError(f"{where}: not a number")
        return float(raw)
    if tp in (str, int, bool):
        if not isinstance(raw, tp) or (tp is int and isinstance(raw, bool)):
            raise CodecError(f"{where}: not {'an' if tp is int else 'a'} {tp.__name__}")
        return raw
    raise CodecError(f"{where}: a type the frontier does not carry ({tp})")


def _key(raw: str, tp, where: str):
    if tp is int:
        if not raw.isdigit() or len(raw) > 9:
            raise CodecError(f"{where}: key {raw[:20]!r} is not a position")
        return int(raw)
    return raw


def _str(raw, where: str) -> str:
    if not isinstance(raw, str):
        raise CodecError(f"{where}: not a string")
    return raw


# -- envelopes

def _dump(kind: str, data) -> bytes:
    return json.dumps({"v": VERSION, "type": kind, "data": data}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def _load(raw: bytes, kind: str):
    if not isinstance(raw, bytes | bytearray):
        raise CodecError(f"the {kind}: not bytes")
    if len(raw) > MAX_BYTES:
        raise CodecError(f"the {kind}: {len(raw)} bytes, more than {MAX_BYTES}")
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CodecError(f"the {kind}: not JSON") from None
    if not isinstance(value, dict) or set(value) != {"v", "type", "data"}:
        raise CodecError(f"the {kind}: not an envelope of this frontier")
    if value["v"] != VERSION:
        raise CodecError(f"the {kind}: version {value['v']!r}, this worker reads {VERSION}")
    if value["type"] != kind:
        raise CodecError(f"the {kind}: a {value['type']!r} value")
    return value["data"]


def _fields(data, kind: str, names: set[str]) -> dict:
    if not isinstance(data, dict) or set(data) != names:
        raise CodecError(f"the {kind}: its fields are not {sorted(names)}")
    return data


def matcher_digest(specs) -> str:
    """The digest of the category matcher's specs, as they travel."""
    canonical = json.dumps([_encode(s, CategorySpec) for s in specs], ensure_ascii=False, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def dump_meta(tag: str, options: RunOptions, matcher: CategoryMatcher, lease_seconds: float) -> bytes:
    return _dump("meta", {"tag": tag, "options": _encode(options, RunOptions),
                          "specs": [_encode(s, CategorySpec) for s in matcher.specs],
                          "specs_digest": matcher_digest(matcher.specs), "lease_seconds": lease_seconds})


def load_meta(raw: bytes) -> tuple[str, RunOptions, CategoryMatcher, float]:
    data = _fields(_load(raw, "meta"), "meta", {"tag", "options", "specs", "specs_digest", "lease_seconds"})
    tag = _str(data["tag"], "meta.tag")
    options = _decode(data["options"], RunOptions, "meta.options")
    specs = _decode(data["specs"], list[CategorySpec], "meta.specs")
    if matcher_digest(specs) != data["specs_digest"]:
        raise CodecError("the meta: its category specs do not match their digest")
    lease = _decode(data["lease_seconds"], float, "meta.lease_seconds")
    if not 0 < lease <= 3600:
        raise CodecError(f"meta.lease_seconds: {lease} is not between 0 and 3600")
    return tag, options, CategoryMatcher(specs), lease


# an investigation not yet started: what links.task_investigation gives it (its URL is its outcome's)
_INV = {"criterion": str, "scope": Scope | None, "period": tuple[dt.date, dt.date],
        "limits": Limits, "related_pages": int, "related_phrases": tuple[str, ...], "render": str,
        "items": tuple[Item, ...], "item_rule": ItemRule | None, "search_url": str | None, "outcome": Outcome}


def dump_unit(links: list, run_matcher: CategoryMatcher | None = None) -> bytes:
    """A host's links [(link key, Investigation)], the run's matcher left out (the meta carries it); a link
    judged by a matcher of its own (a listed criterion's category, crawler.checks.listed_matcher) carries
    that matcher's specs."""
    def own_specs(inv):
        if run_matcher is not None and inv.matcher.specs == run_matcher.specs:
            return None
        return _encode(list(inv.matcher.specs), list[CategorySpec])

    return _dump("unit", [[key, {**{name: _encode(getattr(inv, name), tp) for name, tp in _INV.items()},
                                 "specs": own_specs(inv)}]
                          for key, inv in links])


def load_unit(raw: bytes, matcher: CategoryMatcher) -> list:
    data = _load(raw, "unit")
    if not isinstance(data, list):
        raise CodecError("the unit: not an array of links")
    links = []
    for i, item in enumerate(data):
        where = f"unit[{i}]"
        if not isinstance(item, list) or len(item) != 2:
            raise CodecError(f"{where}: not a [key, investigation] pair")
        key = _str(item[0], f"{where}.key")
        fields = _fields(item[1], where, set(_INV) | {"specs"})
        values = {name: _decode(fields[name], tp, f"{where}.{name}") for name, tp in _INV.items()}
        specs = _decode(fields["specs"], list[CategorySpec] | None, f"{where}.specs")
        outcome = values.pop("outcome")
        criterion, scope = values.pop("criterion"), values.pop("scope")
        inv = Investigation(criterion, outcome.url, matcher=matcher if specs is None else CategoryMatcher(specs),
                            scope=scope, **values)
        inv.outcome = outcome
        links.append((key, inv))
    return links


def dump_result(key: str, outcome: Outcome, fetches: dict, worker: str) -> bytes:
    return _dump("result", {"key": key, "worker": worker, "outcome": _encode(outcome, Outcome),
                            "fetches": _encode(fetches, dict[str, Fetch])})


def result_key(raw: bytes) -> str | None:
    """The link key a result names, when it names one (for a result refused whole)."""
    try:
        data = _load(raw, "result")
    except CodecError:
        return None
    return data.get("key") if isinstance(data, dict) and isinstance(data.get("key"), str) else None


def load_result(raw: bytes) -> tuple[str, Outcome, dict, str]:
    data = _fields(_load(raw, "result"), "result", {"key", "worker", "outcome", "fetches"})
    return (_str(data["key"], "result.key"), _decode(data["outcome"], Outcome, "result.outcome"),
            _decode(data["fetches"], dict[str, Fetch], "result.fetches"), _str(data["worker"], "result.worker"))
