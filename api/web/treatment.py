"""What the recycler's pages and its certificate call treatment codes and captions.

Materials are those of :data:`ledger.custody.codes.MATERIALS`; operations are
the R (recovery) and D (disposal) codes of the recycler's licence. The output
waste codes offered are the usual ones of dismantled equipment (chapter 19 12,
components 16 02 and batteries 16 06); any code of the right pattern may be
typed.
"""

from __future__ import annotations

from api.web.translations import N_, gettext_for
from ledger.custody import codes

#: Each output material, as the app names it.
MATERIAL_TITLES = {
    "ferrous": N_("Ferrous metals"),
    "non_ferrous": N_("Non-ferrous metals"),
    "aluminium": N_("Aluminium"),
    "copper": N_("Copper"),
    "precious_metals": N_("Precious metals"),
    "plastics": N_("Plastics"),
    "brominated_plastics": N_("Plastics with brominated flame retardants"),
    "glass": N_("Glass"),
    "crt_glass": N_("CRT glass"),
    "circuit_boards": N_("Circuit boards"),
    "batteries": N_("Batteries"),
    "mercury_components": N_("Mercury-containing components"),
    "capacitors": N_("Capacitors"),
    "cables": N_("Cables"),
    "lcd_panels": N_("LCD panels"),
    "refrigerants": N_("Refrigerants"),
    "toner": N_("Toner"),
    "residues": N_("Residues"),
    "reuse": N_("Prepared for reuse"),
    "other": N_("Other"),
}
assert set(MATERIAL_TITLES) == codes.MATERIALS

#: Output waste codes offered as suggestions.
OUTPUT_CODES = (
    "16 02 15*",
    "16 02 16",
    "16 06 01*",
    "16 06 02*",
    "16 06 04",
    "19 12 01",
    "19 12 02",
    "19 12 03",
    "19 12 04",
    "19 12 05",
    "19 12 11*",
    "19 12 12",
)

RECOVERY = N_("recovery")
DISPOSAL = N_("disposal")

#: The captions of the certificate of recycling (``ledger.labels.certificate.WORDS``).
CERTIFICATE_WORDS = {
    "title": N_("Certificate of recycling"),
    "intro": N_(
        "This lot was treated as stated below. Every fact on this certificate is an entry of "
        "the Tizbek custody log, signed by the organisation that made it."
    ),
    "lot": N_("Lot"),
    "category": N_("WEEE category"),
    "waste_code": N_("Waste code"),
    "collector": N_("Collected by"),
    "recycler": N_("Treated by"),
    "registered": N_("Registered"),
    "received": N_("Received"),
    "processed": N_("Treated"),
    "input_weight": N_("Input weight"),
    "operation": N_("Operation"),
    "outputs": N_("Output fractions"),
    "material": N_("Material"),
    "weight": N_("Weight"),
    "total": N_("Total"),
    "evidence": N_("In the log"),
    "entry": N_("Treatment entry (seq)"),
    "leaf_hash": N_("Leaf hash"),
    "checkpoint": N_("Signed checkpoint"),
    "checkpoint_value": N_("{origin}, a tree of {size} entries"),
    "root_hash": N_("Root hash"),
    "scan": N_("Scan to verify"),
    "proof": N_("Inclusion proof"),
    "how": N_(
        "The QR code opens the lot's page, which checks in the browser that the treatment "
        "entry is signed and included in the log's signed checkpoint. The inclusion proof "
        "above proves the same to any RFC 9162 verifier: the leaf hash and the proof give the "
        "root hash of the checkpoint, whose signature the log's key verifies."
    ),
}


def material_names(lang: str) -> list[tuple[str, str]]:
    """Each material with its name in ``lang``, in the order people look for them."""
    gettext = gettext_for(lang)
    return [(code, gettext(title)) for code, title in MATERIAL_TITLES.items()]


def operation_name(operation: str, lang: str) -> str:
    """``R4 · recovery``, in ``lang``."""
    gettext = gettext_for(lang)
    return f"{operation} · {gettext(RECOVERY if operation.startswith('R') else DISPOSAL)}"


def certificate_words(lang: str) -> dict[str, str]:
    """The certificate's captions in ``lang``."""
    gettext = gettext_for(lang)
    return {name: gettext(text) for name, text in CERTIFICATE_WORDS.items()}
