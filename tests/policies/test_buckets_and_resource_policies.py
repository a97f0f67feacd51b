"""Bucket exposure (public access block, ACLs, TLS-only policy, encryption) and resource-based policies
that open a bucket, repository, key, secret, topic, queue or function to everyone."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from tests.policies.builders import ACCOUNT, REGION
from tests.policies.builders import policy_document as _doc
from tests.policies.builders import tls_only as _tls_only
from tests.policies.support import Analyze, flagged, messages, unknown_notes
from tests.support import ComponentRunner

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def _bucket(
    name: str,
    *,
    block: dict[str, bool] | None = None,
    ownership: str | None = "BucketOwnerEnforced",
    policy: list[dict[str, Any]] | None = None,
    encryption: bool = True,
    **overrides: Any,
) -> aws.s3.Bucket:
    """A bucket with every companion a hardened bucket has, unless told otherwise (None removes one)."""
    bucket = aws.s3.Bucket(name, bucket=name, **overrides)
    flags: dict[str, Any] = {
        "block_public_acls": True,
        "block_public_policy": True,
        "ignore_public_acls": True,
        "restrict_public_buckets": True,
    }
    if block is not None or "no-block" not in name:
        aws.s3.BucketPublicAccessBlock(f"{name}-block", bucket=bucket.id, **{**flags, **(block or {})})
    if ownership is not None:
        aws.s3.BucketOwnershipControls(f"{name}-ownership", bucket=bucket.id, rule={"object_ownership": ownership})
    statements = [_tls_only(name)] if policy is None else policy
    if statements:
        aws.s3.BucketPolicy(f"{name}-policy", bucket=bucket.id, policy=_doc(*statements))
    if encryption:
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-sse",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}}],
        )
    return bucket


def _buckets() -> None:
    _bucket("hardened")
    _bucket("no-block")
    _bucket("half-block", block={"restrict_public_buckets": False, "ignore_public_acls": False})
    _bucket("public-read-acl", acl="public-read")
    _bucket("authenticated-read-acl", acl="authenticated-read", ownership="ObjectWriter")
    grants = aws.s3.Bucket("grants-acl-target", bucket="grants-acl-target")
    aws.s3.BucketAclV2(
        "grants-acl",
        bucket=grants.id,
        access_control_policy={
            "owner": {"id": "owner-canonical-id"},
            "grants": [{"grantee": {"type": "Group", "uri": ALL_USERS}, "permission": "READ"}],
        },
    )
    _bucket("no-tls-policy", policy=[])
    objects_only = {**_tls_only("objects-only-tls"), "Resource": "arn:aws:s3:::objects-only-tls/*"}
    _bucket("objects-only-tls", policy=[objects_only])
    # A public read that only asks for TLS: still public.
    public_get = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::public-get/*",
    }
    _bucket(
        "public-get",
        policy=[_tls_only("public-get"), {**public_get, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}],
    )
    # The same read, limited to a VPC endpoint: not public.
    vpce_get = {**public_get, "Resource": "arn:aws:s3:::vpce-get/*"}
    _bucket(
        "vpce-get",
        policy=[
            _tls_only("vpce-get"),
            {**vpce_get, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}}},
        ],
    )
    _bucket("writer-owned", ownership="ObjectWriter")
    _bucket("no-default-encryption", encryption=False)


def test_every_bucket_blocks_public_access(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_buckets))
    assert flagged(report, "s3-public-access-block") == {"no-block", "half-block-block", "grants-acl-target"}
    (half,) = messages(report, "s3-public-access-block", "half-block-block")
    assert "ignorePublicAcls, restrictPublicBuckets" in half


def test_no_acl_makes_a_bucket_public(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_buckets))
    assert flagged(report, "s3-no-public-acl") == {"public-read-acl", "authenticated-read-acl", "grants-acl"}
    assert "AllUsers" in messages(report, "s3-no-public-acl", "grants-acl")[0]


def test_buckets_disable_acls(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_buckets))
    assert flagged(report, "s3-acls-disabled") == {"authenticated-read-acl", "grants-acl-target", "writer-owned"}


def test_buckets_deny_requests_without_tls(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_buckets))
    assert flagged(report, "s3-tls-only") == {"grants-acl-target", "no-tls-policy", "objects-only-tls"}


def test_buckets_declare_default_encryption(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_buckets))
    assert flagged(report, "s3-default-encryption") == {"grants-acl-target", "no-default-encryption"}


def test_a_bucket_policy_open_to_everyone_is_refused(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_buckets))
    assert flagged(report, "resource-policy-no-public-access") == {"public-get-policy"}


def test_companions_are_found_by_dependency_at_preview(run_component: ComponentRunner, analyze: Analyze) -> None:
    def program() -> None:
        bucket = aws.s3.Bucket("autonamed")  # name only known after the update
        aws.s3.BucketPublicAccessBlock(
            "autonamed-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )

    report = analyze(run_component(program, preview=True))
    assert flagged(report, "s3-public-access-block") == set()


def _lifecycles() -> None:
    def lifecycle(name: str, **rule: Any) -> None:
        bucket = aws.s3.Bucket(name)  # autonamed: at preview found by the dependency on `bucket` only
        base = {"id": "abort", "status": "Enabled", "abort_incomplete_multipart_upload": {"days_after_initiation": 7}}
        arguments: dict[str, Any] = {"bucket": bucket.id, "rules": [{**base, **rule}]}
        aws.s3.BucketLifecycleConfiguration(f"{name}-lifecycle", **arguments)

    lifecycle("bucket-wide", filter={})
    lifecycle("no-filter")
    lifecycle("prefix-only", filter={"prefix": "logs/"})
    lifecycle("disabled", status="Disabled")
    lifecycle("expiry-only", abort_incomplete_multipart_upload=None, expiration={"days": 30})
    aws.s3.Bucket("no-lifecycle")


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_buckets_abort_incomplete_uploads_bucket_wide(
    run_component: ComponentRunner, analyze: Analyze, preview: bool
) -> None:
    report = analyze(run_component(_lifecycles, preview=preview))
    policy = "s3-abort-incomplete-uploads"
    assert flagged(report, policy) == {"prefix-only", "disabled", "expiry-only", "no-lifecycle"}
    assert "has no BucketLifecycleConfiguration" in messages(report, policy, "no-lifecycle")[0]
    assert "has no lifecycle rule aborting" in messages(report, policy, "prefix-only")[0]
    assert [n for n in unknown_notes(report) if n.startswith(policy)] == []


def _resource_policies() -> None:
    anyone = {"Effect": "Allow", "Principal": {"AWS": "*"}}
    aws.ecr.RepositoryPolicy(
        "public-repository",
        repository="app",
        policy=_doc({**anyone, "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}),
    )
    aws.ecr.RepositoryPolicy(
        "org-repository",
        repository="app",
        policy=_doc(
            {**anyone, "Action": "ecr:BatchGetImage", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}
        ),
    )
    root = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}
    aws.kms.Key(
        "public-key",
        enable_key_rotation=True,
        policy=_doc(root, {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}),
    )
    aws.kms.Key(
        "caller-account-key",
        enable_key_rotation=True,
        policy=_doc(
            root,
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": ACCOUNT,
                        "kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com",
                    }
                },
            },
        ),
    )
    secret = aws.secretsmanager.Secret("shared-secret")
    aws.secretsmanager.SecretPolicy(
        "everyone-but-one",
        secret_arn=secret.arn,
        policy=_doc(
            {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/x"},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            }
        ),
    )
    aws.sqs.QueuePolicy(
        "events-from-bucket",
        queue_url="https://sqs.eu-west-1.amazonaws.com/123456789012/q",
        policy=_doc(
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": "*",
                "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::uploads"}},
            }
        ),
    )
    # Negated and ForAllValues conditions do not name who: still public.
    aws.sns.TopicPolicy(
        "negated-condition",
        arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:alarms",
        policy=_doc(
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:SourceAccount": "999999999999"}},
            }
        ),
    )
    aws.lambda_.Permission("public-invoke", action="lambda:InvokeFunction", function="fn", principal="*")
    aws.lambda_.Permission(
        "bucket-invoke", action="lambda:InvokeFunction", function="fn", principal="*", source_arn="arn:aws:s3:::uploads"
    )
    pulumi.export("done", True)


def test_resource_policies_are_never_public(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_resource_policies))
    assert flagged(report, "resource-policy-no-public-access") == {
        "public-repository",
        "public-key",
        "everyone-but-one",
        "negated-condition",
        "public-invoke",
    }
    (repository,) = messages(report, "resource-policy-no-public-access", "public-repository")
    assert "ecr:BatchGetImage" in repository
    assert "anyone can call it" in repository
