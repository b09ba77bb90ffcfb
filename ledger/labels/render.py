"""Stickers for physical e-waste lots, as PNG, SVG or a printable A4 PDF sheet.

A label carries, left to right, a QR code holding the lot's URL (error
correction level H, because stickers on scrap get dirty and scratched) and a
column of text: the lot id in large bold type, the collector's name, the WEEE
category when known, two fields to fill in by hand (weight and date) and the
short leaf hash of the ledger entry when known.

All three formats share one layout (:func:`_layout`), computed in millimetres
from the label's top-left corner; each renderer only converts it to its own
units. Text is measured with the vendored DejaVu fonts, which also cover the
Russian and Kazakh captions and collector names.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from ledger import i18n
from ledger.labels import ids

__all__ = [
    "ERROR_CORRECTION",
    "GRIDS",
    "Grid",
    "Label",
    "grid",
    "label_png",
    "label_svg",
    "qr_matrix",
    "qr_svg",
    "sheet_pdf",
]

FONT_DIR = Path(__file__).with_name("fonts")
REGULAR_TTF = FONT_DIR / "DejaVuSans.ttf"
BOLD_TTF = FONT_DIR / "DejaVuSans-Bold.ttf"

A4_MM = (210.0, 297.0)
MM_PER_INCH = 25.4

#: QR error correction level; H restores up to about 30 % of damaged codewords.
ERROR_CORRECTION: str = "H"
_QR_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
QUIET_ZONE = 4  # modules of white around the symbol, as ISO/IEC 18004 requires

#: Field captions per label language: weight, date, kilogram unit.
CAPTIONS: dict[str, tuple[str, str, str]] = {
    lang: (i18n.t(lang, "label.weight"), i18n.t(lang, "label.date"), i18n.t(lang, "unit.kg"))
    for lang in i18n.LANGUAGES
}
ELLIPSIS = "…"
#: Labels one sheet request renders at most (twenty 3x8 pages).
MAX_SHEET = 480


@dataclass(frozen=True)
class Label:
    """What one sticker shows. Text fields are printed as given (already localised)."""

    url: str
    lot: str
    collector: str
    category: str | None = None
    weight: str | None = None
    leaf: str | None = None
    lang: str = "en"

    def __post_init__(self) -> None:
        # Deployments print https URLs; a demo on loopback prints http ones.
        if not self.url.startswith(("https://", "http://")):
            raise ValueError(f"label URL must be an http(s) URL, got {self.url!r}")
        if not "".join(self.lot.split()):
            raise ValueError("label lot id is empty")
        if self.lang not in CAPTIONS:
            known = ", ".join(sorted(CAPTIONS))
            raise ValueError(f"unknown label language {self.lang!r} (expected one of {known})")


@dataclass(frozen=True)
class Grid:
    """A sheet of labels on A4 (all lengths in millimetres)."""

    cols: int
    rows: int
    label_w: float
    label_h: float
    margin_left: float
    margin_top: float
    gap_x: float = 0.0
    gap_y: float = 0.0

    def __post_init__(self) -> None:
        if self.cols < 1 or self.rows < 1 or self.label_w <= 0 or self.label_h <= 0:
            raise ValueError("a label grid needs at least one cell of positive size")
        right = self.margin_left + self.cols * self.label_w + (self.cols - 1) * self.gap_x
        bottom = self.margin_top + self.rows * self.label_h + (self.rows - 1) * self.gap_y
        if right > A4_MM[0] + 0.01 or bottom > A4_MM[1] + 0.01:
            raise ValueError(f"label grid {self.cols}x{self.rows} does not fit on A4")

    def cell_origin(self, index: int) -> tuple[float, float]:
        """Top-left corner (mm from the page's top-left) of cell ``index`` on its page."""
        row, col = divmod(index % (self.cols * self.rows), self.cols)
        return (
            self.margin_left + col * (self.label_w + self.gap_x),
            self.margin_top + row * (self.label_h + self.gap_y),
        )


GRIDS: dict[str, Grid] = {
    # 24 labels of 70 x 37 mm, edge to edge across the page, centred vertically.
    "3x8": Grid(3, 8, 70.0, 37.0, margin_left=0.0, margin_top=(A4_MM[1] - 8 * 37.0) / 2),
    # 14 labels of 99.1 x 38.1 mm (the common "L7163" layout).
    "2x7": Grid(2, 7, 99.1, 38.1, margin_left=4.65, margin_top=15.15, gap_x=2.5, gap_y=0.0),
}
CUSTOM_MARGIN = 5.0
MAX_COLS, MAX_ROWS = 10, 20
_SPEC_RE = re.compile(r"\s*([+-]?\d+)\s*x\s*([+-]?\d+)\s*", re.IGNORECASE)


def grid(spec: str) -> Grid:
    """The grid named ``spec``: one of :data:`GRIDS`, or ``COLSxROWS`` filling A4 inside 5 mm."""
    if spec in GRIDS:
        return GRIDS[spec]
    match = _SPEC_RE.fullmatch(spec)
    if match is None:
        raise ValueError(f"bad label grid {spec!r}: expected COLSxROWS, for example 3x8")
    cols, rows = int(match[1]), int(match[2])
    if cols < 1 or rows < 1:
        raise ValueError(f"bad label grid {spec!r}: columns and rows must be at least 1")
    if cols > MAX_COLS or rows > MAX_ROWS:
        raise ValueError(f"bad label grid {spec!r}: at most {MAX_COLS}x{MAX_ROWS} labels a page")
    return Grid(
        cols,
        rows,
        label_w=(A4_MM[0] - 2 * CUSTOM_MARGIN) / cols,
        label_h=(A4_MM[1] - 2 * CUSTOM_MARGIN) / rows,
        margin_left=CUSTOM_MARGIN,
        margin_top=CUSTOM_MARGIN,
    )


def qr_matrix(url: str) -> list[list[bool]]:
    """The QR modules for ``url``, rows top to bottom, with the quiet zone; True is dark."""
    code = qrcode.QRCode(error_correction=_QR_LEVELS[ERROR_CORRECTION], border=QUIET_ZONE)
    code.add_data(url)
    code.make(fit=True)
    return [[bool(module) for module in row] for row in code.get_matrix()]


# --- Layout -----------------------------------------------------------------

QR_MARGIN = 1.0  # mm between the label edge and the QR (its quiet zone is extra)
TEXT_MARGIN = 2.0  # mm kept clear of text at the label's top, right and bottom
QR_MAX_SHARE = 0.55  # the QR never takes more than this share of the label width
LINE_BOX = 1.25  # a line's height, in ems
ASCENT = 0.95  # baseline below a line's top, in ems


@dataclass(frozen=True)
class _Text:
    x: float  # left end of the baseline, mm
    y: float  # baseline, mm from the label's top
    size: float  # em size, mm
    text: str
    bold: bool


@dataclass(frozen=True)
class _Layout:
    qr_x: float
    qr_y: float
    module: float  # side of one QR module, mm
    matrix: list[list[bool]]
    texts: tuple[_Text, ...]


@dataclass(frozen=True)
class _Line:
    text: str
    size: float  # wanted em size, mm
    min_size: float  # below this the text is truncated instead of shrunk
    bold: bool = False
    may_truncate: bool = True


@lru_cache(maxsize=64)
def _pil_font(bold: bool, size: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(BOLD_TTF if bold else REGULAR_TTF), size)


def _em_width(text: str, bold: bool) -> float:
    """Advance width of ``text`` in ems of the DejaVu face."""
    reference = 1000.0
    return _pil_font(bold, reference).getlength(text) / reference


def _truncate(text: str, bold: bool, ems: float) -> str:
    """The longest prefix of ``text`` that, followed by an ellipsis, is at most ``ems`` wide."""
    for end in range(len(text) - 1, 0, -1):
        candidate = text[:end].rstrip() + ELLIPSIS
        if _em_width(candidate, bold) <= ems:
            return candidate
    return ELLIPSIS


def _fit(line: _Line, width: float) -> tuple[str, float]:
    """Text and em size of ``line`` within ``width`` mm: shrink, then truncate with "…"."""
    ems = _em_width(line.text, line.bold)
    size = min(line.size, width / ems) if ems > 0 else line.size
    if size >= line.min_size or not line.may_truncate:
        return line.text, size
    return _truncate(line.text, line.bold, width / line.min_size), line.min_size


def group_lot(lot: str) -> str:
    """The lot id as printed: ``7T5T00013`` becomes ``7T5T 0001 3``."""
    bare = "".join(lot.split()).replace("-", "").upper()
    if ids.is_lot_id(bare):
        return ids.grouped(bare)
    return " ".join(bare[i : i + 4] for i in range(0, len(bare), 4))


def _lines(label: Label, h: float) -> list[_Line]:
    """The text column top to bottom, with sizes relative to the label height ``h``."""
    weight, date, kg = CAPTIONS[label.lang]
    lines = [
        _Line(group_lot(label.lot), 0.2 * h, 0.0, bold=True, may_truncate=False),
        _Line(label.collector, 0.09 * h, 0.065 * h),
    ]
    if label.category:
        lines.append(_Line(label.category, 0.08 * h, 0.06 * h))
    weight_text = f"{weight} {label.weight}" if label.weight else f"{weight} ______ {kg}"
    lines.append(_Line(weight_text, 0.085 * h, 0.06 * h))
    lines.append(_Line(f"{date} ________", 0.085 * h, 0.06 * h))
    if label.leaf:
        lines.append(_Line(label.leaf, 0.06 * h, 0.05 * h))
    return lines


def _layout(label: Label, w: float, h: float) -> _Layout:
    """Where everything on a ``w`` x ``h`` mm label goes, in mm from its top-left corner."""
    if w <= 0 or h <= 0:
        raise ValueError(f"label size must be positive, got {w} x {h} mm")
    matrix = qr_matrix(label.url)
    side = min(h - 2 * QR_MARGIN, QR_MAX_SHARE * w)
    if side <= 0:
        raise ValueError(f"a {w} x {h} mm label is too small for a QR code")
    qr_x, qr_y = QR_MARGIN, (h - side) / 2
    # The quiet zone inside the matrix already separates the text from the symbol.
    text_x = qr_x + side
    width = max(w - TEXT_MARGIN - text_x, 1e-3)
    height = h - 2 * TEXT_MARGIN

    lines = _lines(label, h)
    fitted = [_fit(line, width) for line in lines]
    needed = sum(LINE_BOX * size for _, size in fitted)
    scale = min(1.0, height / needed)
    fitted = [(text, size * scale) for text, size in fitted]
    # Spare height goes between the lines (room to write by hand), at most one em each.
    spare = height - needed * scale
    gaps = len(fitted) - 1
    extra = spare / gaps if gaps else 0.0

    texts: list[_Text] = []
    top = TEXT_MARGIN
    for (text, size), line in zip(fitted, lines, strict=True):
        texts.append(_Text(text_x, top + ASCENT * size, size, text, line.bold))
        top += LINE_BOX * size + min(extra, size)
    return _Layout(qr_x, qr_y, side / len(matrix), matrix, tuple(texts))


# --- PNG --------------------------------------------------------------------


def label_png(
    label: Label, *, dpi: int = 300, size_mm: tuple[float, float] = (70.0, 37.0)
) -> bytes:
    """One label as a greyscale PNG at ``dpi`` (recorded in the file)."""
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    w, h = size_mm
    layout = _layout(label, w, h)
    px = dpi / MM_PER_INCH
    image = Image.new("L", (round(w * px), round(h * px)), 255)
    draw = ImageDraw.Draw(image)
    # Module edges are rounded to whole pixels so each module is crisp and they tile exactly.
    for r, row in enumerate(layout.matrix):
        y0 = round((layout.qr_y + r * layout.module) * px)
        y1 = round((layout.qr_y + (r + 1) * layout.module) * px)
        for c, dark in enumerate(row):
            if dark:
                x0 = round((layout.qr_x + c * layout.module) * px)
                x1 = round((layout.qr_x + (c + 1) * layout.module) * px)
                draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=0)
    for t in layout.texts:
        font = _pil_font(t.bold, t.size * px)
        draw.text((t.x * px, t.y * px), t.text, fill=0, font=font, anchor="ls")
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


