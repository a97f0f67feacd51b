"""VPC security group rules (``aws:vpc/...``), one resource per rule as AWS models them since 2023."""

from __future__ import annotations

from typing import Any

from mockcloud.cloud import Cloud, hexid
from mockcloud.registry import Outputs, outputs


@outputs(
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
)
def _sg_rule(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = f"sgr-{hexid(name)}"
    return rid, {"arn": cloud.arn("ec2", f"security-group-rule/{rid}"), "securityGroupRuleId": rid}
