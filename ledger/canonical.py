"""The one door for canonical bytes: RFC 8785 (JCS) encoding and strict parsing.

Every byte that Tizbek hashes or signs comes from :func:`canonical_bytes`.
Events carry no floating-point numbers (weights are integer grams), so the
encoder refuses floats outright instead of trusting number formatting.

The ``rfc8785`` package defines the output. For values whose object keys hold
no character above U+D7FF, the standard library's sorted, compact JSON
encoder produces the very same bytes (without floats, JCS differs from it only
in ordering keys by UTF-16 code units), and so does ``orjson`` with sorted
keys, a tenth of the standard encoder's cost again (1.3 against 15 µs for a
lot's registration). ``orjson`` is used there, the ``rfc8785`` package
wherever it declines (nesting beyond its limit), and property tests hold the
results equal.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import rfc8785

from ledger.errors import CanonicalEncodingError

#: JSON numbers must survive every JSON parser unchanged, so integers are kept
#: inside IEEE 754 double precision's exact range (as I-JSON, RFC 7493, asks).
MAX_SAFE_INTEGER = 2**53 - 1

JsonValue = Any


class _Unusual(Exception):
    """Raised by :func:`_scan` where :func:`_check` must look closer."""


def _key_is_plain(key: str) -> bool:
    return key.isascii() or not key or max(key) < "\ud800"


def _scan(value: JsonValue) -> bool:
    """Fast path of :func:`_check` for plain built-in types; raises :class:`_Unusual`."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return True
        raise _Unusual
    plain = True
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual
            if not _key_is_plain(key):
                plain = False
            if type(item) is not str and not _scan(item):
                plain = False
        return plain
    if kind is list:
        for item in value:
            if type(item) is not str and not _scan(item):
                plain = False
        return plain
    raise _Unusual


def _check(value: JsonValue, path: str) -> bool:
    """Refuse what JSON cannot carry exactly; return whether every key is below U+D800."""
    if value is None or isinstance(value, bool | str):
        return True
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalEncodingError(f"{path}: integer {value} is outside ±(2^53-1)")
        return True
    if isinstance(value, float):
        raise CanonicalEncodingError(f"{path}: floats are not allowed (use integers)")
    plain = True
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            plain = _check(item, f"{path}[{i}]") and plain
        return plain
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalEncodingError(f"{path}: object key {key!r} is not a string")
            plain = _check(item, f"{path}.{key}") and plain and _key_is_plain(key)
        return plain
    raise CanonicalEncodingError(f"{path}: {type(value).__name__} is not a JSON value")


def _encode(value: JsonValue, *, plain: bool) -> bytes:
    """JCS bytes: ``orjson`` where keys are plain, else (or if it declines) rfc8785."""
    if plain:
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # rfc8785 gives the bytes, or the reason there are none
    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, UnicodeError, ValueError) as exc:
        raise CanonicalEncodingError(f"cannot canonicalise: {exc}") from None


def canonical_bytes(value: JsonValue) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of a JSON value (no floats)."""
    try:
        plain = _scan(value)
    except _Unusual:
        plain = _check(value, "$")  # names the offending path, or accepts subclasses
    return _encode(value, plain=plain)


def _reject_float(text: str) -> float:
    raise CanonicalEncodingError(f"number {text} is not an integer")


def _reject_constant(text: str) -> float:
    raise CanonicalEncodingError(f"{text} is not valid JSON")


def _no_duplicates(pairs: list[tuple[str, JsonValue]]) -> dict[str, JsonValue]:
    result: dict[str, JsonValue] = {}
    for key, value in pairs:
        if key in result:
            raise CanonicalEncodingError(f"duplicate object key {key!r}")
        result[key] = value
    return result


def parse_json(data: bytes | str) -> JsonValue:
    """Parse JSON strictly: no floats, no NaN/Infinity, no duplicate keys."""
    try:
        return json.loads(
            data,
            parse_float=_reject_float,
            parse_constant=_reject_constant,
            object_pairs_hook=_no_duplicates,
        )
    except CanonicalEncodingError:
        raise
    except (ValueError, UnicodeError) as exc:
        raise CanonicalEncodingError(f"not valid JSON: {exc}") from None


def _safe_int(text: str) -> int:
    value = int(text)
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise CanonicalEncodingError(f"integer {text} is outside ±(2^53-1)")
    return value


def parse_for_comparison(data: bytes) -> JsonValue:
    """Parse JSON that the caller will compare with its re-encoding (see below).

    Floats, NaN and integers beyond ±(2^53-1) are refused while parsing;
    duplicate keys and any other non-canonical form cannot survive the
    comparison with :func:`canonical_bytes_of_parsed`, so the caller must make it.
    """
    try:
        return json.loads(
            data, parse_float=_reject_float, parse_int=_safe_int, parse_constant=_reject_constant
        )
    except CanonicalEncodingError:
        raise
    except (ValueError, UnicodeError) as exc:
        raise CanonicalEncodingError(f"not valid JSON: {exc}") from None


def canonical_bytes_of_parsed(value: JsonValue, source: bytes) -> bytes:
    """JCS of (part of) a value that :func:`parse_for_comparison` returned from ``source``.

    Such a value holds only dicts, lists, strings, safe integers, booleans and
    null, so the type scan is skipped. The standard encoder's path is taken
    when no character of ``source`` is at or above U+D800; a key that reached
    that range through an escape makes the comparison fail, as it should,
    since JCS never writes such an escape.
    """
    plain = source.isascii() or max(source.decode("utf-8")) < "\ud800"
    return _encode(value, plain=plain)


def parse_canonical(data: bytes) -> JsonValue:
    """Parse bytes that must already be canonical; refuse any other encoding of the value."""
    value = parse_for_comparison(data)
    if canonical_bytes_of_parsed(value, data) != data:
        raise CanonicalEncodingError("bytes are valid JSON but not in RFC 8785 canonical form")
    return value
