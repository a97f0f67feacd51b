"""Secrets Manager (``aws:secretsmanager/...``): secrets (with AWS's 6-character ARN suffix) and versions."""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import Cloud, hexid, physical_name
from mockcloud.registry import Outputs, outputs


@outputs("aws:secretsmanager/secret:Secret")
def _secret(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    secret_name = physical_name(name, inputs, max_length=512)
    # Secrets Manager appends a 6-character suffix to every secret ARN.
    arn = cloud.arn("secretsmanager", f"secret:{secret_name}-{hexid(name, 6)}")
    return arn, {"arn": arn, "name": secret_name}


@outputs("aws:secretsmanager/secretVersion:SecretVersion")
def _secret_version(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    version = hexid(name, 32)
    return f"{inputs.get('secretId')}|{version}", {"versionId": version, "arn": inputs.get("secretId")}


@outputs("aws:secretsmanager/secretRotation:SecretRotation")
def _secret_rotation(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    # The provider's ID is the secret's ARN; rotation is enabled once a function is set.
    return str(inputs.get("secretId")), {"rotationEnabled": True}
