"""Red team (issue 17): insecure resources written the way a team on the platform would, run through the
pack under prod.json as a reviewer runs them.

Each case builds one insecure resource (``bad-<id>``, its helpers ``bad-<id>.<role>``) and its twin with
the flaw fixed (``good-<id>``). Under the prod config the bad one must get a *mandatory* violation from
a policy about that flaw, and the twin none from that policy. What counts as a flaw follows checkov,
AWS Config and trivy for the resource type (the policy rows in docs/policies.md name their ids).

All cases share one program run and one analysis, so the table stays cheap as it grows.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pulumi_aws as aws
import pytest

from mockcloud.runner import StackConfig, StackRun, run_program
from offline.policy import GUARDRAILS_DIR
from offline.policy.config import config_file
from offline.policy.pack import PolicyPackProcess
from offline.policy.report import PolicyReport
from tests.policies.builders import (
    ACCOUNT,
    REGION,
    alb,
    container,
    https_listener,
    role_arn,
    target_group,
    task_definition,
)
from tests.policies.builders import policy_document as _doc
from tests.policies.builders import tls_only as _tls_only

KEY: Final = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_ACCOUNT: Final = "999999999999"
ADMIN: Final = "arn:aws:iam::aws:policy/AdministratorAccess"
Build = Callable[[str], object]


@dataclass(frozen=True)
class Case:
    id: str
    policies: frozenset[str]
    """Policies that are about this flaw: at least one must report it, mandatory, under prod."""
    bad: Build
    good: Build


def _allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _trust(principal: Any, action: str = "sts:AssumeRole", **extra: Any) -> str:
    return _doc({"Effect": "Allow", "Principal": principal, "Action": action, **extra})


SERVICE_TRUST: Final = _trust({"Service": "ecs-tasks.amazonaws.com"})


# -- S3 ----------------------------------------------------------------------------------------------


def _bucket(
    name: str,
    *,
    v2: bool = False,
    block: dict[str, bool] | None = None,
    ownership: bool = True,
    statements: list[dict[str, Any]] | None = None,
    tls: bool = True,
    encryption: bool = True,
    **overrides: Any,
) -> Any:
    """A bucket with every companion a hardened bucket has, unless told otherwise."""
    kind = aws.s3.BucketV2 if v2 else aws.s3.Bucket
    bucket = kind(name, bucket=name, **overrides)
    flags: dict[str, Any] = {
        "block_public_acls": True,
        "block_public_policy": True,
        "ignore_public_acls": True,
        "restrict_public_buckets": True,
        **(block or {}),
    }
    if block != {}:
        aws.s3.BucketPublicAccessBlock(f"{name}.block", bucket=bucket.id, **flags)
    if ownership:
        aws.s3.BucketOwnershipControls(
            f"{name}.ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}
        )
    policy = [*([_tls_only(name)] if tls else []), *(statements or [])]
    if policy:
        aws.s3.BucketPolicy(f"{name}.policy", bucket=bucket.id, policy=_doc(*policy))
    if encryption:
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}.sse",
            bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"}}],
        )
    return bucket


def _read_by(principal: Any, bucket: str, **extra: Any) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        **extra,
    }


def _bucket_acl(name: str, acl: str) -> None:
    bucket = _bucket(f"{name}.bucket")
    aws.s3.BucketAclV2(name, bucket=bucket.id, acl=acl)


# -- IAM ---------------------------------------------------------------------------------------------
def _role_policy(name: str, *statements: dict[str, Any]) -> None:
    role = aws.iam.Role(f"{name}.role", assume_role_policy=SERVICE_TRUST)
    aws.iam.RolePolicy(name, role=role.name, policy=_doc(*statements))


def _attach(name: str, arn: str) -> None:
    role = aws.iam.Role(f"{name}.role", assume_role_policy=SERVICE_TRUST)
    aws.iam.RolePolicyAttachment(name, role=role.name, policy_arn=arn)


BUCKET_ARN: Final = "arn:aws:s3:::platform-assets/*"
READ_ONLY: Final = f"arn:aws:iam::{ACCOUNT}:policy/assets-read"


# -- ECS ---------------------------------------------------------------------------------------------
def _task(name: str, *, network_mode: str = "awsvpc", **container_overrides: Any) -> None:
    overrides: dict[str, Any] = {"network_mode": network_mode}
    if network_mode != "awsvpc":
        overrides["requires_compatibilities"] = ["EC2"]
    task_definition(name, [container(**container_overrides)], **overrides)


def _task_level(name: str, **task_overrides: Any) -> None:
    task_definition(name, [container()], requires_compatibilities=["EC2"], **task_overrides)


def _without(key: str) -> dict[str, Any]:
    spec = container()
    del spec[key]
    return spec


def _caps(*added: str) -> dict[str, Any]:
    return {"linuxParameters": {"capabilities": {"add": list(added)}}}


def _service(name: str, public: bool) -> None:
    cluster = aws.ecs.Cluster(f"{name}.cluster", settings=[{"name": "containerInsights", "value": "enhanced"}])
    task = task_definition(f"{name}.task", [container()])
    aws.ecs.Service(
        name,
        cluster=cluster.arn,
        task_definition=task.arn,
        launch_type="FARGATE",
        desired_count=2,
        network_configuration={"subnets": ["subnet-a"], "security_groups": ["sg-1"], "assign_public_ip": public},
    )


# -- load balancers ----------------------------------------------------------------------------------
def _http_forward(name: str, fixed: bool) -> None:
    lb = alb(f"{name}.alb")
    group = target_group(f"{name}.tg")
    action: Any  # the SDK types dict inputs as TypedDicts
    if fixed:
        action = {"type": "redirect", "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}}
        https_listener(f"{name}.https", lb, group)
    else:
        action = {"type": "forward", "target_group_arn": group.arn}
    aws.lb.Listener(name, load_balancer_arn=lb.arn, port=80, protocol="HTTP", default_actions=[action])


def _tls_listener(name: str, ssl_policy: str | None) -> None:
    lb = alb(f"{name}.alb")
    group = target_group(f"{name}.tg")
    aws.lb.Listener(
        name,
        load_balancer_arn=lb.arn,
        port=443,
        protocol="HTTPS",
        ssl_policy=ssl_policy,
        certificate_arn=f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0e4a5b1c-1111-2222-3333-444455556666",
        default_actions=[{"type": "forward", "target_group_arn": group.arn}],
    )


# -- security groups ---------------------------------------------------------------------------------
def _inline_ingress(name: str, port: int, cidr: str, protocol: str = "tcp", to_port: int | None = None) -> None:
    block = {"ipv6_cidr_blocks": [cidr]} if ":" in cidr else {"cidr_blocks": [cidr]}
    rule: dict[str, Any] = {
        "protocol": protocol,
        "from_port": port,
        "to_port": port if to_port is None else to_port,
        "description": "in",
        **block,
    }
    rules: list[Any] = [rule]  # the SDK types dict inputs as TypedDicts
    aws.ec2.SecurityGroup(name, vpc_id="vpc-0123456789abcdef0", description=f"{name} ingress", ingress=rules)


def _ingress_rule(name: str, cidr: str) -> None:
    group = aws.ec2.SecurityGroup(f"{name}.sg", vpc_id="vpc-0123456789abcdef0", description="database")
    aws.vpc.SecurityGroupIngressRule(
        name,
        security_group_id=group.id,
        ip_protocol="tcp",
        from_port=5432,
        to_port=5432,
        cidr_ipv4=cidr,
        description="pg",
    )


def _legacy_rule(name: str, cidr: str) -> None:
    group = aws.ec2.SecurityGroup(f"{name}.sg", vpc_id="vpc-0123456789abcdef0", description="cache")
    aws.ec2.SecurityGroupRule(
        name,
        type="ingress",
        security_group_id=group.id,
        protocol="tcp",
        from_port=6379,
        to_port=6379,
        cidr_blocks=[cidr],
        description="redis",
    )


def _ipv6_all(name: str, cidr: str) -> None:
    group = aws.ec2.SecurityGroup(f"{name}.sg", vpc_id="vpc-0123456789abcdef0", description="worker")
    aws.vpc.SecurityGroupIngressRule(
        name, security_group_id=group.id, ip_protocol="-1", cidr_ipv6=cidr, description="all"
    )


# -- Lambda ------------------------------------------------------------------------------------------
def _function(name: str, variables: dict[str, str]) -> None:
    aws.lambda_.Function(
        name,
        role=role_arn(f"{name}-function"),
        runtime="python3.13",
        handler="index.handler",
        s3_bucket="platform-artifacts",
        s3_key="fn.zip",
        environment={"variables": variables},
    )


# -- EC2 ---------------------------------------------------------------------------------------------
def _instance(name: str, **overrides: Any) -> None:
    args: dict[str, Any] = {
        "ami": "ami-0123456789abcdef0",
        "instance_type": "t3.micro",
        "subnet_id": "subnet-a",
        "metadata_options": {"http_tokens": "required", "http_endpoint": "enabled"},
        "root_block_device": {"encrypted": True},
        "associate_public_ip_address": False,
        **overrides,
    }
    aws.ec2.Instance(name, **args)


def _launch_template(name: str, tokens: str) -> None:
    aws.ec2.LaunchTemplate(
        name,
        image_id="ami-0123456789abcdef0",
        instance_type="t3.micro",
        metadata_options={"http_tokens": tokens, "http_endpoint": "enabled"},
        block_device_mappings=[{"device_name": "/dev/xvda", "ebs": {"encrypted": "true"}}],
    )


# -- RDS ---------------------------------------------------------------------------------------------
def _db(name: str, **overrides: Any) -> aws.rds.Instance:
    args: dict[str, Any] = {
        "engine": "postgres",
        "engine_version": "17",
        "instance_class": "db.t4g.micro",
        "allocated_storage": 20,
        "username": "app",
        "manage_master_user_password": True,
        "storage_encrypted": True,
        "kms_key_id": KEY,
        "publicly_accessible": False,
        "deletion_protection": True,
        "backup_retention_period": 14,
        "final_snapshot_identifier": f"{name}-final",
        "copy_tags_to_snapshot": True,
        "multi_az": True,
        "iam_database_authentication_enabled": True,
        "auto_minor_version_upgrade": True,
        **overrides,
    }
    return aws.rds.Instance(name, **args)


def _cluster(name: str, **overrides: Any) -> aws.rds.Cluster:
    args: dict[str, Any] = {
        "engine": "aurora-postgresql",
        "engine_version": "16.4",
        "master_username": "app",
        "manage_master_user_password": True,
        "storage_encrypted": True,
        "kms_key_id": KEY,
        "deletion_protection": True,
        "backup_retention_period": 14,
        "final_snapshot_identifier": f"{name}-final",
        "copy_tags_to_snapshot": True,
        "iam_database_authentication_enabled": True,
        **overrides,
    }
    return aws.rds.Cluster(name, **args)


def _snapshot(name: str, shared: list[str]) -> None:
    db = _db(f"{name}.db")
    aws.rds.Snapshot(name, db_instance_identifier=db.identifier, db_snapshot_identifier=name, shared_accounts=shared)


def _cluster_snapshot(name: str, shared: list[str]) -> None:
    cluster = _cluster(f"{name}.cluster")
    aws.rds.ClusterSnapshot(
        name,
        db_cluster_identifier=cluster.cluster_identifier,
        db_cluster_snapshot_identifier=name,
        shared_accounts=shared,
    )


def _cluster_instance(name: str, **overrides: Any) -> None:
    args: dict[str, Any] = {
        "cluster_identifier": "c",
        "instance_class": "db.t4g.medium",
        "engine": "aurora-postgresql",
        **overrides,
    }
    aws.rds.ClusterInstance(name, **args)


def _cache(name: str, **overrides: Any) -> None:
    args: dict[str, Any] = {
        "description": name,
        "engine": "valkey",
        "node_type": "cache.t4g.micro",
        "num_cache_clusters": 2,
        "automatic_failover_enabled": True,
        "multi_az_enabled": True,
        "transit_encryption_enabled": True,
        "at_rest_encryption_enabled": True,
        "kms_key_id": KEY,
        "auth_token": "0123456789abcdef0123",
        "snapshot_retention_limit": 7,
        "subnet_group_name": "cache-isolated",
        **overrides,
    }
    aws.elasticache.ReplicationGroup(name, **args)


# -- the table ---------------------------------------------------------------------------------------
def _case(id: str, policies: str | set[str], bad: Build, good: Build) -> Case:
    return Case(id, frozenset({policies} if isinstance(policies, str) else policies), bad, good)


ADMIN_POLICIES: Final = {"iam-no-admin-policies", "iam-no-wildcard-actions"}
PUBLIC: Final = "resource-policy-no-public-access"

CASES: Final[list[Case]] = [
    # S3: bucket exposure
    _case(
        "s3-bucket-acl-public-read",
        "s3-no-public-acl",
        lambda n: _bucket_acl(n, "public-read"),
        lambda n: _bucket_acl(n, "private"),
    ),
    _case(
        "s3-bucket-acl-public-read-write",
        "s3-no-public-acl",
        lambda n: _bucket_acl(n, "public-read-write"),
        lambda n: _bucket_acl(n, "private"),
    ),
    _case(
        "s3-inline-acl",
        "s3-no-public-acl",
        lambda n: _bucket(n, acl="public-read"),
        lambda n: _bucket(n, acl="private"),
    ),
    _case(
        "s3-policy-everyone",
        PUBLIC,
        lambda n: _bucket(n, statements=[_read_by("*", n)]),
        lambda n: _bucket(n, statements=[_read_by({"AWS": f"arn:aws:iam::{ACCOUNT}:role/reader"}, n)]),
    ),
    _case(
        "s3-policy-aws-star-tls-condition-only",
        PUBLIC,
        lambda n: _bucket(
            n, statements=[_read_by({"AWS": "*"}, n, Condition={"Bool": {"aws:SecureTransport": "true"}})]
        ),
        lambda n: _bucket(
            n, statements=[_read_by({"AWS": "*"}, n, Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})]
        ),
    ),
    _case(
        "s3-policy-not-principal",
        PUBLIC,
        lambda n: _bucket(
            n,
            statements=[
                {**_read_by("*", n), "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Principal": None}
            ],
        ),
        lambda n: _bucket(n, statements=[_read_by({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, n)]),
    ),
    _case(
        "s3-v2-policy-everyone",
        PUBLIC,
        lambda n: _bucket(n, v2=True, statements=[_read_by("*", n)]),
        lambda n: _bucket(n, v2=True, statements=[_read_by({"Service": "cloudfront.amazonaws.com"}, n)]),
    ),
    _case(
        "s3-public-access-block-off",
        "s3-public-access-block",
        lambda n: _bucket(n, block={"block_public_policy": False, "restrict_public_buckets": False}),
        lambda n: _bucket(n),
    ),
    _case("s3-no-public-access-block", "s3-public-access-block", lambda n: _bucket(n, block={}), lambda n: _bucket(n)),
    _case(
        "s3-v2-no-public-access-block",
        "s3-public-access-block",
        lambda n: _bucket(n, v2=True, block={}),
        lambda n: _bucket(n, v2=True),
    ),
    _case("s3-acls-enabled", "s3-acls-disabled", lambda n: _bucket(n, ownership=False), lambda n: _bucket(n)),
    _case("s3-plain-http", "s3-tls-only", lambda n: _bucket(n, tls=False), lambda n: _bucket(n)),
    _case(
        "s3-no-default-encryption",
        "s3-default-encryption",
        lambda n: _bucket(n, v2=True, encryption=False),
        lambda n: _bucket(n, v2=True),
    ),
    # IAM: identity policies, trust policies, users
    _case(
        "iam-attach-administrator-access",
        "iam-no-admin-policies",
        lambda n: _attach(n, ADMIN),
        lambda n: _attach(n, READ_ONLY),
    ),
    _case(
        "iam-role-managed-admin",
        "iam-no-admin-policies",
        lambda n: aws.iam.Role(n, assume_role_policy=SERVICE_TRUST, managed_policy_arns=[ADMIN]),
        lambda n: aws.iam.Role(n, assume_role_policy=SERVICE_TRUST, managed_policy_arns=[READ_ONLY]),
    ),
    _case(
        "iam-policy-star-star",
        ADMIN_POLICIES,
        lambda n: aws.iam.Policy(n, policy=_doc(_allow("*"))),
        lambda n: aws.iam.Policy(n, policy=_doc(_allow("s3:GetObject", BUCKET_ARN))),
    ),
    _case(
        "iam-role-policy-service-wildcard",
        "iam-no-wildcard-actions",
        lambda n: _role_policy(n, _allow("s3:*", BUCKET_ARN)),
        lambda n: _role_policy(n, _allow(["s3:GetObject", "s3:PutObject"], BUCKET_ARN)),
    ),
    _case(
        "iam-not-action",
        "iam-no-wildcard-actions",
        lambda n: _role_policy(n, {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        lambda n: _role_policy(n, _allow("s3:GetObject", BUCKET_ARN)),
    ),
    _case(
        "iam-inline-role-policy-star",
        ADMIN_POLICIES,
        lambda n: aws.iam.Role(
            n, assume_role_policy=SERVICE_TRUST, inline_policies=[{"name": "all", "policy": _doc(_allow("*:*"))}]
        ),
        lambda n: aws.iam.Role(
            n,
            assume_role_policy=SERVICE_TRUST,
            inline_policies=[{"name": "read", "policy": _doc(_allow("s3:GetObject", BUCKET_ARN))}],
        ),
    ),
    _case(
        "iam-secrets-on-any-resource",
        "iam-no-wildcard-resources",
        lambda n: _role_policy(n, _allow("secretsmanager:GetSecretValue")),
        lambda n: _role_policy(
            n, _allow("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db-*")
        ),
    ),
    _case(
        "iam-pass-any-role",
        "iam-no-wildcard-resources",
        lambda n: _role_policy(n, _allow("iam:PassRole")),
        lambda n: _role_policy(n, _allow("iam:PassRole", role_arn("app-task"))),
    ),
    _case(
        "iam-trust-everyone",
        "iam-role-trust-policy",
        lambda n: aws.iam.Role(n, assume_role_policy=_trust("*")),
        lambda n: aws.iam.Role(n, assume_role_policy=SERVICE_TRUST),
    ),
    _case(
        "iam-trust-aws-star",
        "iam-role-trust-policy",
        lambda n: aws.iam.Role(n, assume_role_policy=_trust({"AWS": "*"})),
        lambda n: aws.iam.Role(
            n, assume_role_policy=_trust({"AWS": "*"}, Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})
        ),
    ),
    _case(
        "iam-trust-cross-account-no-condition",
        "iam-role-trust-policy",
        lambda n: aws.iam.Role(n, assume_role_policy=_trust({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"})),
        lambda n: aws.iam.Role(
            n,
            assume_role_policy=_trust(
                {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                Condition={"StringEquals": {"sts:ExternalId": "vendor-7f3a"}},
            ),
        ),
    ),
    _case(
        "iam-trust-github-oidc-any-repo",
        "iam-role-trust-policy",
        lambda n: aws.iam.Role(
            n,
            assume_role_policy=_trust(
                {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
                "sts:AssumeRoleWithWebIdentity",
                Condition={"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}},
            ),
        ),
        lambda n: aws.iam.Role(
            n,
            assume_role_policy=_trust(
                {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
                "sts:AssumeRoleWithWebIdentity",
                Condition={
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                        "token.actions.githubusercontent.com:sub": "repo:acme/platform:ref:refs/heads/main",
                    }
                },
            ),
        ),
    ),
    _case(
        "iam-user-policy",
        "iam-no-user-policies",
        lambda n: aws.iam.UserPolicy(
            n, user=aws.iam.User(f"{n}.user").name, policy=_doc(_allow("s3:GetObject", BUCKET_ARN))
        ),
        lambda n: _role_policy(n, _allow("s3:GetObject", BUCKET_ARN)),
    ),
    _case(
        "iam-policy-attachment-users",
        "iam-no-user-policies",
        lambda n: aws.iam.PolicyAttachment(n, policy_arn=READ_ONLY, users=[aws.iam.User(f"{n}.user").name]),
        lambda n: aws.iam.PolicyAttachment(
            n, policy_arn=READ_ONLY, roles=[aws.iam.Role(f"{n}.role", assume_role_policy=SERVICE_TRUST).name]
        ),
    ),
    _case(
        "iam-user-access-key",
        "iam-no-access-keys",
        lambda n: aws.iam.AccessKey(n, user=aws.iam.User(f"{n}.user").name),
        lambda n: aws.iam.Role(n, assume_role_policy=SERVICE_TRUST),
    ),
    # KMS and Secrets Manager
    _case(
        "kms-rotation-off",
        "kms-key-rotation",
        lambda n: aws.kms.Key(
            n,
            enable_key_rotation=False,
            policy=_doc(_allow("kms:*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})),
        ),
        lambda n: aws.kms.Key(
            n, enable_key_rotation=True, policy=_doc(_allow("kms:*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
        ),
    ),
    _case(
        "kms-policy-everything-to-everyone",
        {"kms-key-policy", PUBLIC},
        lambda n: aws.kms.Key(n, enable_key_rotation=True, policy=_doc(_allow("kms:*", Principal="*"))),
        lambda n: aws.kms.Key(
            n, enable_key_rotation=True, policy=_doc(_allow("kms:*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
        ),
    ),
    _case(
        "kms-no-key-policy",
        "kms-key-policy",
        lambda n: aws.kms.Key(n, enable_key_rotation=True),
        lambda n: aws.kms.Key(
            n, enable_key_rotation=True, policy=_doc(_allow("kms:*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
        ),
    ),
    _case(
        "secret-aws-managed-key",
        "secretsmanager-cmk",
        lambda n: aws.secretsmanager.Secret(n),
        lambda n: aws.secretsmanager.Secret(n, kms_key_id=KEY),
    ),
    _case(
        "secret-never-rotates",
        "secretsmanager-rotation",
        lambda n: aws.secretsmanager.Secret(n, kms_key_id=KEY),
        lambda n: aws.secretsmanager.SecretRotation(
            f"{n}.rotation",
            secret_id=aws.secretsmanager.Secret(n, kms_key_id=KEY).id,
            rotation_lambda_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rotate",
            rotation_rules={"automatically_after_days": 30},
        ),
    ),
    _case(
        "secret-policy-everyone",
        PUBLIC,
        lambda n: aws.secretsmanager.SecretPolicy(
            n, secret_arn="arn:x", policy=_doc(_allow("secretsmanager:GetSecretValue", Principal="*"))
        ),
        lambda n: aws.secretsmanager.SecretPolicy(
            n,
            secret_arn="arn:x",
            policy=_doc(_allow("secretsmanager:GetSecretValue", Principal={"AWS": role_arn("app-task")})),
        ),
    ),
    # ECR
    _case(
        "ecr-mutable-tags",
        "ecr-immutable-tags",
        lambda n: aws.ecr.Repository(
            n, image_tag_mutability="MUTABLE", image_scanning_configuration={"scan_on_push": True}
        ),
        lambda n: aws.ecr.Repository(
            n, image_tag_mutability="IMMUTABLE", image_scanning_configuration={"scan_on_push": True}
        ),
    ),
    _case(
        "ecr-no-scan",
        "ecr-image-scanning",
        lambda n: aws.ecr.Repository(n, image_tag_mutability="IMMUTABLE"),
        lambda n: aws.ecr.Repository(
            n, image_tag_mutability="IMMUTABLE", image_scanning_configuration={"scan_on_push": True}
        ),
    ),
    _case(
        "ecr-policy-everyone",
        PUBLIC,
        lambda n: aws.ecr.RepositoryPolicy(
            n, repository="app", policy=_doc(_allow(["ecr:BatchGetImage"], Principal="*"))
        ),
        lambda n: aws.ecr.RepositoryPolicy(
            n,
            repository="app",
            policy=_doc(_allow(["ecr:BatchGetImage"], Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})),
        ),
    ),
    # ECS task definitions: container privileges and secrets
    _case("ecs-privileged", "ecs-no-privileged-containers", lambda n: _task(n, privileged=True), lambda n: _task(n)),
    _case(
        "ecs-root-user-implicit",
        "ecs-non-root-user",
        lambda n: task_definition(n, [_without("user")]),
        lambda n: _task(n),
    ),
    _case(
        "ecs-root-user-explicit", "ecs-non-root-user", lambda n: _task(n, user="root"), lambda n: _task(n, user="10001")
    ),
    _case("ecs-uid-zero", "ecs-non-root-user", lambda n: _task(n, user="0:0"), lambda n: _task(n, user="10001:10001")),
    _case(
        "ecs-writable-root-fs",
        "ecs-read-only-root-filesystem",
        lambda n: _task(n, readonlyRootFilesystem=False),
        lambda n: _task(n),
    ),
    _case(
        "ecs-host-network",
        "ecs-no-host-namespaces",
        lambda n: _task(n, network_mode="host"),
        lambda n: _task(n, network_mode="bridge"),
    ),
    _case(
        "ecs-host-pid",
        "ecs-no-host-namespaces",
        lambda n: _task_level(n, pid_mode="host"),
        lambda n: _task_level(n, pid_mode="task"),
    ),
    _case(
        "ecs-host-ipc",
        "ecs-no-host-namespaces",
        lambda n: _task_level(n, ipc_mode="host"),
        lambda n: _task_level(n, ipc_mode="none"),
    ),
    _case(
        "ecs-cap-sys-admin", "ecs-no-added-capabilities", lambda n: _task(n, **_caps("SYS_ADMIN")), lambda n: _task(n)
    ),
    _case(
        "ecs-cap-net-admin", "ecs-no-added-capabilities", lambda n: _task(n, **_caps("NET_ADMIN")), lambda n: _task(n)
    ),
    _case("ecs-cap-all", "ecs-no-added-capabilities", lambda n: _task(n, **_caps("ALL")), lambda n: _task(n)),
    _case(
        "ecs-host-device",
        "ecs-no-added-capabilities",
        lambda n: _task(n, linuxParameters={"devices": [{"hostPath": "/dev/mem", "containerPath": "/dev/mem"}]}),
        lambda n: _task(n),
    ),
    _case(
        "ecs-env-aws-secret-key",
        "ecs-no-plaintext-secrets",
        lambda n: _task(
            n, environment=[{"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}]
        ),
        lambda n: _task(n),
    ),
    _case(
        "ecs-env-db-password",
        "ecs-no-plaintext-secrets",
        lambda n: _task(n, environment=[{"name": "DB_PASSWORD", "value": "hunter22"}]),
        lambda n: _task(n),
    ),
    _case(
        "ecs-env-api-token",
        "ecs-no-plaintext-secrets",
        lambda n: _task(n, environment=[{"name": "STRIPE_API_TOKEN", "value": "sk_live_abc"}]),
        lambda n: _task(n),
    ),
    _case(
        "ecs-no-log-configuration",
        "ecs-container-logging",
        lambda n: task_definition(n, [_without("logConfiguration")]),
        lambda n: _task(n),
    ),
    _case("ecs-service-public-ip", "ecs-no-public-ip", lambda n: _service(n, True), lambda n: _service(n, False)),
    # Load balancers
    _case(
        "alb-http-forward",
        "alb-https-with-redirect",
        lambda n: _http_forward(n, False),
        lambda n: _http_forward(n, True),
    ),
    _case(
        "alb-old-tls-policy",
        "listener-tls-policy",
        lambda n: _tls_listener(n, "ELBSecurityPolicy-2016-08"),
        lambda n: _tls_listener(n, "ELBSecurityPolicy-TLS13-1-2-2021-06"),
    ),
    _case(
        "alb-keeps-invalid-headers",
        "alb-drop-invalid-headers",
        lambda n: alb(n, drop_invalid_header_fields=False),
        lambda n: alb(n),
    ),
    _case(
        "alb-no-deletion-protection",
        "alb-deletion-protection",
        lambda n: alb(n, enable_deletion_protection=False),
        lambda n: alb(n),
    ),
    _case("alb-no-access-logs", "alb-access-logs", lambda n: alb(n, access_logs=None), lambda n: alb(n)),
    _case(
        "alb-desync-monitor",
        "alb-desync-mitigation",
        lambda n: alb(n, desync_mitigation_mode="monitor"),
        lambda n: alb(n),
    ),
    _case(
        "classic-elb",
        "no-classic-load-balancers",
        lambda n: aws.elb.LoadBalancer(
            n,
            subnets=["subnet-a"],
            listeners=[{"instance_port": 8080, "instance_protocol": "http", "lb_port": 80, "lb_protocol": "http"}],
        ),
        lambda n: alb(n),
    ),
    # Security groups
    _case(
        "sg-ssh-world",
        "sg-no-public-ingress",
        lambda n: _inline_ingress(n, 22, "0.0.0.0/0"),
        lambda n: _inline_ingress(n, 22, "10.0.0.0/16"),
    ),
    _case(
        "sg-rdp-world",
        "sg-no-public-ingress",
        lambda n: _inline_ingress(n, 3389, "0.0.0.0/0"),
        lambda n: _inline_ingress(n, 3389, "10.0.0.0/16"),
    ),
    _case(
        "sg-ssh-world-ipv6",
        "sg-no-public-ingress",
        lambda n: _inline_ingress(n, 22, "::/0"),
        lambda n: _inline_ingress(n, 22, "fd00::/8"),
    ),
    _case(
        "sg-all-ports-world",
        "sg-no-public-ingress",
        lambda n: _inline_ingress(n, 0, "0.0.0.0/0", protocol="-1", to_port=0),
        lambda n: _inline_ingress(n, 0, "10.0.0.0/16", protocol="-1", to_port=0),
    ),
    _case(
        "sg-postgres-world",
        "sg-no-public-ingress",
        lambda n: _ingress_rule(n, "0.0.0.0/0"),
        lambda n: _ingress_rule(n, "10.0.0.0/16"),
    ),
    _case(
        "sg-redis-world",
        "sg-no-public-ingress",
        lambda n: _legacy_rule(n, "0.0.0.0/0"),
        lambda n: _legacy_rule(n, "10.0.0.0/16"),
    ),
    # EC2 and EBS
    _case(
        "ec2-imdsv1",
        "ec2-imdsv2",
        lambda n: _instance(n, metadata_options={"http_tokens": "optional", "http_endpoint": "enabled"}),
        lambda n: _instance(n),
    ),
    _case("ec2-imds-default", "ec2-imdsv2", lambda n: _instance(n, metadata_options=None), lambda n: _instance(n)),
    _case(
        "ec2-launch-template-imdsv1",
        "ec2-imdsv2",
        lambda n: _launch_template(n, "optional"),
        lambda n: _launch_template(n, "required"),
    ),
    _case(
        "ec2-public-ip",
        "ec2-no-public-ip",
        lambda n: _instance(n, associate_public_ip_address=True),
        lambda n: _instance(n),
    ),
    _case(
        "ec2-unencrypted-root",
        "ec2-ebs-encrypted",
        lambda n: _instance(n, root_block_device={"encrypted": False}),
        lambda n: _instance(n),
    ),
    _case(
        "ec2-secret-in-user-data",
        "ec2-no-secrets-in-user-data",
        lambda n: _instance(
            n, user_data="#!/bin/sh\nexport AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
        ),
        lambda n: _instance(n, user_data="#!/bin/sh\necho ready\n"),
    ),
    _case(
        "ebs-volume-unencrypted",
        "ec2-ebs-encrypted",
        lambda n: aws.ebs.Volume(n, availability_zone=f"{REGION}a", size=20),
        lambda n: aws.ebs.Volume(n, availability_zone=f"{REGION}a", size=20, encrypted=True, kms_key_id=KEY),
    ),
    # RDS
    _case(
        "rds-unencrypted",
        "rds-storage-encrypted",
        lambda n: _db(n, storage_encrypted=False, kms_key_id=None),
        lambda n: _db(n),
    ),
    _case("rds-public", "rds-not-public", lambda n: _db(n, publicly_accessible=True), lambda n: _db(n)),
    _case("rds-no-backups", "rds-backup-retention", lambda n: _db(n, backup_retention_period=0), lambda n: _db(n)),
    _case(
        "rds-no-deletion-protection",
        "rds-deletion-protection",
        lambda n: _db(n, deletion_protection=False),
        lambda n: _db(n),
    ),
    _case("rds-single-az", "rds-multi-az", lambda n: _db(n, multi_az=False), lambda n: _db(n)),
    _case(
        "rds-password-auth-only",
        "rds-iam-auth",
        lambda n: _db(n, iam_database_authentication_enabled=False),
        lambda n: _db(n),
    ),
    _case(
        "rds-no-minor-upgrades",
        "rds-auto-minor-upgrade",
        lambda n: _db(n, auto_minor_version_upgrade=False),
        lambda n: _db(n),
    ),
    _case(
        "rds-no-tags-on-snapshots",
        "rds-copy-tags-to-snapshot",
        lambda n: _db(n, copy_tags_to_snapshot=False),
        lambda n: _db(n),
    ),
    _case(
        "rds-cluster-unencrypted",
        "rds-storage-encrypted",
        lambda n: _cluster(n, storage_encrypted=False, kms_key_id=None),
        lambda n: _cluster(n),
    ),
    _case(
        "rds-cluster-no-backups",
        "rds-backup-retention",
        lambda n: _cluster(n, backup_retention_period=1),
        lambda n: _cluster(n),
    ),
    _case(
        "rds-cluster-no-deletion-protection",
        "rds-deletion-protection",
        lambda n: _cluster(n, deletion_protection=False),
        lambda n: _cluster(n),
    ),
    _case(
        "rds-cluster-instance-public",
        "rds-not-public",
        lambda n: _cluster_instance(n, publicly_accessible=True),
        lambda n: _cluster_instance(n),
    ),
    _case(
        "rds-snapshot-public",
        "rds-snapshot-not-public",
        lambda n: _snapshot(n, ["all"]),
        lambda n: _snapshot(n, [OTHER_ACCOUNT]),
    ),
    _case(
        "rds-cluster-snapshot-public",
        "rds-snapshot-not-public",
        lambda n: _cluster_snapshot(n, ["all"]),
        lambda n: _cluster_snapshot(n, []),
    ),
    # ElastiCache
    _case(
        "cache-no-transit-encryption",
        "elasticache-encryption-in-transit",
        lambda n: _cache(n, transit_encryption_enabled=False, auth_token=None),
        lambda n: _cache(n),
    ),
    _case(
        "cache-no-at-rest-encryption",
        "elasticache-encryption-at-rest",
        lambda n: _cache(n, at_rest_encryption_enabled=False, kms_key_id=None),
        lambda n: _cache(n),
    ),
    _case("cache-no-auth", "elasticache-auth", lambda n: _cache(n, auth_token=None), lambda n: _cache(n)),
    _case(
        "cache-no-failover",
        "elasticache-multi-az-failover",
        lambda n: _cache(n, automatic_failover_enabled=False, multi_az_enabled=False),
        lambda n: _cache(n),
    ),
    _case(
        "cache-no-snapshots",
        "elasticache-snapshot-retention",
        lambda n: _cache(n, snapshot_retention_limit=0),
        lambda n: _cache(n),
    ),
    # Logs
    _case(
        "log-group-kept-forever",
        "log-group-retention",
        lambda n: aws.cloudwatch.LogGroup(n, kms_key_id=KEY),
        lambda n: aws.cloudwatch.LogGroup(n, kms_key_id=KEY, retention_in_days=365),
    ),
    _case(
        "log-group-no-kms",
        "log-group-kms",
        lambda n: aws.cloudwatch.LogGroup(n, retention_in_days=365),
        lambda n: aws.cloudwatch.LogGroup(n, retention_in_days=365, kms_key_id=KEY),
    ),
    # Messaging, tables, file systems, functions
    _case(
        "sns-no-kms",
        "sns-topic-encryption",
        lambda n: aws.sns.Topic(n),
        lambda n: aws.sns.Topic(n, kms_master_key_id=KEY),
    ),
    _case(
        "sns-policy-everyone",
        PUBLIC,
        lambda n: aws.sns.TopicPolicy(n, arn="arn:x", policy=_doc(_allow("sns:Publish", Principal="*"))),
        lambda n: aws.sns.TopicPolicy(
            n,
            arn="arn:x",
            policy=_doc(
                _allow(
                    "sns:Publish",
                    Principal={"Service": "events.amazonaws.com"},
                    Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:events:eu-west-1:123456789012:rule/r"}},
                )
            ),
        ),
    ),
    _case(
        "sqs-sse-off",
        "sqs-queue-encryption",
        lambda n: aws.sqs.Queue(n, sqs_managed_sse_enabled=False),
        lambda n: aws.sqs.Queue(n, kms_master_key_id=KEY),
    ),
    _case(
        "sqs-policy-everyone",
        PUBLIC,
        lambda n: aws.sqs.QueuePolicy(n, queue_url="https://q", policy=_doc(_allow("sqs:SendMessage", Principal="*"))),
        lambda n: aws.sqs.QueuePolicy(
            n, queue_url="https://q", policy=_doc(_allow("sqs:SendMessage", Principal={"AWS": role_arn("producer")}))
        ),
    ),
    _case(
        "dynamodb-no-pitr",
        "dynamodb-point-in-time-recovery",
        lambda n: aws.dynamodb.Table(
            n, hash_key="id", attributes=[{"name": "id", "type": "S"}], billing_mode="PAY_PER_REQUEST"
        ),
        lambda n: aws.dynamodb.Table(
            n,
            hash_key="id",
            attributes=[{"name": "id", "type": "S"}],
            billing_mode="PAY_PER_REQUEST",
            point_in_time_recovery={"enabled": True},
        ),
    ),
    _case(
        "efs-unencrypted",
        "efs-encrypted",
        lambda n: aws.efs.FileSystem(n),
        lambda n: aws.efs.FileSystem(n, encrypted=True, kms_key_id=KEY),
    ),
    _case(
        "lambda-invoke-by-anyone",
        PUBLIC,
        lambda n: aws.lambda_.Permission(n, action="lambda:InvokeFunction", function="fn", principal="*"),
        lambda n: aws.lambda_.Permission(
            n,
            action="lambda:InvokeFunction",
            function="fn",
            principal="events.amazonaws.com",
            source_arn="arn:aws:events:eu-west-1:123456789012:rule/r",
        ),
    ),
    # Tricks a reviewer tries: spelling variants of the same flaw
    _case(
        "s3-policy-aws-star-list",
        PUBLIC,
        lambda n: _bucket(n, statements=[_read_by({"AWS": ["*"]}, n)]),
        lambda n: _bucket(n, statements=[_read_by({"AWS": [role_arn("reader")]}, n)]),
    ),
    _case(
        "s3-policy-any-source-ip",
        PUBLIC,
        lambda n: _bucket(
            n, statements=[_read_by("*", n, Condition={"IpAddress": {"aws:SourceIp": ["0.0.0.0/0", "::/0"]}})]
        ),
        lambda n: _bucket(
            n, statements=[_read_by("*", n, Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})]
        ),
    ),
    _case(
        "s3-policy-any-account-arn",
        PUBLIC,
        lambda n: _bucket(
            n, statements=[_read_by("*", n, Condition={"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}})]
        ),
        lambda n: _bucket(
            n,
            statements=[
                _read_by("*", n, Condition={"StringLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}})
            ],
        ),
    ),
    _case(
        "iam-trust-aws-star-tls-condition-only",
        "iam-role-trust-policy",
        lambda n: aws.iam.Role(
            n, assume_role_policy=_trust({"AWS": "*"}, Condition={"Bool": {"aws:SecureTransport": "true"}})
        ),
        lambda n: aws.iam.Role(n, assume_role_policy=_trust({"AWS": role_arn("deployer")})),
    ),
    _case(
        "iam-upper-case-service-wildcard",
        "iam-no-wildcard-actions",
        lambda n: _role_policy(n, _allow("IAM:*", "*")),
        lambda n: _role_policy(n, _allow("iam:GetRole", role_arn("app-task"))),
    ),
    _case(
        "iam-star-in-resource-list",
        ADMIN_POLICIES,
        lambda n: aws.iam.Policy(n, policy=_doc(_allow(["*"], ["*"]))),
        lambda n: aws.iam.Policy(n, policy=_doc(_allow(["s3:GetObject"], [BUCKET_ARN]))),
    ),
    _case(
        "ecs-cap-lower-case",
        "ecs-no-added-capabilities",
        lambda n: _task(n, **_caps("sys_admin")),
        lambda n: _task(n, **_caps()),
    ),
    _case(
        "sg-tcp-all-ports-world",
        "sg-no-public-ingress",
        lambda n: _inline_ingress(n, 0, "0.0.0.0/0", to_port=65535),
        lambda n: _inline_ingress(n, 0, "10.0.0.0/8", to_port=65535),
    ),
    _case(
        "sg-range-covering-ssh",
        "sg-no-public-ingress",
        lambda n: _inline_ingress(n, 20, "0.0.0.0/0", to_port=25),
        lambda n: _inline_ingress(n, 20, "10.0.0.0/8", to_port=25),
    ),
    _case(
        "ec2-unencrypted-extra-volume",
        "ec2-ebs-encrypted",
        lambda n: _instance(n, ebs_block_devices=[{"device_name": "/dev/sdf", "volume_size": 50}]),
        lambda n: _instance(n, ebs_block_devices=[{"device_name": "/dev/sdf", "volume_size": 50, "encrypted": True}]),
    ),
    _case(
        "rds-cluster-default-retention",
        "rds-backup-retention",
        lambda n: _cluster(n, backup_retention_period=None),
        lambda n: _cluster(n),
    ),
    _case(
        "cache-standalone-cluster-plain",
        "elasticache-encryption-in-transit",
        lambda n: aws.elasticache.Cluster(n, engine="redis", node_type="cache.t4g.micro", num_cache_nodes=1),
        lambda n: aws.elasticache.Cluster(
            n, engine="redis", node_type="cache.t4g.micro", num_cache_nodes=1, transit_encryption_enabled=True
        ),
    ),
    # Round 2: newer resource types and less common spellings of the same families
    _case(
        "iam-exclusive-attachments-admin",
        "iam-no-admin-policies",
        lambda n: aws.iam.RolePolicyAttachmentsExclusive(
            n, role_name=aws.iam.Role(f"{n}.role", assume_role_policy=SERVICE_TRUST).name, policy_arns=[ADMIN]
        ),
        lambda n: aws.iam.RolePolicyAttachmentsExclusive(
            n, role_name=aws.iam.Role(f"{n}.role", assume_role_policy=SERVICE_TRUST).name, policy_arns=[READ_ONLY]
        ),
    ),
    _case(
        "iam-user-exclusive-attachments",
        "iam-no-user-policies",
        lambda n: aws.iam.UserPolicyAttachmentsExclusive(
            n, user_name=aws.iam.User(f"{n}.user").name, policy_arns=[READ_ONLY]
        ),
        lambda n: aws.iam.RolePolicyAttachmentsExclusive(
            n, role_name=aws.iam.Role(f"{n}.role", assume_role_policy=SERVICE_TRUST).name, policy_arns=[READ_ONLY]
        ),
    ),
    _case(
        "iam-star-on-not-resource",
        {"iam-no-admin-policies", "iam-no-wildcard-actions", "iam-no-wildcard-resources"},
        lambda n: aws.iam.Policy(n, policy=_doc({"Effect": "Allow", "Action": "*", "NotResource": BUCKET_ARN})),
        lambda n: aws.iam.Policy(n, policy=_doc(_allow("s3:GetObject", BUCKET_ARN))),
    ),
    _case(
        "s3-object-public-acl",
        "s3-no-public-acl",
        lambda n: aws.s3.BucketObjectv2(n, bucket="platform-assets", key="index.html", content="hi", acl="public-read"),
        lambda n: aws.s3.BucketObjectv2(n, bucket="platform-assets", key="index.html", content="hi", acl="private"),
    ),
    _case(
        "s3-account-public-access-block-off",
        "s3-public-access-block",
        lambda n: aws.s3.AccountPublicAccessBlock(
            n, block_public_acls=True, block_public_policy=False, ignore_public_acls=True, restrict_public_buckets=False
        ),
        lambda n: aws.s3.AccountPublicAccessBlock(
            n, block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True
        ),
    ),
    _case(
        "efs-policy-everyone",
        PUBLIC,
        lambda n: aws.efs.FileSystemPolicy(
            n, file_system_id="fs-1", policy=_doc(_allow("elasticfilesystem:ClientMount", Principal={"AWS": "*"}))
        ),
        lambda n: aws.efs.FileSystemPolicy(
            n,
            file_system_id="fs-1",
            policy=_doc(_allow("elasticfilesystem:ClientMount", Principal={"AWS": role_arn("app-task")})),
        ),
    ),
    _case(
        "backup-vault-policy-everyone",
        PUBLIC,
        lambda n: aws.backup.VaultPolicy(
            n, backup_vault_name="vault", policy=_doc(_allow("backup:CopyIntoBackupVault", Principal="*"))
        ),
        lambda n: aws.backup.VaultPolicy(
            n,
            backup_vault_name="vault",
            policy=_doc(_allow("backup:CopyIntoBackupVault", Principal={"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"})),
        ),
    ),
    _case(
        "event-bus-policy-everyone",
        PUBLIC,
        lambda n: aws.cloudwatch.EventBusPolicy(
            n, event_bus_name="default", policy=_doc(_allow("events:PutEvents", Principal="*"))
        ),
        lambda n: aws.cloudwatch.EventBusPolicy(
            n,
            event_bus_name="default",
            policy=_doc(_allow("events:PutEvents", Principal={"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"})),
        ),
    ),
    _case(
        "backup-vault-aws-managed-key",
        "backup-vault-cmk",
        lambda n: aws.backup.Vault(n),
        lambda n: aws.backup.Vault(n, kms_key_arn=KEY),
    ),
    _case(
        "ecs-read-only-unset",
        "ecs-read-only-root-filesystem",
        lambda n: task_definition(n, [_without("readonlyRootFilesystem")]),
        lambda n: _task(n),
    ),
    _case(
        "ecs-access-key-value",
        "ecs-no-plaintext-secrets",
        lambda n: _task(n, environment=[{"name": "UPSTREAM", "value": "AKIAIOSFODNN7EXAMPLE"}]),
        lambda n: _task(n, environment=[{"name": "UPSTREAM", "value": "https://api.example.com"}]),
    ),
    _case(
        "ecs-docker-socket",
        "ecs-no-host-namespaces",
        lambda n: task_definition(
            n,
            [container(mountPoints=[{"sourceVolume": "docker", "containerPath": "/var/run/docker.sock"}])],
            requires_compatibilities=["EC2"],
            volumes=[{"name": "docker", "host_path": "/var/run/docker.sock"}],
        ),
        lambda n: task_definition(n, [container()], requires_compatibilities=["EC2"], volumes=[{"name": "scratch"}]),
    ),
    _case(
        "ecs-seccomp-unconfined",
        "ecs-no-added-capabilities",
        lambda n: _task(n, dockerSecurityOptions=["seccomp:unconfined"]),
        lambda n: _task(n),
    ),
    # Round 3
    _case(
        "cache-transit-preferred",
        "elasticache-encryption-in-transit",
        lambda n: _cache(n, transit_encryption_mode="preferred"),
        lambda n: _cache(n, transit_encryption_mode="required"),
    ),
    _case(
        "lambda-secret-in-environment",
        "lambda-no-plaintext-secrets",
        lambda n: _function(n, {"DB_PASSWORD": "hunter22"}),
        lambda n: _function(n, {"DB_PASSWORD_SECRET_ARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db"}),
    ),
    _case(
        "lambda-access-key-in-environment",
        "lambda-no-plaintext-secrets",
        lambda n: _function(n, {"UPSTREAM_KEY_ID": "AKIAIOSFODNN7EXAMPLE"}),
        lambda n: _function(n, {"UPSTREAM_URL": "https://api.example.com"}),
    ),
    _case(
        "ecs-env-lower-case-password",
        "ecs-no-plaintext-secrets",
        lambda n: _task(n, environment=[{"name": "db_password", "value": "hunter22"}]),
        lambda n: _task(n),
    ),
    _case(
        "sg-ipv6-all-traffic-rule",
        "sg-no-public-ingress",
        lambda n: _ipv6_all(n, "::/0"),
        lambda n: _ipv6_all(n, "fd00::/8"),
    ),
    # Round 4: defaults a reviewer leaves out on purpose
    _case(
        "ecr-mutable-with-exclusion",
        "ecr-immutable-tags",
        lambda n: aws.ecr.Repository(
            n,
            image_tag_mutability="MUTABLE_WITH_EXCLUSION",
            image_tag_mutability_exclusion_filters=[{"filter": "latest*", "filter_type": "WILDCARD"}],
            image_scanning_configuration={"scan_on_push": True},
        ),
        lambda n: aws.ecr.Repository(
            n, image_tag_mutability="IMMUTABLE", image_scanning_configuration={"scan_on_push": True}
        ),
    ),
    _case(
        "alb-https-default-tls-policy",
        "listener-tls-policy",
        lambda n: _tls_listener(n, None),
        lambda n: _tls_listener(n, "ELBSecurityPolicy-TLS13-1-2-2021-06"),
    ),
    _case(
        "log-group-retention-zero",
        "log-group-retention",
        lambda n: aws.cloudwatch.LogGroup(n, kms_key_id=KEY, retention_in_days=0),
        lambda n: aws.cloudwatch.LogGroup(n, kms_key_id=KEY, retention_in_days=90),
    ),
    _case(
        "iam-assume-any-role",
        "iam-no-wildcard-resources",
        lambda n: _role_policy(n, _allow("sts:AssumeRole")),
        lambda n: _role_policy(n, _allow("sts:AssumeRole", role_arn("deployer"))),
    ),
    _case(
        "kms-decrypt-by-anyone",
        PUBLIC,
        lambda n: aws.kms.Key(
            n,
            enable_key_rotation=True,
            policy=_doc(
                _allow("kms:*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
                _allow("kms:Decrypt", Principal={"AWS": "*"}),
            ),
        ),
        lambda n: aws.kms.Key(
            n,
            enable_key_rotation=True,
            policy=_doc(
                _allow("kms:*", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
                _allow(
                    "kms:Decrypt", Principal={"AWS": "*"}, Condition={"StringEquals": {"kms:CallerAccount": ACCOUNT}}
                ),
            ),
        ),
    ),
    _case(
        "sns-inline-policy-everyone",
        PUBLIC,
        lambda n: aws.sns.Topic(n, kms_master_key_id=KEY, policy=_doc(_allow("sns:Subscribe", Principal="*"))),
        lambda n: aws.sns.Topic(
            n, kms_master_key_id=KEY, policy=_doc(_allow("sns:Subscribe", Principal={"AWS": role_arn("consumer")}))
        ),
    ),
]


def _program() -> None:
    for case in CASES:
        case.bad(f"bad-{case.id}")
        case.good(f"good-{case.id}")


def _of(case_prefix: str, resource: str) -> bool:
    return resource == case_prefix or resource.startswith(f"{case_prefix}.")


def _run() -> StackRun:
    return run_program(
        _program,
        project="container-platform",
        stack="test",
        config=StackConfig(values={"aws:region": REGION}, secret_keys=frozenset()),
        preview=False,
    )


@pytest.fixture(scope="module")
def prod_report(policy_pack: PolicyPackProcess) -> PolicyReport:
    return policy_pack.analyze(_run(), config=config_file("prod"))


def test_the_table_is_broad() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_flaw_is_a_mandatory_finding_in_prod(case: Case, prod_report: PolicyReport) -> None:
    hits = [
        v
        for v in prod_report.mandatory
        if v.policy in case.policies and _of(f"bad-{case.id}", v.urn.rsplit("::", 1)[-1])
    ]
    assert hits, f"no mandatory {sorted(case.policies)} finding on bad-{case.id}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_fixed_twin_passes_that_policy(case: Case, prod_report: PolicyReport) -> None:
    hits = [
        f"{v.policy}: {v.detail}"
        for v in prod_report.violations
        if v.policy in case.policies and _of(f"good-{case.id}", v.urn.rsplit("::", 1)[-1])
    ]
    assert hits == []


def missed(pack_dir: Path) -> list[str]:
    """Ids of the cases the pack in ``pack_dir`` (under its own prod.json) gives no mandatory finding about.

    ``python -m tests.policies.test_held_out_insecure <pack dir>`` prints them: how the docs' "before"
    figure was measured, with the directory of an older checkout's pack.
    """
    with PolicyPackProcess(pack_dir) as pack:
        report = pack.analyze(_run(), config=config_file("prod", pack_dir))
    return [
        c.id
        for c in CASES
        if not any(v.policy in c.policies and _of(f"bad-{c.id}", v.urn.rsplit("::", 1)[-1]) for v in report.mandatory)
    ]


if __name__ == "__main__":
    pack_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else GUARDRAILS_DIR
    gaps = missed(pack_dir)
    print(f"{pack_dir}: {len(CASES)} cases, {len(gaps)} missed {gaps}")
