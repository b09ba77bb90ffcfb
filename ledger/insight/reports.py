"""Periodic reports an inspector hands to a ministry: signed, tied to a checkpoint, re-derivable.

A report (format ``tizbek-report/1``) is a JSON object: what it covers (a
facility or a region, and a reporting month), the signed checkpoint it was
computed at, and its figures in grams, every one computed only from entries
below that checkpoint's size. The log's key signs the RFC 8785 canonical
bytes of everything but ``signature``, after the line ``tizbek-report/1``.
Anyone can check the signature with the log's verifier key and the
checkpoint with the same key, then derive the figures again from the log up
to that size (``tizbek report check --db``) and compare.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

from ledger.canonical import canonical_bytes
from ledger.errors import TizbekError, VerificationError
from ledger.note import NoteSigner, VerifierKey, open_note

FORMAT = "tizbek-report/1"
_DOMAIN = (FORMAT + "\n").encode()


def plain(value: Any) -> Any:
    """``value`` with every float as text, so it has canonical bytes (RFC 8785, integers only)."""
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def sign_report(body: dict[str, Any], signer: NoteSigner) -> dict[str, Any]:
    """``body`` with its ``signature``: the log's verifier key and Ed25519 signature."""
    body = plain(body)
    sig = signer.key.sign(_DOMAIN + canonical_bytes(body))
    return {
        **body,
        "signature": {
            "key": str(signer.verifier),
            "sig": base64.b64encode(sig).decode("ascii"),
        },
    }


def check_report(report: dict[str, Any], log_key: VerifierKey | None = None) -> VerifierKey:
    """Check a report's signature and its checkpoint's; return the key that signed both.

    Without ``log_key`` the key named in the report is used: compare it with
    the log's key from a source you trust.
    """
    if not isinstance(report, dict) or report.get("format") != FORMAT:
        raise VerificationError(f"not a {FORMAT} report", seq=None, check="report")
    signature = report.get("signature")
    if not isinstance(signature, dict):
        raise VerificationError("the report carries no signature", seq=None, check="report")
    try:
        named = VerifierKey.parse(str(signature.get("key", "")))
        sig = base64.b64decode(str(signature.get("sig", "")), validate=True)
    except (TizbekError, binascii.Error, ValueError):
        raise VerificationError(
            "the report's signature is malformed", seq=None, check="report"
        ) from None
    key = log_key or named
    if str(key) != str(named):
        raise VerificationError(
            "the report was signed by another key than the log's", seq=None, check="report"
        )
    body = {k: v for k, v in report.items() if k != "signature"}
    try:
        key.public.verify(sig, _DOMAIN + canonical_bytes(body))
    except TizbekError:
        raise VerificationError(
            "the report's signature does not verify", seq=None, check="report"
        ) from None
    try:
        open_note(str(report["checkpoint"]["note"]), [key])
    except (TizbekError, KeyError, TypeError):
        raise VerificationError(
            "the report's checkpoint is not signed by the log's key", seq=None, check="checkpoint"
        ) from None
    return key


def _kg(grams: Any) -> str:
    return f"{int(grams) / 1000:,.1f} kg"


def report_pdf(report: dict[str, Any]) -> bytes:
    """The report as an A4 PDF for people, with its checkpoint and signature in full."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    from ledger.labels.render import PDF_REGULAR as FONT
    from ledger.labels.render import register_pdf_fonts

    register_pdf_fonts()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    height = A4[1]
    y = height - 20 * mm

    def line(text: str, size: float = 10, gap: float = 5.5) -> None:
        nonlocal y
        if y < 20 * mm:
            pdf.showPage()
            y = height - 20 * mm
        pdf.setFont(FONT, size)
        pdf.drawString(18 * mm, y, text)
        y -= gap * mm

    subject = report["subject"]
    title = (
        f"Facility {subject['facility']} ({subject.get('name', '')})"
        if "facility" in subject
        else f"Region {subject['region']}"
    )
    line(f"Tizbek report: {title}", 15, 8)
    line(f"Period {report['period']['from']} to {report['period']['to']} ({report['zone']})")
    line(f"Computed at the log's checkpoint of {report['checkpoint']['size']:,} entries")
    y -= 3 * mm
    for name, grams in report["figures"].items():
        line(f"{name.replace('_g', '').replace('_', ' '):<28} {_kg(grams)}")
    for row in report.get("by_category", []):
        line(
            f"category {row['category']}: "
            + ", ".join(
                f"{k.replace('_g', '')} {_kg(v)}" for k, v in row.items() if k != "category"
            )
        )
    for row in report.get("materials", []):
        line(f"recovered {row['material']}: {_kg(row['grams'])}")
    for row in report.get("rates", []):
        line(
            f"category {row['category']}: reuse+recycling {row['reuse_recycling_percent']} % "
            f"(target {row['target_reuse_recycling_percent']} %), recovery "
            f"{row['recovery_percent']} %"
        )
    y -= 3 * mm
    line("Checkpoint (C2SP signed note):", 9)
    for text in str(report["checkpoint"]["note"]).splitlines():
        line(text, 7, 4)
    line(f"Report signature, key {report['signature']['key']}:", 9)
    line(report["signature"]["sig"], 7, 4)
    line(
        "Check: tizbek report check FILE.json --log-key KEY [--db URL] re-derives every figure.",
        8,
    )
    pdf.showPage()
    pdf.save()
    return out.getvalue()
