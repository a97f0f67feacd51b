"""Mock-cloud answers for the edge resources (ACM, Route 53, WAFv2, CloudWatch dashboards, ECR templates).

Kept apart from mockcloud/ while that package is being reorganised; importing this module registers
the makers with ``mockcloud.aws_cloud`` (the same ``@outputs``/``@invoke`` registry its own modules
use), so a test that needs them imports it. Shapes follow the real APIs:

* ACM ``domainValidationOptions``: one entry per requested name; the record is ACM's
  ``_<32 hex>.<name>.`` CNAME to ``_<32 hex>.<random>.acm-validations.aws.``, derived from the name
  without ``*.`` (a wildcard and its base domain share one record, as ACM documents).
* Route 53 ``getZone``: the zones in ``ZONES`` (by ID or by name); anything else is not found.
* WAFv2 ARNs ``arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<uuid>``.
"""

from __future__ import annotations

from typing import Any, Final

from mockcloud.aws_cloud import PARTITION, RESOURCE_OUTPUTS, Cloud, Outputs, hexid, invoke, outputs, physical_name

ZONES: Final = {
    "Z0EXAMPLE000000000001": ("example.com", False),
    "Z0PLATFORM00000000002": ("platform.example.org", False),
    "Z0PRIVATE000000000003": ("internal.example.com", True),
}
"""Hosted zones of the pretend account: ID -> (name, private)."""


class ZoneNotFoundError(LookupError):
    """No hosted zone matches (the provider's error: "no matching Route 53 Hosted Zone found")."""


def _uuid(seed: str) -> str:
    h = hexid(seed, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _region(cloud: Cloud, inputs: dict[str, Any]) -> str:
    return str(inputs.get("region") or cloud.region)


def validation_record(name: str) -> tuple[str, str]:
    """ACM's validation CNAME for a domain: (record name, record value), trailing dots as ACM returns them."""
    base = name[2:] if name.startswith("*.") else name
    return (
        f"_{hexid('name' + base, 32)}.{base}.",
        f"_{hexid('value' + base, 32)}.{hexid(base, 10)}.acm-validations.aws.",
    )


@outputs("aws:acm/certificate:Certificate")
def _certificate(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    region = _region(cloud, inputs)
    arn = f"arn:{PARTITION}:acm:{region}:{cloud.account_id}:certificate/{_uuid(name)}"
    names = [str(inputs.get("domainName"))] + [str(n) for n in inputs.get("subjectAlternativeNames") or []]
    options = []
    for domain in names:
        record_name, record_value = validation_record(domain)
        options.append(
            {
                "domainName": domain,
                "resourceRecordName": record_name,
                "resourceRecordType": "CNAME",
                "resourceRecordValue": record_value,
            }
        )
    return arn, {
        "arn": arn,
        "domainValidationOptions": options,
        "status": "PENDING_VALIDATION",
        "type": "AMAZON_ISSUED",
        "keyAlgorithm": inputs.get("keyAlgorithm") or "RSA_2048",
    }


@outputs("aws:acm/certificateValidation:CertificateValidation")
def _certificate_validation(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    arn = str(inputs.get("certificateArn"))
    return arn, {"certificateArn": arn}


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


@outputs("aws:wafv2/webAcl:WebAcl")
def _web_acl(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    acl_id = _uuid(name)
    acl_name = physical_name(name, inputs, max_length=128)
    scope = "global" if inputs.get("scope") == "CLOUDFRONT" else "regional"
    arn = f"arn:{PARTITION}:wafv2:{_region(cloud, inputs)}:{cloud.account_id}:{scope}/webacl/{acl_name}/{acl_id}"
    return acl_id, {"arn": arn, "name": acl_name, "lockToken": _uuid(name + "lock"), "capacity": 927}


@outputs("aws:wafv2/webAclAssociation:WebAclAssociation")
def _web_acl_association(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return f"{inputs.get('webAclArn')},{inputs.get('resourceArn')}", {}


@outputs("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
def _web_acl_logging(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return str(inputs.get("resourceArn")), {}


@outputs("aws:cloudwatch/logResourcePolicy:LogResourcePolicy")
def _log_resource_policy(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return str(inputs.get("policyName")), {}


@outputs("aws:cloudwatch/dashboard:Dashboard")
def _dashboard(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    dashboard = str(inputs.get("dashboardName"))
    return dashboard, {"dashboardArn": f"arn:{PARTITION}:cloudwatch::{cloud.account_id}:dashboard/{dashboard}"}


@outputs("aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")
def _creation_template(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return str(inputs.get("prefix")), {"registryId": cloud.account_id}


def _honour_region(type_: str) -> None:
    """Resources with pulumi-aws 7's ``region`` input live in that region: their ARNs say so.

    Wraps the mock cloud's own maker for ``type_`` (the lead may fold this into mockcloud/).
    """
    original = RESOURCE_OUTPUTS[type_]

    def make(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        region = inputs.get("region")
        if not region or region == cloud.region:
            return original(cloud, name, inputs)
        return original(Cloud(region=str(region), account_id=cloud.account_id), name, inputs)

    RESOURCE_OUTPUTS[type_] = make


for _type in ("aws:kms/key:Key", "aws:kms/alias:Alias"):
    if getattr(RESOURCE_OUTPUTS[_type], "__name__", "") != "make":
        _honour_region(_type)
