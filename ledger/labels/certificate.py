"""A certificate of recycling for a processed lot, as an A4 PDF.

The certificate states what was treated and how (lot, collector, recycler,
dates, input weight, operation, output fractions) and where the log proves it:
the seq and leaf hash of the lot's ``lot.processed`` entry, and the signed
checkpoint (origin, size, root hash) whose tree includes it. A QR code holds
``url``, where anyone can check that entry against the log; ``proof_url``, the
entry's inclusion proof in that tree, is printed for an auditor's tools.

Everything shown is given as text already written in the reader's language
(:class:`Certificate`, and the captions in ``words``, one for each name in
:data:`WORDS`); this module only lays it out, with the vendored DejaVu faces
that cover Kazakh and Russian.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from ledger.labels.render import PDF_BOLD, PDF_REGULAR, qr_matrix, register_pdf_fonts

#: The captions a certificate needs, by name.
WORDS = (
    "title",
    "intro",
    "lot",
    "category",
    "waste_code",
    "collector",
    "recycler",
    "registered",
    "received",
    "processed",
    "input_weight",
    "operation",
    "outputs",
    "material",
    "weight",
    "total",
    "evidence",
    "entry",
    "leaf_hash",
    "checkpoint",
    "checkpoint_value",
    "root_hash",
    "scan",
    "proof",
    "how",
)

MARGIN = 18.0  # mm
PT = 0.3528  # mm per typographic point
PAGE_W, PAGE_H = A4[0] / mm, A4[1] / mm
QR_SIDE = 42.0  # mm, the symbol with its quiet zone


@dataclass(frozen=True)
class Fraction:
    """One output fraction: its material's name, waste code and weight, as shown."""

    material: str
    waste_code: str
    weight: str


