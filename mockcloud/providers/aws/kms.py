"""KMS (``aws:kms/...``): keys (UUID key IDs) and aliases."""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import Cloud, physical_name, uuid_of
from mockcloud.registry import Outputs, outputs


@outputs("aws:kms/key:Key")
def _kms_key(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    key_id = uuid_of(name)
    return key_id, {"keyId": key_id, "arn": cloud.arn("kms", f"key/{key_id}")}


@outputs("aws:kms/alias:Alias")
def _kms_alias(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    alias = physical_name(name, inputs)
    return alias, {
        "arn": cloud.arn("kms", alias),
        "targetKeyArn": cloud.arn("kms", f"key/{inputs.get('targetKeyId')}"),
    }
