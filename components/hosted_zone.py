"""A public Route 53 hosted zone as plain values, and the DNS name rules the edge components share.

The certificate's validation records and the service hosts' alias records go into one public hosted
zone. Which records exist (one per host, one per distinct validation name) is decided from plain
names, so the zone's ID and name must be plain too: ``HostedZone.lookup`` asks Route 53 with a
synchronous invoke (``aws.route53.get_zone``) before any resource is registered, never from inside an
``apply``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import pulumi_aws as aws

from components.errors import InputError, require

# RFC 1035 labels as ACM accepts them (RequestCertificate's DomainName pattern in botocore's acm
# model: labels of 1-63 letters, digits and hyphens, no leading or trailing hyphen, an optional
# leading "*." wildcard), 253 characters at most.
_LABEL: Final = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_DOMAIN_LENGTH: Final = 253
_ZONE_ID: Final = re.compile(r"^Z[A-Z0-9]{1,31}$")
_ZONE_ID_ALLOWED: Final = "a Route 53 hosted zone ID (Z followed by upper-case letters and digits)"


def check_domain_name(setting: str, value: str, *, wildcard: bool = False) -> str:
    """A lowercase DNS name of two or more labels (``*.`` first only when ``wildcard``); returned as is.

    Lowercase only: Route 53 and ACM compare names case-insensitively, but the names here also key
    records and certificate SANs, and ``API.example.com`` next to ``api.example.com`` would be the
    same name registered twice.
    """
    allowed = "a lowercase DNS name such as catalog.example.com (labels of a-z, 0-9, '-', 1-63 chars, 253 at most)"
    if wildcard:
        allowed += ", optionally starting with '*.'"
    require(isinstance(value, str) and 0 < len(value) <= MAX_DOMAIN_LENGTH, setting, value, allowed)
    name = value[2:] if wildcard and value.startswith("*.") else value
    labels = name.split(".")
    require(len(labels) >= 2 and all(_LABEL.match(label) for label in labels), setting, value, allowed)
    require(not labels[-1].isdigit(), setting, value, allowed + " (not an IP address)")
    return value


def check_host_label(setting: str, value: str) -> str:
    """One DNS label (``api``, ``static``), as the first part of a host under a domain; returned as is."""
    require(
        isinstance(value, str) and bool(_LABEL.match(value)),
        setting,
        value,
        "one lowercase DNS label: 1-63 of a-z, 0-9 and '-', no '-' first or last",
    )
    return value


def is_within(name: str, zone: str) -> bool:
    """Whether ``name`` is ``zone`` itself or a name below it (``api.example.com`` in ``example.com``)."""
    bare = name[2:] if name.startswith("*.") else name
    return bare == zone or bare.endswith("." + zone)


def validation_name(domain: str) -> str:
    """The name ACM's DNS validation record is derived from: ``*.example.com`` and ``example.com``
    share one CNAME (ACM documents that a wildcard and its base domain validate with the same record),
    so one record serves both."""
    return domain[2:] if domain.startswith("*.") else domain


@dataclass(frozen=True, kw_only=True)
class HostedZone:
    """A public Route 53 hosted zone: its ID and its name (no trailing dot), both plain."""

    zone_id: str
    """``Z...`` as Route 53 assigns it."""
    name: str
    """The zone's domain, e.g. ``example.com``."""

    def __post_init__(self) -> None:
        require(
            isinstance(self.zone_id, str) and bool(_ZONE_ID.match(self.zone_id)),
            "zone.zone_id",
            self.zone_id,
            _ZONE_ID_ALLOWED,
        )
        check_domain_name("zone.name", self.name)

    def require_contains(self, setting: str, domain: str) -> None:
        """Raise unless ``domain`` lies in this zone (records outside it cannot be created here)."""
        if not is_within(domain, self.name):
            raise InputError(setting, domain, f"a name in the hosted zone {self.name} ({self.zone_id})")

    @classmethod
    def lookup(cls, *, zone_id: str | None = None, name: str | None = None) -> HostedZone:
        """Ask Route 53 for a public zone by ID or by name (exactly one), synchronously.

        A private zone is refused: ACM validates from the public DNS, and public clients could not
        resolve aliases in it.
        """
        if zone_id is not None and name is not None:
            raise InputError(
                "zone.zone_id",
                zone_id,
                "empty when the zone is looked up by zone.name (one way to find it)",
                refers=("zone.name",),
            )
        if zone_id is None and name is None:
            raise InputError("zone", None, "a hosted zone ID or a zone name to look it up by")
        if zone_id is not None:
            require(bool(_ZONE_ID.match(zone_id)), "zone.zone_id", zone_id, _ZONE_ID_ALLOWED)
        if name is not None:
            check_domain_name("zone.name", name.rstrip("."))
        found = aws.route53.get_zone(zone_id=zone_id, name=name, private_zone=False)
        if found.private_zone:
            raise InputError("zone", zone_id or name, "a public hosted zone (ACM and clients resolve public DNS)")
        return cls(zone_id=found.zone_id, name=found.name.rstrip(".").lower())
