"""The platform's guardrails as importable policies (building the PolicyPack lives in ../__main__.py).

Each policy's enforcement level in code is its level with no config file: the must-haves (image
scanning, health checks, how services connect to load balancers) are mandatory, everything else is
advisory. The per-stack config files (dev.json, prod.json) then set the level per environment.
"""

from __future__ import annotations

from typing import Final

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from . import (
    ec2,
    ecr,
    ecs,
    elasticache,
    functions,
    iam,
    kms,
    load_balancing,
    logs,
    messaging,
    network,
    rds,
    resource_policies,
    s3,
    secrets,
    storage,
    tagging,
    topology,
    waf,
)

PACK_NAME: Final = "container-platform-guardrails"

Policy = ResourceValidationPolicy | StackValidationPolicy


def all_policies() -> list[Policy]:
    """Every policy of the pack, in report order (a fresh list: policies hold no state)."""
    return [
        *ecr.policies(),
        *load_balancing.policies(),
        *waf.policies(),
        *ecs.policies(),
        *topology.policies(),
        *logs.policies(),
        *elasticache.policies(),
        *rds.policies(),
        *network.policies(),
        *ec2.policies(),
        *iam.policies(),
        *resource_policies.policies(),
        *s3.policies(),
        *kms.policies(),
        *secrets.policies(),
        *messaging.policies(),
        *storage.policies(),
        *functions.policies(),
        *tagging.policies(),
    ]


def mandatory_everywhere() -> list[str]:
    """Names of the policies that are mandatory in code, and so in every stack."""
    return [p.name for p in all_policies() if p.enforcement_level == EnforcementLevel.MANDATORY]
