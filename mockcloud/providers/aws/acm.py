"""ACM (``aws:acm/...``): DNS-validated certificates and their validation.

``domainValidationOptions`` has one entry per requested name; the record is ACM's ``_<32 hex>.<name>.``
CNAME to ``_<32 hex>.<random>.acm-validations.aws.``, derived from the name without ``*.``, so a
wildcard and its base domain share one record, as ACM documents.
"""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import PARTITION, Cloud, hexid, uuid_of
from mockcloud.registry import Outputs, outputs


def validation_record(name: str) -> tuple[str, str]:
    """ACM's validation CNAME for a domain: (record name, record value), trailing dots as ACM returns them."""
    base = name[2:] if name.startswith("*.") else name
    return (
        f"_{hexid('name' + base, 32)}.{base}.",
        f"_{hexid('value' + base, 32)}.{hexid(base, 10)}.acm-validations.aws.",
    )


@outputs("aws:acm/certificate:Certificate")
def _certificate(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    region = str(inputs.get("region") or cloud.region)
    arn = f"arn:{PARTITION}:acm:{region}:{cloud.account_id}:certificate/{uuid_of(name)}"
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
