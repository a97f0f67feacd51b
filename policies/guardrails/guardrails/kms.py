"""KMS: customer-managed keys rotate, and their key policies are explicit and grant no blanket access."""

from __future__ import annotations

from collections.abc import Sequence

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity

from . import resource_types as t
from .documents import ACCOUNT_ROOT, statements
from .props import is_set
from .rules import Report, resource_policy


def _rotation(args: ResourceValidationArgs, report: Report) -> None:
    props = args.props
    spec = props.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT")
    usage = props.get("keyUsage", "ENCRYPT_DECRYPT")
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT" or props.get("customKeyStoreId"):
        return  # automatic rotation exists only for symmetric encryption keys in the AWS KMS key store
    if props.get("enableKeyRotation") is not True:
        report(
            "enableKeyRotation is not true: the key material never changes, so one leak exposes everything it "
            "ever encrypted."
        )


def _key_policy(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == t.KMS_KEY and not is_set(args.props, "policy"):
        report(
            "No key policy: KMS applies its default (the account may do anything). Write one that names the "
            "services and roles that use the key."
        )
        return
    if not is_set(args.props, "policy"):
        return
    for s in statements(args.props["policy"]):
        if not s.allows or not any(a in ("*", "kms:*") for a in s.actions):
            continue
        others = [
            p for kind, values in s.principals.items() for p in values if not (kind == "AWS" and ACCOUNT_ROOT.match(p))
        ]
        if others or s.not_principal:
            report(
                f"policy, {s.label}: kms:* to {others or 'NotPrincipal'}: only the account root (which delegates "
                "to IAM) may hold every key permission; grant services and roles the operations they use."
            )


def policies() -> Sequence[ResourceValidationPolicy]:
    advisory = EnforcementLevel.ADVISORY
    return [
        resource_policy(
            name="kms-key-rotation",
            description="Customer-managed symmetric KMS keys rotate their key material automatically.",
            types=[t.KMS_KEY],
            check=_rotation,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="enableKeyRotation=true (yearly by default; rotationPeriodInDays 90-2560).",
        ),
        resource_policy(
            name="kms-key-policy",
            description="KMS keys have an explicit key policy in which only the account root holds kms:*.",
            types=[t.KMS_KEY, t.KMS_KEY_POLICY, t.KMS_REPLICA_KEY],
            check=_key_policy,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="policy: the account root with kms:* (IAM then decides), each service with the operations "
            "it calls under kms:ViaService / kms:CallerAccount or its encryption-context condition.",
        ),
    ]
