"""Share links work for their lot and their time only."""

from __future__ import annotations

import pytest

from ledger.keys import SigningKey
from ledger.share import ShareLinkError, ShareLinks

NOW = 1_800_000_000


def test_a_link_works_for_its_lot_until_it_expires() -> None:
    links = ShareLinks.for_log(SigningKey.generate())
    token = links.make("D3M00000X", minutes=30, now=NOW)
    assert links.check(token, "D3M00000X", now=NOW + 60) == NOW + 1800
    with pytest.raises(ShareLinkError, match="expired"):
        links.check(token, "D3M00000X", now=NOW + 1800)
    with pytest.raises(ShareLinkError, match="not valid for this lot"):
        links.check(token, "D3M00001V", now=NOW)


def test_links_cannot_be_stretched_or_forged() -> None:
    key = SigningKey.generate()
    links = ShareLinks.for_log(key)
    token = links.make("D3M00000X", now=NOW)
    expires, mac = token.split(".")
    with pytest.raises(ShareLinkError, match="not valid"):
        links.check(f"{int(expires) + 3600}.{mac}", "D3M00000X", now=NOW)
    other = ShareLinks.for_log(SigningKey.generate())
    with pytest.raises(ShareLinkError, match="not valid"):
        other.check(token, "D3M00000X", now=NOW)
    # Another worker of the same log accepts it.
    assert ShareLinks.for_log(SigningKey.from_seed(key.private_bytes())).check(
        token, "D3M00000X", now=NOW
    )
    for bad in ("", "x.y", "12", ".abc", "99999999999999.abc"):
        with pytest.raises(ShareLinkError, match="malformed"):
            links.check(bad, "D3M00000X", now=NOW)
    with pytest.raises(ShareLinkError, match="1 to 1440 minutes"):
        links.make("D3M00000X", minutes=0)
