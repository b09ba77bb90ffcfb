"""Lot labels decode, with an independent reader, to exactly the URL they were made for.

PNGs are read as rendered, and again after noise and a smudge over the data
region; PDF sheets are rasterised with pdfium and cut into their grid cells;
the SVG's QR path is parsed back and compared with the module matrix.
"""

from __future__ import annotations

import io
import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

from ledger.labels.render import (
    ERROR_CORRECTION,
    GRIDS,
    Grid,
    Label,
    grid,
    label_png,
    label_svg,
    qr_matrix,
    qr_svg,
    sheet_pdf,
)

SHORT_URL = "https://tizbek.example/l/7T5T00013"
GS1_URL = "https://id.tizbek.example/8004/9520123456789T5T00013"
SVG = "{http://www.w3.org/2000/svg}"
FONTS = Path(__file__).parents[2] / "ledger" / "labels" / "fonts"
DPI = 300

COLLECTORS = {
    "en": "Tizbek Collect LLP",
    "ru": "ТОО «Экология Алматы»",
    "kk": "«Қазақ Ұқсату Өңдеу Һәм Ғылым» ЖШС",
}


def _decode(image: Image.Image) -> list[str]:
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def _png(label: Label, size_mm: tuple[float, float] = (70.0, 37.0)) -> Image.Image:
    image = Image.open(io.BytesIO(label_png(label, dpi=DPI, size_mm=size_mm)))
    image.load()
    return image


# --- 1. PNG decodes -----------------------------------------------------------


@pytest.mark.parametrize("url", [SHORT_URL, GS1_URL])
def test_png_decodes_to_the_url(url: str) -> None:
    image = _png(Label(url=url, lot="7T5T00013", collector="Tizbek Collect LLP"))
    assert image.size == (827, 437)  # 70 x 37 mm at 300 dpi
    assert _decode(image) == [url]


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_png_decodes_in_each_language(lang: str) -> None:
    label = Label(
        url=GS1_URL,
        lot="7T5T00013",
        collector=COLLECTORS[lang],
        category="4 · Large equipment",
        leaf="a1b2c3d4",
        lang=lang,
    )
    assert _decode(_png(label)) == [GS1_URL]


# --- 2. Noise and a smudge ------------------------------------------------------


def _add_noise(image: Image.Image, seed: int) -> Image.Image:
    """Gaussian noise (sigma 40) on every pixel, then 3 % salt-and-pepper."""
    rng = random.Random(seed)
    pixels = bytearray(image.convert("L").tobytes())
    for i, value in enumerate(pixels):
        noisy = value + rng.gauss(0.0, 40.0)
        if rng.random() < 0.03:
            noisy = rng.choice((0, 255))
        pixels[i] = max(0, min(255, round(noisy)))
    return Image.frombytes("L", image.size, bytes(pixels))


def _symbol_box(image: Image.Image) -> tuple[int, int, int, int]:
    """The QR symbol's bounding box (without quiet zone), as the reader locates it."""
    (barcode,) = zxingcpp.read_barcodes(image)
    corners = [
        barcode.position.top_left,
        barcode.position.top_right,
        barcode.position.bottom_right,
        barcode.position.bottom_left,
    ]
    xs, ys = [p.x for p in corners], [p.y for p in corners]
    return min(xs), min(ys), max(xs) + 1, max(ys) + 1


def _smudge_mask(size: tuple[int, int], box: tuple[int, int, int, int]) -> Image.Image:
    """An elliptic blob over the data region of the symbol in ``box``, about 11 % of its area."""
    x0, y0, x1, _ = box
    side = x1 - x0
    cx, cy = x0 + 0.55 * side, y0 + 0.5 * side
    rx, ry = 0.22 * side, 0.16 * side  # pi * 0.22 * 0.16 = 0.1106 of the symbol
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255)
    return mask


def _count(mask: Image.Image, box: tuple[int, int, int, int]) -> int:
    return mask.crop(box).histogram()[255]


