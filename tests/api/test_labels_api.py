"""Label endpoints: PNG, SVG and PDF sheets for the organisation the labels were issued to."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image

from ledger.labels import ids
from tests.api.conftest import L1, L2, Api, bearer, register_lot
from tests.storage.logs import block_of


def _decode_pdf(data: bytes) -> list[str]:
    found: list[str] = []
    for page in pdfium.PdfDocument(data):
        found += [r.text for r in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())]
    return found


def test_one_label_as_png_and_svg(api: Api, tokens: dict[str, str]) -> None:
    register_lot(api, L1)
    png = api.client.get(f"/v1/labels/{L1}", headers=bearer(tokens["collector"]))
    assert (png.status_code, png.headers["content-type"]) == (200, "image/png")
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))]
    assert decoded == [f"http://127.0.0.1:8000/l/{L1}"]
    svg = api.client.get(
        f"/v1/labels/{L2}",
        params={"format": "svg", "lang": "kk"},
        headers=bearer(tokens["inspector"]),
    )
    assert svg.headers["content-type"] == "image/svg+xml"
    assert "Салмағы" in svg.text


def test_who_may_print_which_labels(api: Api, tokens: dict[str, str]) -> None:
    register_lot(api, L1)
    assert api.client.get(f"/v1/labels/{L1}").status_code == 401
    assert api.client.get(f"/v1/labels/{L1}", headers=bearer(tokens["other"])).status_code == 404
    assert api.client.get(f"/v1/labels/{L2}", headers=bearer(tokens["other"])).status_code == 404
    typo = L1[:-1] + ("0" if L1[-1] != "0" else "1")
    refused = api.client.get(f"/v1/labels/{typo}", headers=bearer(tokens["collector"]))
    assert (refused.status_code, refused.json()["code"]) == (404, "lot_id")


def test_sheets_of_lots_and_of_a_block(api: Api, tokens: dict[str, str]) -> None:
    register_lot(api, L1)
    sheet = api.client.get(
        "/v1/labels/sheet",
        params={"lot": [L1, L2], "layout": "2x7"},
        headers=bearer(tokens["collector"]),
    )
    assert (sheet.status_code, sheet.headers["content-type"]) == (200, "application/pdf")
    assert sorted(_decode_pdf(sheet.content)) == sorted(
        f"http://127.0.0.1:8000/l/{lot}" for lot in (L1, L2)
    )
    # The other collector's block, issued with 1,000 labels, is too large for one sheet.
    block = block_of("other-collect")
    too_many = api.client.get(f"/v1/labels/blocks/{block}", headers=bearer(tokens["inspector"]))
    assert too_many.status_code == 413
    assert (
        api.client.get(
            f"/v1/labels/blocks/{block}", headers=bearer(tokens["collector"])
        ).status_code
        == 404
    )
    assert api.client.get(
        "/v1/labels/blocks/ZZZZ", headers=bearer(tokens["inspector"])
    ).status_code in (404, 422)


def test_a_fresh_block_prints_whole(api: Api, tokens: dict[str, str]) -> None:
    issued = api.post("kz-eco", "labels.issued", org="almaty-collect", block="TEST", count=24)
    assert issued.status_code == 201, issued.text
    sheet = api.client.get("/v1/labels/blocks/TEST", headers=bearer(tokens["collector"]))
    assert sheet.status_code == 200
    assert sorted(_decode_pdf(sheet.content)) == sorted(
        f"http://127.0.0.1:8000/l/{ids.make('TEST', n)}" for n in range(24)
    )
