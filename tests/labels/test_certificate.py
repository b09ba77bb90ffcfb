"""The certificate of recycling: its QR code, read back from the rasterised PDF, holds the URL
where the treatment entry is checked, and its text states the lot, the parties, the weights,
the operation, the fractions and the entry and checkpoint that prove them, in each language."""

from __future__ import annotations

import dataclasses

import pypdfium2 as pdfium
import pytest
import zxingcpp

from api.web import treatment
from ledger.labels.certificate import WORDS, Certificate, Fraction, certificate_pdf

URL = "https://tizbek.example.kz/l/D3M00000X"
PROOF = "https://tizbek.example.kz/v1/proof/inclusion?seq=14&size=20"
LEAF = "4a152ab95f7b5a60e24588033a0be20e6e43cf92000aa55f4b3f5bc0a584637b"

CERT = Certificate(
    lot="D3M00000X",
    category="6 · Малое ИТ- и телекоммуникационное оборудование",
    waste_code="20 01 35*",
    collector="Almaty Collect LLP (almaty-collect)",
    recycler="Қарағанды Recycling JSC (karaganda-recycling)",
    registered="30 нояб. 2026 г., 16:27:57 UTC",
    received="1 дек. 2026 г., 10:27:57 UTC",
    processed="1 дек. 2026 г., 20:27:57 UTC",
    input_weight="181,9\u00a0кг",
    operation="R4 · восстановление",
    outputs=(
        Fraction("Чёрные металлы", "19 12 02", "61\u00a0кг"),
        Fraction("Печатные платы", "16 02 15*", "18,2\u00a0кг"),
    ),
    total="79,2\u00a0кг",
    origin="tizbek.example.kz/log",
    seq=14,
    leaf_hash=LEAF,
    checkpoint_size=20,
    root_hash="19273fa3e0e11a02d3a68394780f34d005594ef5e50a7b0d2dcd1c47ce85f5ae",
    url=URL,
    proof_url=PROOF,
)


def _pages(pdf: bytes) -> list[tuple[list[str], str]]:
    """Each page's QR codes (rasterised at 200 dpi) and its text."""
    found = []
    document = pdfium.PdfDocument(pdf)
    for page in document:
        image = page.render(scale=200 / 72).to_pil().convert("L")
        codes = [barcode.text for barcode in zxingcpp.read_barcodes(image)]
        found.append((codes, page.get_textpage().get_text_range()))
    return found


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_qr_code_and_the_text_state_the_treatment_and_its_proof(lang: str) -> None:
    words = treatment.certificate_words(lang)
    pages = _pages(certificate_pdf(CERT, words))
    assert len(pages) == 1
    codes, text = pages[0]
    assert codes == [URL]
    flat = " ".join(text.split())
    for shown in (
        CERT.lot,
        CERT.category,
        CERT.collector,
        CERT.recycler,
        CERT.registered,
        CERT.received,
        CERT.processed,
        CERT.operation,
        "Чёрные металлы",
        "16 02 15*",
        "18,2 кг",
        "79,2 кг",
        words["title"],
        words["outputs"],
        PROOF,
        URL,
        CERT.root_hash[:40],
    ):
        assert " ".join(shown.replace("\u00a0", " ").split()) in flat, shown
    # The 64-hex leaf hash may be cut across two lines, never changed.
    assert LEAF in "".join(text.split())
    assert words["checkpoint_value"].format(origin=CERT.origin, size=20) in flat


def test_many_fractions_run_onto_more_pages() -> None:
    many = dataclasses.replace(
        CERT, outputs=tuple(Fraction(f"fraction {n}.", "19 12 12", "1 kg") for n in range(70))
    )
    pages = _pages(certificate_pdf(many, treatment.certificate_words("en")))
    assert len(pages) > 1
    assert [codes for codes, _ in pages] == [[URL]] + [[]] * (len(pages) - 1)
    text = "".join(text for _, text in pages)
    assert all(text.count(f"fraction {n}.") == 1 for n in range(70))
    assert "fraction 0." in pages[0][1]
    assert "fraction 69." not in pages[0][1]
    assert PROOF in " ".join(pages[-1][1].split())


def test_an_entry_outside_the_checkpoint_or_missing_words_are_refused() -> None:
    with pytest.raises(ValueError, match="not in a checkpoint of 14"):
        dataclasses.replace(CERT, checkpoint_size=14)
    with pytest.raises(ValueError, match="http"):
        dataclasses.replace(CERT, url="javascript:alert(1)")
    words = {name: name for name in WORDS if name != "how"}
    with pytest.raises(ValueError, match="how"):
        certificate_pdf(CERT, words)
