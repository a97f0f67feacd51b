"""SNS topics and SQS queues: messages encrypted at rest."""

from __future__ import annotations

from collections.abc import Sequence

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from . import resource_types as t
from .props import is_set
from .rules import Report, resource_policy


def _topic_encryption(args: ResourceValidationArgs, report: Report) -> None:
    # SNS server-side encryption is on exactly when the topic names a KMS key (KmsMasterKeyId).
    if not is_set(args.props, "kmsMasterKeyId"):
        report("kmsMasterKeyId is not set: the topic has no server-side encryption; name a KMS key.")


def _queue_encryption(args: ResourceValidationArgs, report: Report) -> None:
    if is_set(args.props, "kmsMasterKeyId"):
        return
    if args.props.get("sqsManagedSseEnabled") is False:
        report("sqsManagedSseEnabled=false without kmsMasterKeyId: the queue's messages are stored unencrypted.")
    elif args.props.get("sqsManagedSseEnabled") is not True:
        report(
            "The queue declares no encryption (kmsMasterKeyId or sqsManagedSseEnabled=true): whether messages "
            "are encrypted at rest is left to the account's defaults; declare it."
        )


def policies() -> Sequence[ResourceValidationPolicy]:
    advisory = EnforcementLevel.ADVISORY
    return [
        resource_policy(
            name="sns-topic-encryption",
            description="SNS topics encrypt messages at rest with a KMS key.",
            types=[t.SNS_TOPIC],
            check=_topic_encryption,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="kmsMasterKeyId=<a customer-managed key ARN> (its key policy must let the publishing "
            "services use it).",
        ),
        resource_policy(
            name="sqs-queue-encryption",
            description="SQS queues declare encryption at rest (a KMS key, or SSE-SQS).",
            types=[t.SQS_QUEUE],
            check=_queue_encryption,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="kmsMasterKeyId=<a customer-managed key ARN>, or sqsManagedSseEnabled=true.",
        ),
    ]
