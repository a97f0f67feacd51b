"""RDS (``aws:rds/...``): DB instances (with their RDS-managed master user secret), parameter and subnet groups."""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import Cloud, hexid, physical_name, uuid_of
from mockcloud.registry import Outputs, outputs

# The minor release RDS picks today when a template asks for a major only.
_DEFAULT_MINOR = {"14": "14.17", "15": "15.12", "16": "16.8", "17": "17.4"}


@outputs("aws:rds/instance:Instance")
def _instance(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    identifier = physical_name(name, inputs, key="identifier", max_length=63).lower()
    # Since AWS provider v5 the resource ID is the DbiResourceId, not the identifier.
    resource_id = f"db-{hexid(name + 'dbi', 26).upper()}"
    port = int(inputs.get("port") or 5432)
    address = f"{identifier}.c{hexid(name + 'host', 11)}.{cloud.region}.rds.amazonaws.com"
    version = str(inputs.get("engineVersion") or "17")
    out: Outputs = {
        "arn": cloud.arn("rds", f"db:{identifier}"),
        "identifier": identifier,
        "resourceId": resource_id,
        "address": address,
        "endpoint": f"{address}:{port}",
        "port": port,
        "hostedZoneId": "Z29XKXDKYMONMX",
        "engineVersionActual": _DEFAULT_MINOR.get(version, version),
        "status": "available",
        "caCertIdentifier": inputs.get("caCertIdentifier") or "rds-ca-rsa2048-g1",
        "availabilityZone": cloud.zones[0],
        "latestRestorableTime": "2026-01-01T00:00:00Z",
    }
    if inputs.get("manageMasterUserPassword"):
        # RDS names the secret rds!db-<uuid> and Secrets Manager appends its 6-character suffix.
        secret_name = f"rds!db-{uuid_of(name + 'secret')}"
        out["masterUserSecrets"] = [
            {
                "secretArn": cloud.arn("secretsmanager", f"secret:{secret_name}-{hexid(name + 'sfx', 6)}"),
                "kmsKeyId": inputs.get("masterUserSecretKmsKeyId")
                or cloud.arn("kms", f"key/{uuid_of(cloud.account_id + 'aws/secretsmanager')}"),
                "secretStatus": "active",
            }
        ]
    if inputs.get("storageEncrypted") and not inputs.get("kmsKeyId"):
        out["kmsKeyId"] = cloud.arn("kms", f"key/{uuid_of(cloud.account_id + 'aws/rds')}")
    return resource_id, out


@outputs("aws:rds/parameterGroup:ParameterGroup")
def _parameter_group(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    group = physical_name(name, inputs, max_length=255).lower()
    return group, {"name": group, "arn": cloud.arn("rds", f"pg:{group}")}


@outputs("aws:rds/subnetGroup:SubnetGroup")
def _subnet_group(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    group = physical_name(name, inputs, max_length=255).lower()
    return group, {
        "name": group,
        "arn": cloud.arn("rds", f"subgrp:{group}"),
        "vpcId": f"vpc-{hexid(name + 'vpc')}",
        "supportedNetworkTypes": ["IPV4"],
    }
