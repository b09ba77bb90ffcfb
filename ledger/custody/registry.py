"""Registry rules: organisations, their licences and keys, changed by the authority only."""

from __future__ import annotations

from ledger.custody import codes
from ledger.custody import fields as f
from ledger.custody.engine import Rulebook
from ledger.errors import RuleError
from ledger.events import Event
from ledger.labels import ids


class RegistryRules(Rulebook):
    """``org.*``, ``license.*`` and the custody side of ``key.*``."""

    def _key_event(self, event: Event) -> None:
        if event["type"] == "key.bound":
            org = f.ident(event, "org")
            assert org is not None
            if org != self.authority_id:
                self._org(org)
            if event["actor"] not in (self.authority_id, org):
                raise RuleError(
                    f"key.bound for {org} must be signed by the authority or {org}'s admin key",
                    rule="key-admin",
                    subject=org,
                )

    def _org_registered(self, event: Event) -> None:
        ident = f.ident(event, "org")
        assert ident is not None
        bin_ = f.need(event, "bin")
        if not isinstance(bin_, str) or not codes.BIN_RE.match(bin_):
            raise RuleError(
                "bin must be the 12-digit business identification number", rule="format"
            )
        country = f.need(event, "country")
        if not isinstance(country, str) or not codes.COUNTRY_RE.match(country):
            raise RuleError("country must be an ISO 3166 two-letter code like KZ", rule="format")
        self._create(
            "org",
            ident,
            {
                "id": ident,
                "name": f.text(event, "name"),
                "bin": bin_,
                "roles": f.roles(f.need(event, "roles")),
                "country": country,
                "region": f.text(event, "region"),
                "status": "active",
                "registered_seq": self._seq,
                "updated_seq": self._seq,
                "deregistered_seq": None,
                "licences": {},
            },
        )

    def _labels_issued(self, event: Event) -> None:
        org = f.ident(event, "org")
        assert org is not None
        self._org(org)
        block = f.need(event, "block")
        if not isinstance(block, str) or not ids.BLOCK_RE.match(block):
            raise RuleError(
                f"block must be {ids.BLOCK_LEN} characters of {ids.ALPHABET}", rule="format"
            )
        count = f.count(f.need(event, "count"), "count", minimum=1)
        if count > ids.MAX_ISSUE:
            raise RuleError(
                f"count must be at most {ids.MAX_ISSUE} labels per entry", rule="format"
            )
        if self._read("labels", block) is not None:
            raise RuleError(
                f"label block {block} was issued before", rule="duplicate", subject=block
            )
        self._create(
            "labels",
            block,
            {"block": block, "org": org, "count": count, "issued_seq": self._seq},
        )

    def _org_updated(self, event: Event) -> None:
        ident = f.ident(event, "org")
        assert ident is not None
        org = self._org(ident, change=True)
        changed = False
        for name in ("name", "region"):
            if name in event:
                org[name] = f.text(event, name)
                changed = True
        if "roles" in event:
            org["roles"] = f.roles(event["roles"])
            changed = True
        if "bin" in event:
            if not isinstance(event["bin"], str) or not codes.BIN_RE.match(event["bin"]):
                raise RuleError(
                    "bin must be the 12-digit business identification number", rule="format"
                )
            org["bin"] = event["bin"]
            changed = True
        if not changed:
            raise RuleError("org.updated changes none of name, bin, roles, region", rule="format")
        org["updated_seq"] = self._seq
        self._put("org", ident, org)

    def _org_deregistered(self, event: Event) -> None:
        ident = f.ident(event, "org")
        assert ident is not None
        org = self._org(ident, change=True)
        f.text(event, "reason")
        org["status"] = "deregistered"
        org["deregistered_seq"] = org["updated_seq"] = self._seq
        self._put("org", ident, org)

    def _license_granted(self, event: Event) -> None:
        ident = f.ident(event, "org")
        number = f.ident(event, "license")
        assert ident is not None
        assert number is not None
        org = self._org(ident, change=True)
        if number in org["licences"]:
            raise RuleError(
                f"licence {number} of {ident} was already granted", rule="unique-id", subject=number
            )
        valid_from, valid_to = f.day_field(event, "valid_from"), f.day_field(event, "valid_to")
        if valid_to < valid_from:
            raise RuleError("valid_to is before valid_from", rule="format", subject=number)
        waste = [f.waste_code(c, "waste_codes[]") for c in f.listed(event, "waste_codes")]
        categories = [f.category(c) for c in f.listed(event, "categories")]
        operations = f.listed(event, "operations")
        for op in operations:
            if not isinstance(op, str) or not codes.OPERATION_RE.match(op):
                raise RuleError(f"operation {op!r} is not an R1-R13 or D1-D15 code", rule="format")
        capacity = event.get("capacity_kg")
        if capacity is not None:
            f.count(capacity, "capacity_kg", minimum=1)
        org["licences"][number] = {
            "valid_from": valid_from,
            "valid_to": valid_to,
            "waste_codes": sorted(set(waste)),
            "categories": sorted(set(categories)),
            "operations": sorted(set(operations)),
            "capacity_kg": capacity,
            "status": "active",
            "granted_seq": self._seq,
            "updated_seq": self._seq,
        }
        self._put("org", ident, org)

    def _licence_status(self, event: Event, new: str, allowed: tuple[str, ...]) -> None:
        ident = f.ident(event, "org")
        number = f.ident(event, "license")
        assert ident is not None
        assert number is not None
        org = self._org(ident, change=True)
        lic = org["licences"].get(number)
        if lic is None:
            raise RuleError(
                f"{ident} holds no licence {number}", rule="licence-exists", subject=number
            )
        if lic["status"] not in allowed:
            raise RuleError(
                f"licence {number} is {lic['status']}; it cannot become {new}",
                rule="licence-state",
                subject=number,
            )
        f.text(event, "reason")
        lic["status"] = new
        lic["updated_seq"] = self._seq
        self._put("org", ident, org)

    def _license_suspended(self, event: Event) -> None:
        self._licence_status(event, "suspended", ("active",))

    def _license_revoked(self, event: Event) -> None:
        self._licence_status(event, "revoked", ("active", "suspended"))
