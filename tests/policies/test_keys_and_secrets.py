"""KMS keys rotate and have explicit, narrow key policies; secrets use customer-managed keys and rotate."""

from __future__ import annotations

import pulumi_aws as aws

from tests.policies.builders import ACCOUNT, REGION, role_arn
from tests.policies.builders import policy_document as _doc
from tests.policies.support import Analyze, flagged, messages
from tests.support import ComponentRunner

ROOT = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}


def _keys() -> None:
    aws.kms.Key("rotating", enable_key_rotation=True, policy=_doc(ROOT))
    aws.kms.Key("never-rotates", policy=_doc(ROOT))
    aws.kms.Key("rotation-off", enable_key_rotation=False, policy=_doc(ROOT))
    # Asymmetric and HMAC keys cannot rotate automatically: not reported.
    aws.kms.Key("signing", customer_master_key_spec="RSA_2048", key_usage="SIGN_VERIFY", policy=_doc(ROOT))
    aws.kms.Key("default-policy", enable_key_rotation=True)
    aws.kms.Key(
        "role-holds-everything",
        enable_key_rotation=True,
        policy=_doc(
            ROOT, {"Effect": "Allow", "Principal": {"AWS": role_arn("app")}, "Action": "kms:*", "Resource": "*"}
        ),
    )
    aws.kms.KeyPolicy(
        "service-holds-everything",
        key_id="1234abcd-12ab-34cd-56ef-1234567890ab",
        policy=_doc(
            ROOT, {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": ["*"], "Resource": "*"}
        ),
    )


def test_keys_rotate(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_keys))
    assert flagged(report, "kms-key-rotation") == {"never-rotates", "rotation-off"}


def test_key_policies_are_explicit_and_only_the_root_holds_everything(
    run_component: ComponentRunner, analyze: Analyze
) -> None:
    report = analyze(run_component(_keys))
    assert flagged(report, "kms-key-policy") == {"default-policy", "role-holds-everything", "service-holds-everything"}
    assert "role/app" in messages(report, "kms-key-policy", "role-holds-everything")[0]


def _secrets() -> None:
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    rotated = aws.secretsmanager.Secret("rotated", kms_key_id=key)
    aws.secretsmanager.SecretRotation(
        "rotated-rotation",
        secret_id=rotated.id,
        rotation_lambda_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rotate",
        rotation_rules={"automatically_after_days": 30},
    )
    aws.secretsmanager.Secret("aws-managed-key", kms_key_id="alias/aws/secretsmanager")
    slow = aws.secretsmanager.Secret("rotated-yearly", kms_key_id=key)
    aws.secretsmanager.SecretRotation(
        "yearly-rotation",
        secret_id=slow.arn,
        rotation_lambda_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rotate",
        rotation_rules={"automatically_after_days": 365},
    )
    scheduled = aws.secretsmanager.Secret("scheduled", kms_key_id=key)
    aws.secretsmanager.SecretRotation(
        "scheduled-rotation",
        secret_id=scheduled.id,
        rotation_lambda_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rotate",
        rotation_rules={"schedule_expression": "rate(30 days)"},
    )
    aws.secretsmanager.Secret("never-rotated", kms_key_id=key)


def test_secrets_use_customer_managed_keys(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_secrets))
    assert flagged(report, "secretsmanager-cmk") == {"aws-managed-key"}


def test_secrets_rotate_at_least_every_90_days(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_secrets))
    assert flagged(report, "secretsmanager-rotation") == {"aws-managed-key", "yearly-rotation", "never-rotated"}
    assert "every 365 days" in messages(report, "secretsmanager-rotation", "yearly-rotation")[0]


def test_log_groups_use_customer_managed_keys(run_component: ComponentRunner, analyze: Analyze) -> None:
    def program() -> None:
        aws.cloudwatch.LogGroup("encrypted", retention_in_days=30, kms_key_id=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/x")
        aws.cloudwatch.LogGroup("service-key", retention_in_days=30)

    report = analyze(run_component(program))
    assert flagged(report, "log-group-kms") == {"service-key"}
