"""KMS (``aws:kms/...``): keys (UUID key IDs) and aliases.

pulumi-aws 7 resources take a ``region`` input; a key or alias made for another region (ECR
replica keys) has that region in its ARN.
"""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import Cloud, physical_name, uuid_of
from mockcloud.registry import Outputs, outputs


def _in_region(cloud: Cloud, inputs: dict[str, Any]) -> Cloud:
    region = inputs.get("region")
    return Cloud(region=str(region), account_id=cloud.account_id) if region else cloud


@outputs("aws:kms/key:Key")
def _kms_key(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    key_id = uuid_of(name)
    return key_id, {"keyId": key_id, "arn": _in_region(cloud, inputs).arn("kms", f"key/{key_id}")}


@outputs("aws:kms/alias:Alias")
def _kms_alias(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    alias = physical_name(name, inputs)
    here = _in_region(cloud, inputs)
    return alias, {
        "arn": here.arn("kms", alias),
        "targetKeyArn": here.arn("kms", f"key/{inputs.get('targetKeyId')}"),
    }
