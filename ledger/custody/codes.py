"""The code lists custody events draw on: categories, waste codes, operations, roles.

WEEE categories follow Directive 2012/19/EU Annex III; waste codes follow the
List-of-Waste pattern of Kazakhstan's classifier (order No. 314 of 6 Aug 2021,
modelled on the EU list): six digits as ``CC SS EE``, a trailing ``*`` marking
a hazardous waste. Treatment operations are the R1-R13 and D1-D15 codes of
Basel Annex IV; hazardous properties HP1-HP15 plus C16 (persistent organic
pollutants). The lists are data, checked by pattern where a jurisdiction may
extend them, so another country's log can use its own codes.
"""

from __future__ import annotations

import re

#: WEEE categories (Annex III): 1 temperature exchange, 2 screens, 3 lamps,
#: 4 large equipment, 5 small equipment, 6 small IT and telecommunication.
CATEGORIES = frozenset(range(1, 7))

ROLES = frozenset({"collector", "transporter", "recycler", "producer", "inspector"})
SOURCES = frozenset({"household", "business", "epr_takeback"})
OUTCOMES = frozenset({"accepted", "partially_refused", "refused"})

#: Output materials a treatment record names (WEEE Annex VII and recycler
#: standards' focus materials); ``other`` covers anything else, described by
#: its waste code.
MATERIALS = frozenset(
    {
        "ferrous",
        "non_ferrous",
        "aluminium",
        "copper",
        "precious_metals",
        "plastics",
        "brominated_plastics",
        "glass",
        "crt_glass",
        "circuit_boards",
        "batteries",
        "mercury_components",
        "capacitors",
        "cables",
        "lcd_panels",
        "refrigerants",
        "toner",
        "residues",
        "reuse",
        "other",
    }
)

#: The List-of-Waste codes a collector picks from when registering a lot of
#: electrical and electronic waste: discarded equipment (16 02, 20 01) and the
#: components removed from it. The rules accept any code of the right pattern;
#: this is the list people are offered.
WEEE_WASTE_CODES = (
    "16 02 09*",
    "16 02 10*",
    "16 02 11*",
    "16 02 12*",
    "16 02 13*",
    "16 02 14",
    "16 02 15*",
    "16 02 16",
    "20 01 21*",
    "20 01 23*",
    "20 01 35*",
    "20 01 36",
)
#: Hazardous properties (Annex III of Directive 2008/98/EC) and C16, persistent
#: organic pollutants.
HP_CODES = (*(f"HP{n}" for n in range(1, 16)), "C16")

WASTE_CODE_RE = re.compile(r"^\d{2} \d{2} \d{2}\*?$")
OPERATION_RE = re.compile(r"^(R(1[0-3]|[1-9])|D(1[0-5]|[1-9]))$")
HP_CODE_RE = re.compile(r"^(HP(1[0-5]|[1-9])|C16)$")
BIN_RE = re.compile(r"^\d{12}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_hazardous(waste_code: str) -> bool:
    """Whether a List-of-Waste code marks a hazardous waste (a trailing ``*``)."""
    return waste_code.endswith("*")
