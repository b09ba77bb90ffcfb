"""What the app calls the codes of :mod:`ledger.custody.codes`, in each language."""

from __future__ import annotations

from api.web.translations import N_, gettext_for
from ledger.custody import codes

#: The List-of-Waste titles of the codes a collector picks from (shortened for a phone).
WASTE_CODE_TITLES = {
    "16 02 09*": N_("Transformers and capacitors containing PCBs"),
    "16 02 10*": N_("Discarded equipment containing or contaminated by PCBs"),
    "16 02 11*": N_("Discarded equipment containing CFCs, HCFCs or HFCs"),
    "16 02 12*": N_("Discarded equipment containing free asbestos"),
    "16 02 13*": N_("Discarded equipment containing hazardous components"),
    "16 02 14": N_("Other discarded equipment"),
    "16 02 15*": N_("Hazardous components removed from discarded equipment"),
    "16 02 16": N_("Other components removed from discarded equipment"),
    "20 01 21*": N_("Fluorescent tubes and other mercury-containing waste"),
    "20 01 23*": N_("Discarded equipment containing CFCs (municipal)"),
    "20 01 35*": N_("Discarded electrical and electronic equipment with hazardous components"),
    "20 01 36": N_("Other discarded electrical and electronic equipment"),
}

#: How lots came to the collector (``source`` of ``lot.registered``).
SOURCE_TITLES = {
    "household": N_("Households"),
    "business": N_("Businesses"),
    "epr_takeback": N_("Producer take-back (EPR)"),
}

#: The registry's roles (``org.registered``), as the app names them.
ROLE_TITLES = {
    "collector": N_("Collector"),
    "transporter": N_("Transporter"),
    "recycler": N_("Recycler"),
    "producer": N_("Producer"),
    "inspector": N_("Inspector"),
}


def waste_code_names(lang: str) -> list[tuple[str, str, bool]]:
    """Each code of the list with its title in ``lang`` and whether it is hazardous."""
    gettext = gettext_for(lang)
    return [
        (code, gettext(WASTE_CODE_TITLES[code]), codes.is_hazardous(code))
        for code in codes.WEEE_WASTE_CODES
    ]