def test_png_survives_noise_and_a_ten_percent_smudge() -> None:
    label = Label(url=GS1_URL, lot="7T5T00013", collector=COLLECTORS["kk"], lang="kk")
    clean = _png(label)
    box = _symbol_box(clean)
    x0, y0, x1, y1 = box
    symbol_area = (x1 - x0) * (y1 - y0)
    modules = len(qr_matrix(GS1_URL)) - 8  # symbol width in modules, quiet zone excluded
    finder = round(8 * (x1 - x0) / modules)  # a finder pattern with its separator

    mask = _smudge_mask(clean.size, box)
    # The blob lies within the symbol, covers at least 10 % of it and spares the finders.
    assert _count(mask, box) == _count(mask, (0, 0, *clean.size))
    assert _count(mask, box) >= 0.10 * symbol_area
    for fx, fy in ((x0, y0), (x1 - finder, y0), (x0, y1 - finder)):
        assert _count(mask, (fx, fy, fx + finder, fy + finder)) == 0

    dirty = _add_noise(clean, seed=20240601)
    dirty.paste(0, mask=mask)
    # The smudge is opaque: every pixel under it is black, whatever the module was.
    under = Image.new("L", clean.size, 255)
    under.paste(dirty, mask=mask)
    assert under.crop(box).histogram()[0] == _count(mask, box)
    # And it hides real information: a good share of what it covers was light modules.
    covered = Image.new("L", clean.size, 0)
    covered.paste(clean, mask=mask)
    assert covered.histogram()[255] >= 0.3 * _count(mask, box)
    assert _decode(dirty) == [GS1_URL]


