"""CloudWatch Logs: every log group expires its events and is encrypted with a customer-managed key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from . import resource_types as t
from .ecs import containers
from .props import as_mapping, is_set, number
from .rules import Report, resource_policy

# PutRetentionPolicy accepts exactly these (botocore's logs service model).
RETENTION_DAYS: Final = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)


def _retention(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == t.LOG_GROUP:
        raw = args.props.get("retentionInDays", 0)
        days = number(raw)
        if not days:
            report(
                "retentionInDays is not set (config key logRetentionDays): the log group keeps (and bills for) "
                "every event forever."
            )
        elif days not in RETENTION_DAYS:
            report(f"retentionInDays={raw!r} is not a value CloudWatch Logs accepts ({sorted(RETENTION_DAYS)}).")
        return
    for container in containers(args):
        log = as_mapping(container.get("logConfiguration"))
        options = as_mapping(log.get("options"))
        if log.get("logDriver") == "awslogs" and str(options.get("awslogs-create-group", "")).lower() == "true":
            report(
                f"Container '{container.get('name')}' lets ECS create its log group (awslogs-create-group), which "
                "then never expires; create the group in the program with a retention instead."
            )


def _kms(args: ResourceValidationArgs, report: Report) -> None:
    if not is_set(args.props, "kmsKeyId"):
        report(
            "kmsKeyId is not set: events are encrypted with a CloudWatch Logs service key that no key policy of "
            "yours governs; name a customer-managed key (its policy scoped by kms:EncryptionContext:aws:logs:arn)."
        )


def policies() -> Sequence[ResourceValidationPolicy]:
    return [
        resource_policy(
            name="log-group-retention",
            description="CloudWatch log groups have a retention period; ECS does not create log groups itself.",
            types=[t.LOG_GROUP, *t.CONTAINER_TYPES],
            check=_retention,
            enforcement=EnforcementLevel.ADVISORY,
            severity=Severity.LOW,
            remediation="retentionInDays from the stack's logRetentionDays setting.",
        ),
        resource_policy(
            name="log-group-kms",
            description="CloudWatch log groups are encrypted with a customer-managed KMS key.",
            types=[t.LOG_GROUP],
            check=_kms,
            enforcement=EnforcementLevel.ADVISORY,
            severity=Severity.MEDIUM,
            remediation="kmsKeyId=<key ARN>; the key policy allows logs.<region>.amazonaws.com with "
            "kms:EncryptionContext:aws:logs:arn matching the group's ARN.",
        ),
    ]
