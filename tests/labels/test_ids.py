"""Lot ids: every single-character error and adjacent swap fails the check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import LotIdError
from ledger.labels import ids

blocks = st.text(alphabet=ids.ALPHABET, min_size=4, max_size=4)
serials = st.integers(0, ids.BLOCK_SIZE - 1)


@given(blocks, serials)
def test_made_ids_check_and_split_back(block: str, serial: int) -> None:
    lot = ids.make(block, serial)
    assert len(lot) == ids.ID_LEN <= 16
    assert ids.normalise(lot) == lot
    assert ids.split(lot) == (block, serial)


@given(blocks, serials, st.data())
def test_every_single_substitution_is_caught(block: str, serial: int, data: st.DataObject) -> None:
    lot = ids.make(block, serial)
    position = data.draw(st.integers(0, ids.ID_LEN - 1))
    for other in ids.ALPHABET:
        if other == lot[position]:
            continue
        typo = lot[:position] + other + lot[position + 1 :]
        with pytest.raises(LotIdError, match="failed its check character"):
            ids.normalise(typo)


@given(blocks, serials)
def test_every_adjacent_transposition_is_caught(block: str, serial: int) -> None:
    lot = ids.make(block, serial)
    for i in range(ids.ID_LEN - 1):
        if lot[i] == lot[i + 1]:
            continue
        swapped = lot[:i] + lot[i + 1] + lot[i] + lot[i + 2 :]
        with pytest.raises(LotIdError, match="failed its check character"):
            ids.normalise(swapped)


def test_exhaustive_over_one_block_of_serials() -> None:
    """Not only random ids: every substitution and swap over 2,000 consecutive ids."""
    for serial in range(2_000):
        lot = ids.make("K7M2", serial)
        for i in range(ids.ID_LEN):
            for other in ids.ALPHABET:
                if other != lot[i]:
                    assert not ids.is_lot_id(lot[:i] + other + lot[i + 1 :])
            if i + 1 < ids.ID_LEN and lot[i] != lot[i + 1]:
                assert not ids.is_lot_id(lot[:i] + lot[i + 1] + lot[i] + lot[i + 2 :])


def test_typed_forms_are_read_back() -> None:
    lot = ids.make("7T5T", 1)
    grouped = ids.grouped(lot)
    assert grouped == f"{lot[:4]} {lot[4:8]} {lot[8]}"
    assert ids.normalise(grouped.lower()) == lot
    assert ids.normalise(f"{lot[:4]}-{lot[4:8]}-{lot[8]}") == lot
    # Letters people write for digits are read as those digits.
    zero = ids.make("A0B1", 10)
    assert ids.normalise(zero.replace("0", "O").replace("1", "l")) == zero


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("7T5T0001", "must have 9 characters"),
        ("7T5T000133", "must have 9 characters"),
        ("7T5T0001Z", "never use: Z"),
        ("7T5T0001#", "never use: #"),
        ("", "must have 9 characters"),
    ],
)
def test_malformed_ids_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(LotIdError, match=message):
        ids.normalise(text)


def test_make_refuses_what_cannot_be_an_id() -> None:
    with pytest.raises(LotIdError):
        ids.make("ZZZZ", 1)
    with pytest.raises(LotIdError):
        ids.make("AAAA", ids.BLOCK_SIZE)
    assert ids.BLOCK_RE.match(ids.random_block())
