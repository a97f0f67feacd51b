"""Route 53 (``aws:route53/...``): records, and the hosted zones of the pretend account (``getZone``)."""

from __future__ import annotations

from typing import Any, Final

from mockcloud.cloud import PARTITION, Cloud, hexid
from mockcloud.registry import InvokeFailed, Outputs, invoke, outputs

ZONES: Final = {
    "Z0EXAMPLE000000000001": ("example.com", False),
    "Z0PLATFORM00000000002": ("platform.example.org", False),
    "Z0PRIVATE000000000003": ("internal.example.com", True),
    "Z0OWNDOMAIN0000000004": ("catalog-platform.net", False),
}
"""Hosted zones of the pretend account: ID -> (name, private). ``example.com`` is the committed prod
stack's placeholder zone; ``catalog-platform.net`` stands for a zone of the user's own (not a
documentation domain), to run prod as a real engine would after its placeholders are replaced."""


class ZoneNotFoundError(InvokeFailed):
    """No hosted zone matches (the provider's error: "no matching Route 53 Hosted Zone found")."""


@outputs("aws:route53/record:Record")
def _record(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    fqdn = str(inputs.get("name") or "").rstrip(".")
    return f"{inputs.get('zoneId')}_{fqdn}_{inputs.get('type')}", {"fqdn": fqdn}


@invoke("aws:route53/getZone:getZone")
def _get_zone(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    wanted_id, wanted_name = args.get("zoneId"), (args.get("name") or "").rstrip(".")
    for zone_id, (zone_name, private) in ZONES.items():
        if zone_id == wanted_id or (wanted_name and zone_name == wanted_name):
            return {
                "id": zone_id,
                "zoneId": zone_id,
                "name": zone_name,
                "privateZone": private,
                "arn": f"arn:{PARTITION}:route53:::hostedzone/{zone_id}",
                "nameServers": [f"ns-{i}.awsdns-{i:02d}.net" for i in range(1, 5)],
                "resourceRecordSetCount": 2,
                "callerReference": hexid(zone_id, 12),
                "comment": "",
                "primaryNameServer": "ns-1.awsdns-01.net",
                "tags": {},
            }
    raise ZoneNotFoundError(f"no matching Route 53 Hosted Zone found for {args}")
