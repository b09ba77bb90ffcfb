"""GS1 check digits and Digital Links."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import LotIdError
from ledger.labels import gs1, ids


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("952012345678912345", True),  # SSCC, GS1's example
        ("9520123456788", True),  # GLN, GS1's example
        ("952012345678912346", False),
        ("9520123456789", False),
        ("4006381333931", True),  # a GTIN-13 printed on retail goods
    ],
)
def test_check_digits_match_gs1_examples(key: str, valid: bool) -> None:
    assert gs1.valid_check_digit(key) is valid


def test_sscc_is_built_with_its_check_digit() -> None:
    assert gs1.sscc(9, "5201234", 567891234) == "952012345678912345"
    with pytest.raises(LotIdError, match="does not fit"):
        gs1.sscc(0, "5201234", 10**9)
    with pytest.raises(LotIdError, match="prefix"):
        gs1.sscc(0, "12", 1)


@given(st.integers(0, 9), st.integers(0, 10**9 - 1))
def test_sscc_links_parse_back_to_the_same_key(extension: int, serial: int) -> None:
    key = gs1.sscc(extension, "5201234", serial)
    link = gs1.DigitalLink("00", key).url("https://id.tizbek.kz")
    assert link == f"https://id.tizbek.kz/00/{key}"
    assert gs1.parse_link(link) == gs1.DigitalLink("00", key)


@given(st.text(alphabet=ids.ALPHABET, min_size=4, max_size=4), st.integers(0, 10_000))
def test_giai_links_parse_back_to_the_same_lot(block: str, serial: int) -> None:
    lot = ids.make(block, serial)
    key = gs1.giai("9520123", lot)
    link = gs1.DigitalLink("8004", key).url("https://id.tizbek.kz/")
    assert gs1.parse_link(link) == gs1.DigitalLink("8004", "9520123" + lot)


@pytest.mark.parametrize(
    "url",
    [
        "https://id.tizbek.kz/00/952012345678912346",  # bad check digit
        "https://id.tizbek.kz/00/95201234567891234",  # 17 digits
        "https://id.tizbek.kz/10/ABC",  # batch is not a lot key
        "https://id.tizbek.kz/8004/12AB",  # no company prefix
        "ftp://id.tizbek.kz/00/952012345678912345",
        "https://id.tizbek.kz/8004",
    ],
)
def test_bad_links_are_refused(url: str) -> None:
    with pytest.raises(LotIdError):
        gs1.parse_link(url)
