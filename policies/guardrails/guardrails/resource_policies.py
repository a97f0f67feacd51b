"""Resource-based policies (buckets, repositories, keys, secrets, topics, queues, functions, file systems,
backup vaults, event buses): never public.

A statement that allows ``"Principal": "*"`` (or ``{"AWS": "*"}``, or everyone but a ``NotPrincipal``)
is open to every AWS account and, for S3, to anonymous callers, unless a condition pins *who*
(an account, organization, principal ARN, source ARN, VPC endpoint or IP range). A condition on how
(``aws:SecureTransport``) does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from . import resource_types as t
from .documents import statements
from .props import is_set
from .rules import Report, resource_policy

POLICY_PROPERTY: Final = {
    t.S3_BUCKET_POLICY: "policy",
    t.S3_BUCKET: "policy",
    t.S3_BUCKET_V2: "policy",
    t.ECR_REPOSITORY_POLICY: "policy",
    t.ECR_REGISTRY_POLICY: "policy",
    t.KMS_KEY: "policy",
    t.KMS_KEY_POLICY: "policy",
    t.KMS_REPLICA_KEY: "policy",
    t.SECRET: "policy",
    t.SECRET_POLICY: "policy",
    t.SNS_TOPIC: "policy",
    t.SNS_TOPIC_POLICY: "policy",
    t.SQS_QUEUE: "policy",
    t.SQS_QUEUE_POLICY: "policy",
    t.EFS_FILE_SYSTEM_POLICY: "policy",
    t.BACKUP_VAULT_POLICY: "policy",
    t.EVENT_BUS_POLICY: "policy",
}
"""Resource type -> the input holding its resource-based policy document."""


def _public_access(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == t.LAMBDA_PERMISSION:
        _lambda_permission(args, report)
        return
    key = POLICY_PROPERTY[args.resource_type]
    if not is_set(args.props, key):
        return
    for s in statements(args.props[key]):
        if not s.allows:
            continue
        if s.not_principal:
            report(f"{key}, {s.label}: Allow with NotPrincipal grants {list(s.actions)} to everyone not listed.")
        elif s.public_principal() and not s.restricted_by_condition():
            report(
                f"{key}, {s.label}: Principal '*' is allowed {list(s.actions) or list(s.not_actions)} with no "
                "condition on who (aws:PrincipalAccount, aws:PrincipalOrgID, aws:SourceArn, aws:SourceVpce, ...): "
                "anyone can call it."
            )


_LAMBDA_SCOPING: Final = ("sourceArn", "sourceAccount", "principalOrgId")


def _lambda_permission(args: ResourceValidationArgs, report: Report) -> None:
    if args.props.get("principal") == "*" and not any(is_set(args.props, k) for k in _LAMBDA_SCOPING):
        report("principal='*' without sourceArn, sourceAccount or principalOrgId lets anyone invoke the function.")


def policies() -> Sequence[ResourceValidationPolicy]:
    return [
        resource_policy(
            name="resource-policy-no-public-access",
            description="Resource-based policies (S3, ECR, KMS, Secrets Manager, SNS, SQS, Lambda, EFS, Backup, "
            "EventBridge) allow no public "
            "principal without a condition naming who.",
            types=[*POLICY_PROPERTY, t.LAMBDA_PERMISSION],
            check=_public_access,
            enforcement=EnforcementLevel.MANDATORY,
            severity=Severity.CRITICAL,
            remediation="Name the principals (account, role or service ARNs), or keep Principal '*' only with a "
            "condition such as aws:PrincipalOrgID, aws:SourceArn or aws:SourceVpce.",
        ),
    ]