@dataclass(frozen=True)
class Certificate:
    """What one certificate states; text is printed as given."""

    lot: str
    category: str
    waste_code: str
    collector: str
    recycler: str
    registered: str
    received: str
    processed: str
    input_weight: str
    operation: str
    outputs: tuple[Fraction, ...]
    total: str
    origin: str
    seq: int
    leaf_hash: str
    checkpoint_size: int
    root_hash: str
    url: str
    proof_url: str

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise ValueError(f"certificate URL must be an http(s) URL, got {self.url!r}")
        if len(self.leaf_hash) != 64:
            raise ValueError("the leaf hash is 64 hex characters")
        if not 0 <= self.seq < self.checkpoint_size:
            raise ValueError(
                f"entry {self.seq} is not in a checkpoint of {self.checkpoint_size} entries"
            )


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` in lines at most ``width`` points wide; a word too long (a hash) is cut."""
    lines: list[str] = []
    for line in simpleSplit(text, font, size, width) or [""]:
        while stringWidth(line, font, size) > width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and stringWidth(line[:cut], font, size) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return lines


class _Page:
    """A cursor down an A4 canvas, in millimetres from the top."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.y = MARGIN
        self.width = PAGE_W - 2 * MARGIN

    def room(self, needed: float) -> None:
        if self.y + needed > PAGE_H - MARGIN:
            self.canvas.showPage()
            self.y = MARGIN

    def text(
        self, x: float, text: str, size: float, *, bold: bool = False, width: float | None = None
    ) -> float:
        """Write ``text`` from ``x`` at the cursor, wrapped to ``width``; the height it took."""
        font = PDF_BOLD if bold else PDF_REGULAR
        lines = _wrap(text, font, size, (width or self.width - x + MARGIN) * mm)
        step = size * 1.3 * PT  # the line height, mm
        self.canvas.setFont(font, size)
        for n, line in enumerate(lines):
            baseline = PAGE_H - self.y - size * PT - n * step
            self.canvas.drawString(x * mm, baseline * mm, line)
        return len(lines) * step

    def facts(self, rows: list[tuple[str, str]], *, caption_width: float = 52.0) -> None:
        """Caption and value rows, the values wrapped in the column right of the captions."""
        for caption, value in rows:
            value_x = MARGIN + caption_width
            self.room(6)
            used = max(
                self.text(MARGIN, caption, 9.5, bold=True, width=caption_width - 2),
                self.text(value_x, value, 9.5, width=self.width - caption_width),
            )
            self.y += used + 1.2


def _qr(canvas: Canvas, url: str, left: float, top: float, side: float) -> None:
    """Draw the QR code of ``url`` with its quiet zone in a ``side`` mm square."""
    matrix = qr_matrix(url)
    module = side / len(matrix)
    path = canvas.beginPath()
    page_h = PAGE_H
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                y = page_h - (top + (r + 1) * module)
                path.rect((left + c * module) * mm, y * mm, module * mm, module * mm)
    canvas.setFillGray(0)
    canvas.drawPath(path, stroke=0, fill=1)


def certificate_pdf(cert: Certificate, words: Mapping[str, str]) -> bytes:
    """The certificate as a one-page (more if there are many fractions) A4 PDF."""
    missing = [name for name in WORDS if name not in words]
    if missing:
        raise ValueError(f"certificate captions missing: {', '.join(missing)}")
    register_pdf_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=True)
    canvas.setTitle(f"{words['title']}: {cert.lot}")
    canvas.setAuthor(cert.recycler)
    canvas.setSubject(cert.url)
    page = _Page(canvas)

    qr_left = PAGE_W - MARGIN - QR_SIDE
    _qr(canvas, cert.url, qr_left, MARGIN - 3, QR_SIDE)
    head_width = page.width - QR_SIDE - 4
    page.y += page.text(MARGIN, words["title"], 18, bold=True, width=head_width) + 2
    page.y += page.text(MARGIN, cert.lot, 15, bold=True, width=head_width) + 2
    page.y += page.text(MARGIN, words["intro"], 9.5, width=head_width) + 1
    scan_top = MARGIN - 3 + QR_SIDE
    canvas.setFont(PDF_REGULAR, 7.5)
    canvas.drawCentredString(
        (qr_left + QR_SIDE / 2) * mm, (PAGE_H - scan_top - 2.5) * mm, words["scan"]
    )
    page.y = max(page.y, scan_top + 6)

    page.facts(
        [
            (words["lot"], cert.lot),
            (words["category"], cert.category),
            (words["waste_code"], cert.waste_code),
            (words["collector"], cert.collector),
            (words["recycler"], cert.recycler),
            (words["registered"], cert.registered),
            (words["received"], cert.received),
            (words["processed"], cert.processed),
            (words["input_weight"], cert.input_weight),
            (words["operation"], cert.operation),
        ]
    )

    page.y += 3
    page.room(14)
    page.y += page.text(MARGIN, words["outputs"], 12, bold=True) + 1.5
    columns = (MARGIN, MARGIN + 92, PAGE_W - MARGIN)
    header = (words["material"], words["waste_code"], words["weight"])
    rows = [(f.material, f.waste_code, f.weight) for f in cert.outputs]
    for n, (material, code, weight) in enumerate([header, *rows, (words["total"], "", cert.total)]):
        bold = n == 0 or n == len(rows) + 1
        page.room(6)
        used = page.text(columns[0], material, 9.5, bold=bold, width=90)
        page.text(columns[1], code, 9.5, bold=bold, width=40)
        canvas.setFont(PDF_BOLD if bold else PDF_REGULAR, 9.5)
        baseline = (PAGE_H - page.y - 9.5 * PT) * mm
        canvas.drawRightString(columns[2] * mm, baseline, weight)
        page.y += used + 1
        if n in (0, len(rows)):
            canvas.setLineWidth(0.4)
            rule = (PAGE_H - page.y) * mm
            canvas.line(MARGIN * mm, rule, columns[2] * mm, rule)
            page.y += 1.2

    page.y += 4
    page.room(40)
    page.y += page.text(MARGIN, words["evidence"], 12, bold=True) + 1.5
    checkpoint = words["checkpoint_value"].format(origin=cert.origin, size=cert.checkpoint_size)
    page.facts(
        [
            (words["entry"], str(cert.seq)),
            (words["leaf_hash"], cert.leaf_hash),
            (words["checkpoint"], checkpoint),
            (words["root_hash"], cert.root_hash),
            (words["scan"], cert.url),
            (words["proof"], cert.proof_url),
        ]
    )
    page.y += 2
    page.room(12)
    page.text(MARGIN, words["how"], 8.5)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
