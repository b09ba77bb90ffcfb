"""Canonical bytes (RFC 8785) and strict JSON parsing."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

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


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(
            st.text(st.characters(exclude_categories=["Cs"]), max_size=4), inner, max_size=5
        )
    ),
    max_leaves=30,
)


@settings(max_examples=600, deadline=None)
@given(value=_json)
def test_fast_path_equals_rfc8785(value: Any) -> None:
    assert canonical_bytes(value) == bytes(rfc8785.dumps(value))


def _nested(depth: int) -> Any:
    """An object nested in ``depth`` arrays (orjson refuses more than 254 levels)."""
    value: Any = {"a": 1}
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value",
    [
        {"\ue000": 1, "\U0001f600": 2, "a": 3},
        {"\x00\x1f\x7f": '\x08\x0c\n\r\t\x01\u2028\u2029"\\/'},
        {"": "", "k": [0, -0, 1, -(2**53 - 1)]},
        _nested(300),
    ],
    ids=["private-use-vs-astral-keys", "escapes", "empty-and-ints", "nested-300-deep"],
)
def test_known_tricky_values_match_rfc8785(value: Any) -> None:
    assert canonical_bytes(value) == bytes(rfc8785.dumps(value))


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(CanonicalEncodingError):
        canonical_bytes({"s": "\ud800"})


@pytest.mark.parametrize(
    "text",
    [
        '{"\\ue000":1,"\\ud83d\\ude00":2}',
        '{"\ue000":1,"\U0001f600":2}',
        '{"a":9007199254740992}',
        '{"a":1.0}',
        '{"a":1,"a":1}',
        '{"s":"\\ud800"}',
    ],
    ids=[
        "escaped-keys",
        "raw-keys-in-code-point-order",
        "big-int",
        "float",
        "dup",
        "lone-surrogate",
    ],
)
def test_parse_canonical_refuses_tricky_inputs(text: str) -> None:
    with pytest.raises(CanonicalEncodingError):
        parse_canonical(text.encode())


def test_parse_canonical_accepts_utf16_order_of_astral_keys() -> None:
    text = '{"\U0001f600":2,"\ue000":1}'.encode()
    assert parse_canonical(text) == {"\ue000": 1, "\U0001f600": 2}


@settings(max_examples=400, deadline=None)
@given(value=_json)
def test_parse_canonical_round_trips_rfc8785(value: Any) -> None:
    data = bytes(rfc8785.dumps(value))
    assert parse_canonical(data) == value