def test_the_smudge_defeats_low_error_correction(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same smudge on a level-L symbol is unreadable, so the test above means something."""
    assert ERROR_CORRECTION == "H"
    monkeypatch.setattr("ledger.labels.render.ERROR_CORRECTION", "L")
    label = Label(url=GS1_URL, lot="7T5T00013", collector="Tizbek Collect LLP")
    clean = _png(label)
    assert _decode(clean) == [GS1_URL]
    smudged = clean.copy()
    smudged.paste(0, mask=_smudge_mask(clean.size, _symbol_box(clean)))
    assert _decode(smudged) == []


# --- 3. PDF sheets ------------------------------------------------------------


def _sheet_labels(count: int) -> list[Label]:
    return [
        Label(
            url=f"https://tizbek.example/l/7T5T{i:04d}{i % 10}",
            lot=f"7T5T{i:04d}{i % 10}",
            collector=COLLECTORS[("en", "ru", "kk")[i % 3]],
            category="4 · Large equipment" if i % 2 else None,
            weight="12.5 kg" if i % 4 == 1 else None,
            leaf="a1b2c3d4" if i % 5 == 2 else None,
            lang=("en", "ru", "kk")[i % 3],
        )
        for i in range(count)
    ]


def _cells(page: Image.Image, layout: Grid) -> list[Image.Image]:
    """Each grid cell of a rasterised A4 page, row by row."""
    px = DPI / 25.4
    cells = []
    for row in range(layout.rows):
        for col in range(layout.cols):
            left = layout.margin_left + col * (layout.label_w + layout.gap_x)
            top = layout.margin_top + row * (layout.label_h + layout.gap_y)
            right, bottom = left + layout.label_w, top + layout.label_h
            cells.append(page.crop((left * px, top * px, right * px, bottom * px)))
    return cells


def _read_sheet(pdf: bytes, layout: Grid) -> tuple[int, list[list[str]]]:
    """Page count, and what each cell on each page decodes to, in cell order."""
    document = pdfium.PdfDocument(pdf)
    try:
        found: list[list[str]] = []
        for page in document:
            image = page.render(scale=DPI / 72).to_pil()
            assert image.size in {(2480, 3508), (2481, 3508)}  # A4 at 300 dpi
            found.extend(_decode(cell) for cell in _cells(image, layout))
        return len(document), found
    finally:
        document.close()


@pytest.mark.parametrize(
    ("spec", "count", "pages"), [("3x8", 24, 1), ("2x7", 14, 1), ("3x8", 30, 2)]
)
def test_pdf_sheet_cells_decode_in_order(spec: str, count: int, pages: int) -> None:
    labels = _sheet_labels(count)
    layout = grid(spec)
    page_count, found = _read_sheet(sheet_pdf(labels, layout=layout), layout)
    assert page_count == pages
    expected = [[label.url] for label in labels]
    # Cells after the last label on the last page are empty.
    assert found == expected + [[]] * (pages * layout.cols * layout.rows - count)


def test_pdf_sheet_text_uses_the_embedded_dejavu_faces() -> None:
    pdf = sheet_pdf(_sheet_labels(3), layout=GRIDS["2x7"])
    assert b"DejaVuSans-Bold" in pdf
    document = pdfium.PdfDocument(pdf)
    try:
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    for line in ("7T5T 0000 0", COLLECTORS["ru"], COLLECTORS["kk"], "Салмағы ______ кг"):
        assert line in text


def test_pdf_sheet_needs_labels() -> None:
    with pytest.raises(ValueError, match="no labels"):
        sheet_pdf([], layout=GRIDS["3x8"])


# --- 4. SVG -------------------------------------------------------------------

_SQUARE = r"M(\d+) (\d+)h1v1h-1z"


def _svg(label: Label) -> ET.Element:
    return ET.fromstring(label_svg(label))


def _svg_modules(path: ET.Element) -> set[tuple[int, int]]:
    """(row, column) of each unit square in the QR path."""
    d = path.attrib["d"]
    assert re.fullmatch(f"(?:{_SQUARE})+", d)
    return {(int(r), int(c)) for c, r in re.findall(_SQUARE, d)}


def _raster(matrix: list[list[bool]], scale: int = 8) -> Image.Image:
    image = Image.new("L", (len(matrix[0]) * scale, len(matrix) * scale), 255)
    draw = ImageDraw.Draw(image)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                draw.rectangle((c * scale, r * scale, (c + 1) * scale - 1, (r + 1) * scale - 1), 0)
    return image


@pytest.mark.parametrize("url", [SHORT_URL, GS1_URL])
def test_svg_qr_path_is_the_module_matrix(url: str) -> None:
    root = _svg(Label(url=url, lot="7T5T00013", collector="Tizbek Collect LLP"))
    assert root.tag == f"{SVG}svg"
    assert (root.attrib["width"], root.attrib["height"]) == ("70mm", "37mm")
    (path,) = root.iter(f"{SVG}path")
    assert path.attrib["shape-rendering"] == "crispEdges"

    matrix = qr_matrix(url)
    dark = {(r, c) for r, row in enumerate(matrix) for c, d in enumerate(row) if d}
    drawn = _svg_modules(path)
    assert drawn == dark
    # The quiet zone is in the matrix: four light modules on every side.
    n = len(matrix)
    assert all(4 <= r < n - 4 and 4 <= c < n - 4 for r, c in dark)

    rebuilt = [[(r, c) in drawn for c in range(n)] for r in range(n)]
    assert _decode(_raster(rebuilt)) == [url]

    transform = re.fullmatch(r"translate\(\S+ \S+\) scale\((\S+)\)", path.attrib["transform"])
    assert transform is not None
    # Module side times modules: the QR, quiet zone included, is at least 25 mm wide.
    assert float(transform[1]) * n >= 25.0


def test_svg_text_is_escaped_grouped_and_captioned() -> None:
    label = Label(
        url=SHORT_URL + "?a=1&b=<2>",
        lot="7T5T00013",
        collector="Recycle & Co <KZ>",
        weight="12.5 kg",
        lang="ru",
    )
    root = _svg(label)
    texts = {t.text: t.attrib for t in root.iter(f"{SVG}text")}
    assert set(texts) == {"7T5T 0001 3", "Recycle & Co <KZ>", "Вес 12.5 kg", "Дата ________"}
    assert texts["7T5T 0001 3"]["font-weight"] == "bold"
    assert {a["font-family"] for a in texts.values()} == {"DejaVu Sans, sans-serif"}


@pytest.mark.parametrize(
    ("lang", "weight", "date"),
    [
        ("en", "Weight ______ kg", "Date ________"),
        ("ru", "Вес ______ кг", "Дата ________"),
        ("kk", "Салмағы ______ кг", "Күні ________"),
    ],
)
def test_blank_fields_are_captioned_per_language(lang: str, weight: str, date: str) -> None:
    root = _svg(Label(url=SHORT_URL, lot="7T5T00013", collector="X", leaf="a1b2c3d4", lang=lang))
    lines = [t.text for t in root.iter(f"{SVG}text")]
    assert lines == ["7T5T 0001 3", "X", weight, date, "a1b2c3d4"]


# --- 5. Grid specs ------------------------------------------------------------


def test_named_grids() -> None:
    assert grid("3x8") == Grid(3, 8, 70.0, 37.0, margin_left=0.0, margin_top=0.5)
    assert grid("2x7") == Grid(2, 7, 99.1, 38.1, 4.65, 15.15, gap_x=2.5, gap_y=0.0)
    assert GRIDS["3x8"] is grid("3x8")


@pytest.mark.parametrize(
    ("spec", "cols", "rows"), [("4x10", 4, 10), (" 1X1 ", 1, 1), ("10x20", 10, 20)]
)
def test_custom_grids_fill_a4_inside_5mm(spec: str, cols: int, rows: int) -> None:
    g = grid(spec)
    assert (g.cols, g.rows, g.margin_left, g.margin_top, g.gap_x, g.gap_y) == (
        cols,
        rows,
        5,
        5,
        0,
        0,
    )
    assert g.label_w * cols == pytest.approx(200.0)
    assert g.label_h * rows == pytest.approx(287.0)


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("0x8", "at least 1"),
        ("3x0", "at least 1"),
        ("-1x8", "at least 1"),
        ("3x-2", "at least 1"),
        ("11x8", "at most 10x20"),
        ("3x21", "at most 10x20"),
        ("", "expected COLSxROWS"),
        ("three by eight", "expected COLSxROWS"),
        ("3x", "expected COLSxROWS"),
        ("3x8x2", "expected COLSxROWS"),
        ("3.5x8", "expected COLSxROWS"),
    ],
)
def test_bad_grid_specs(spec: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        grid(spec)
    assert "\n" not in str(caught.value)


# --- 6. Language and overflow -------------------------------------------------


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown label language 'de'"):
        Label(url=SHORT_URL, lot="7T5T00013", collector="X", lang="de")


def test_url_must_be_http_or_https() -> None:
    with pytest.raises(ValueError, match="http"):
        Label(url="ftp://tizbek.example/l/7T5T00013", lot="7T5T00013", collector="X")


LONG_NAME = (
    "Товарищество с ограниченной ответственностью "
    "«Қазақстан Электрондық Қалдықтар Өңдеу Орталығы» Алматы филиалы"
)


def test_long_collector_name_is_truncated_not_overflowing() -> None:
    label = Label(url=GS1_URL, lot="7T5T00013", collector=LONG_NAME, lang="ru")
    image = _png(label)
    assert _decode(image) == [GS1_URL]
    # Nothing is drawn in the 1.5 mm strip along the right edge.
    strip = round(1.5 / 25.4 * DPI)
    assert image.crop((image.width - strip, 0, image.width, image.height)).getextrema() == (
        255,
        255,
    )

    (name,) = [t for t in _svg(label).iter(f"{SVG}text") if t.text and t.text.startswith("Това")]
    assert name.text is not None
    assert name.text.endswith("…")
    assert LONG_NAME.startswith(name.text[:-1].rstrip())
    # Measured with the same font, the printed name ends inside the 70 mm label.
    size = float(name.attrib["font-size"])
    font = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 100.0)
    width = font.getlength(name.text) / 100.0 * size
    assert float(name.attrib["x"]) + width <= 70.0 - 1.5


def test_bare_qr_svg_for_screens_decodes_to_its_url() -> None:
    url = "https://scan.tizbek.kz/l/7T5T00013?share=1800000000.abcdefghijklmnopqrstuv"
    root = ET.fromstring(qr_svg(url))
    (path,) = root.iter(f"{SVG}path")
    n = len(qr_matrix(url))
    assert root.attrib["viewBox"] == f"0 0 {n} {n}"
    drawn = _svg_modules(path)
    assert _decode(_raster([[(r, c) in drawn for c in range(n)] for r in range(n)])) == [url]
