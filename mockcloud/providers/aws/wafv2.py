"""WAFv2 (``aws:wafv2/...``): web ACLs (``arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<uuid>``),
their associations and logging."""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import PARTITION, Cloud, physical_name, uuid_of
from mockcloud.registry import Outputs, outputs


@outputs("aws:wafv2/webAcl:WebAcl")
def _web_acl(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    acl_id = uuid_of(name)
    acl_name = physical_name(name, inputs, max_length=128)
    scope = "global" if inputs.get("scope") == "CLOUDFRONT" else "regional"
    region = str(inputs.get("region") or cloud.region)
    arn = f"arn:{PARTITION}:wafv2:{region}:{cloud.account_id}:{scope}/webacl/{acl_name}/{acl_id}"
    return acl_id, {"arn": arn, "name": acl_name, "lockToken": uuid_of(name + "lock"), "capacity": 927}


@outputs("aws:wafv2/webAclAssociation:WebAclAssociation")
def _web_acl_association(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return f"{inputs.get('webAclArn')},{inputs.get('resourceArn')}", {}


@outputs("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
def _web_acl_logging(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return str(inputs.get("resourceArn")), {}
