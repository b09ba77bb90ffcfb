"""Canonical bytes (RFC 8785) and strict JSON parsing."""

from __future__ import annotations

import pytest

from ledger.canonical import MAX_SAFE_INTEGER, canonical_bytes, parse_canonical, parse_json
from ledger.errors import CanonicalEncodingError


def test_keys_sorted_no_whitespace_utf8() -> None:
    value = {"b": 1, "a": [True, None, "Тізбек"], "é": "\u0007"}
    assert canonical_bytes(value) == '{"a":[true,null,"Тізбек"],"b":1,"é":"\\u0007"}'.encode()


def test_keys_sort_by_utf16_code_units() -> None:
    # U+1F600 (surrogates D83D DE00) sorts before U+FB01 in UTF-16, after it in code points.
    assert canonical_bytes({"\ufb01": 1, "\U0001f600": 2}) == (
        '{"\U0001f600":2,"\ufb01":1}'.encode()
    )


@pytest.mark.parametrize(
    "value",
    [1.5, {"w": 2.0}, MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, {1: "x"}, b"bytes", {"s": {1}}],
    ids=["float", "nested-float", "too-big", "too-small", "int-key", "bytes", "set"],
)
def test_refuses_what_json_cannot_carry_exactly(value: object) -> None:
    with pytest.raises(CanonicalEncodingError):
        canonical_bytes(value)


@pytest.mark.parametrize(
    "text",
    ['{"a":1,"a":2}', '{"w":1.0}', "[NaN]", "{", '{"w":1e3}'],
    ids=["duplicate-key", "float", "nan", "truncated", "exponent"],
)
def test_strict_parse_refuses(text: str) -> None:
    with pytest.raises(CanonicalEncodingError):
        parse_json(text)


def test_parse_canonical_refuses_other_encodings_of_the_same_value() -> None:
    assert parse_canonical(b'{"a":1,"b":2}') == {"a": 1, "b": 2}
    for text in [b'{"b":2,"a":1}', b'{"a": 1,"b":2}', b'{"a":1,"b":2}\n', b'{"a":"\\u0041"}']:
        with pytest.raises(CanonicalEncodingError):
            parse_canonical(text)
