"""Secrets Manager: secrets under a customer-managed key, rotated at least every 90 days."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from . import resource_types as t
from .props import as_mapping, is_set, number
from .rules import Report, StackView, referenced, resource_policy, stack_policy

MAX_ROTATION_DAYS: Final = 90
AWS_MANAGED_ALIAS: Final = "alias/aws/secretsmanager"


def is_aws_managed_key(value: Any, alias: str) -> bool:
    """No key, or the AWS managed key named by its alias (``alias/aws/<service>``)."""
    return not isinstance(value, str) or not value or value.endswith(alias)


def _customer_managed_key(args: ResourceValidationArgs, report: Report) -> None:
    if not is_set(args.props, "kmsKeyId"):
        report(
            "kmsKeyId is not set: the secret uses the AWS managed key aws/secretsmanager, whose policy any "
            "principal of the account with secretsmanager access can use; name a customer-managed key."
        )
    elif is_aws_managed_key(args.props["kmsKeyId"], AWS_MANAGED_ALIAS):
        report(f"kmsKeyId={args.props['kmsKeyId']!r} is the AWS managed key; name a customer-managed key.")


def _rotation(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    rotations = view.of_type(t.SECRET_ROTATION)
    for secret in view.of_type(t.SECRET):
        with view.reading(secret):
            attached = [
                r for r in rotations if secret.urn in referenced(r, "secretId", [secret], keys=("arn", "id", "name"))
            ]
            if not attached:
                report(
                    f"Secret {secret.name} has no SecretRotation: a leaked value stays valid until someone notices.",
                    secret.urn,
                )
                continue
            for rotation in attached:
                with view.reading(rotation):
                    rules = as_mapping(rotation.props.get("rotationRules"))
                    days = number(rules.get("automaticallyAfterDays"))
                    if rotation.props.get("rotationEnabled") is False:
                        report(f"SecretRotation {rotation.name} has rotationEnabled=false.", rotation.urn)
                    elif days is not None and days > MAX_ROTATION_DAYS:
                        report(
                            f"SecretRotation {rotation.name} rotates every {days:g} days "
                            f"(at most {MAX_ROTATION_DAYS}).",
                            rotation.urn,
                        )
                    elif days is None and not is_set(rules, "scheduleExpression"):
                        report(f"SecretRotation {rotation.name} has no rotationRules schedule.", rotation.urn)


def policies() -> Sequence[ResourceValidationPolicy | StackValidationPolicy]:
    advisory = EnforcementLevel.ADVISORY
    return [
        resource_policy(
            name="secretsmanager-cmk",
            description="Secrets Manager secrets are encrypted with a customer-managed KMS key.",
            types=[t.SECRET],
            check=_customer_managed_key,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="kmsKeyId=<customer-managed key ARN> whose key policy lets Secrets Manager use it "
            "(kms:ViaService secretsmanager.<region>.amazonaws.com) for the roles that read the secret.",
        ),
        stack_policy(
            name="secretsmanager-rotation",
            description=f"Every Secrets Manager secret rotates automatically, at least every {MAX_ROTATION_DAYS} days.",
            check=_rotation,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="aws.secretsmanager.SecretRotation(secret_id=..., rotation_lambda_arn=..., "
            "rotation_rules={automatically_after_days: 30}) (or a managed rotation).",
        ),
    ]