# --- SVG --------------------------------------------------------------------

SVG_NS = "http://www.w3.org/2000/svg"
SVG_FONT = "DejaVu Sans, sans-serif"


def _num(value: float) -> str:
    """A length for SVG: at most three decimals, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _svg_qr_path(matrix: list[list[bool]]) -> str:
    """Path data with one unit square ``Mx yh1v1h-1z`` per dark module (x = column)."""
    return "".join(
        f"M{c} {r}h1v1h-1z" for r, row in enumerate(matrix) for c, dark in enumerate(row) if dark
    )


def qr_svg(url: str) -> str:
    """A bare QR code of ``url`` as SVG text (one path, quiet zone included), for screens."""
    matrix = qr_matrix(url)
    n = len(matrix)
    return (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {n} {n}" shape-rendering="crispEdges">'
        f'<rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path d="{_svg_qr_path(matrix)}" fill="#000"/></svg>'
    )


def label_svg(label: Label, *, size_mm: tuple[float, float] = (70.0, 37.0)) -> bytes:
    """One label as a standalone UTF-8 SVG document; user units are millimetres."""
    w, h = size_mm
    layout = _layout(label, w, h)
    root = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "version": "1.1",
            "width": f"{_num(w)}mm",
            "height": f"{_num(h)}mm",
            "viewBox": f"0 0 {_num(w)} {_num(h)}",
        },
    )
    ET.SubElement(root, "rect", {"width": _num(w), "height": _num(h), "fill": "#fff"})
    ET.SubElement(
        root,
        "path",
        {
            "d": _svg_qr_path(layout.matrix),
            "transform": f"translate({_num(layout.qr_x)} {_num(layout.qr_y)}) "
            f"scale({layout.module:.6g})",
            "fill": "#000",
            "shape-rendering": "crispEdges",
        },
    )
    for t in layout.texts:
        attrs = {
            "x": _num(t.x),
            "y": _num(t.y),
            "font-family": SVG_FONT,
            "font-size": _num(t.size),
            "fill": "#000",
        }
        if t.bold:
            attrs["font-weight"] = "bold"
        ET.SubElement(root, "text", attrs).text = t.text
    out = io.BytesIO()
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return out.getvalue()


# --- PDF --------------------------------------------------------------------

PDF_REGULAR = "TizbekDejaVuSans"
PDF_BOLD = "TizbekDejaVuSans-Bold"


@lru_cache(maxsize=1)
def register_pdf_fonts() -> None:
    """Make the vendored DejaVu faces known to reportlab (embedded as subsets when used)."""
    pdfmetrics.registerFont(TTFont(PDF_REGULAR, str(REGULAR_TTF)))
    pdfmetrics.registerFont(TTFont(PDF_BOLD, str(BOLD_TTF)))


def _draw_label(canvas: Canvas, layout: _Layout, left: float, top: float) -> None:
    """Draw ``layout`` with its top-left corner ``left``, ``top`` mm from the page's top-left."""
    page_h = A4_MM[1]
    # All modules go into one filled path, so adjacent squares leave no hairline seams.
    path = canvas.beginPath()
    n = layout.module
    for r, row in enumerate(layout.matrix):
        y = page_h - (top + layout.qr_y + (r + 1) * n)
        for c, dark in enumerate(row):
            if dark:
                path.rect((left + layout.qr_x + c * n) * mm, y * mm, n * mm, n * mm)
    canvas.setFillGray(0)
    canvas.drawPath(path, stroke=0, fill=1)
    for t in layout.texts:
        canvas.setFont(PDF_BOLD if t.bold else PDF_REGULAR, t.size * mm)
        canvas.drawString((left + t.x) * mm, (page_h - top - t.y) * mm, t.text)


def sheet_pdf(labels: Sequence[Label], *, layout: Grid) -> bytes:
    """An A4 PDF of ``labels`` in ``layout``'s cells, row by row; new pages as needed."""
    if not labels:
        raise ValueError("no labels to print")
    register_pdf_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=True)
    canvas.setTitle("Tizbek lot labels")
    per_page = layout.cols * layout.rows
    for index, label in enumerate(labels):
        if index and index % per_page == 0:
            canvas.showPage()
        left, top = layout.cell_origin(index)
        _draw_label(canvas, _layout(label, layout.label_w, layout.label_h), left, top)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
