"""IAM policies: administrator grants, service-wide actions, unscoped resources, trust policies, user policies.

Each family is tried with several shapes a reviewer meets in the wild (inline and managed, string and
list elements, NotAction, managed-policy attachments), with compliant neighbours that must pass.
"""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws

from tests.policies.builders import ACCOUNT, REGION
from tests.policies.builders import policy_document as _doc
from tests.policies.support import ALL_MANDATORY, Analyze, flagged, messages
from tests.support import ComponentRunner

SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:app-AbCdEf"
ECS_TRUST = {
    "Effect": "Allow",
    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
    "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
}


def _allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _role(name: str, *trust: dict[str, Any], **overrides: Any) -> aws.iam.Role:
    return aws.iam.Role(name, assume_role_policy=_doc(*(trust or (ECS_TRUST,))), **overrides)


def _identity_policies() -> None:
    # Administrator access, in every place a policy document or attachment can be written.
    aws.iam.RolePolicy("admin-inline", role="app", policy=_doc(_allow("*")))
    aws.iam.Policy("admin-managed", policy=_doc(_allow(["*:*"], ["*"])))
    _role("admin-role-inline", inline_policies=[{"name": "all", "policy": _doc(_allow("*"))}])
    aws.iam.RolePolicy(
        "admin-not-action", role="app", policy=_doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    )
    aws.iam.RolePolicyAttachment("admin-attached", role="app", policy_arn="arn:aws:iam::aws:policy/AdministratorAccess")
    aws.iam.RolePolicyAttachment("iam-full-attached", role="app", policy_arn="arn:aws:iam::aws:policy/IAMFullAccess")
    _role("admin-managed-arns", managed_policy_arns=["arn:aws:iam::aws:policy/PowerUserAccess"])
    # Service-wide actions.
    aws.iam.RolePolicy("s3-star", role="app", policy=_doc(_allow("s3:*", "arn:aws:s3:::uploads/*")))
    aws.iam.GroupPolicy("iam-star", group="ops", policy=_doc(_allow(["iam:*"], "arn:aws:iam::*:role/app-*")))
    aws.iam.RolePolicy(
        "mixed-star",
        role="app",
        policy=_doc(_allow(["dynamodb:GetItem", "dynamodb:*"], "arn:aws:dynamodb:*:*:table/x")),
    )
    # Unscoped resources for actions that can be scoped.
    aws.iam.RolePolicy("secrets-anywhere", role="app", policy=_doc(_allow("secretsmanager:GetSecretValue")))
    aws.iam.RolePolicy("pass-any-role", role="app", policy=_doc(_allow(["iam:PassRole"], ["*"])))
    aws.iam.RolePolicy("read-every-object", role="app", policy=_doc(_allow("s3:Get*")))
    aws.iam.RolePolicy(
        "not-resource",
        role="app",
        policy=_doc({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::x/*"}),
    )
    # Compliant: actions without resource-level permissions (or List level) on '*', and scoped ones.
    aws.iam.RolePolicy(
        "scoped",
        role="app",
        policy=_doc(
            _allow("ecr:GetAuthorizationToken"),
            _allow(["ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel", "logs:DescribeLogGroups"]),
            _allow(["xray:PutTraceSegments", "cloudwatch:PutMetricData", "ec2:Describe*", "sts:GetCallerIdentity"]),
            _allow("secretsmanager:GetSecretValue", SECRET_ARN),
            _allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::uploads/*"),
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ),
    )
    # Users with their own policies.
    aws.iam.UserPolicy("user-inline", user="deployer", policy=_doc(_allow("s3:ListAllMyBuckets")))
    aws.iam.UserPolicyAttachment("user-attached", user="deployer", policy_arn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    aws.iam.PolicyAttachment("roles-only", roles=["app"], policy_arn=f"arn:aws:iam::{ACCOUNT}:policy/x")


def test_administrator_access_is_refused_wherever_it_is_written(
    run_component: ComponentRunner, analyze: Analyze
) -> None:
    report = analyze(run_component(_identity_policies))
    assert flagged(report, "iam-no-admin-policies") == {
        "admin-inline",
        "admin-managed",
        "admin-role-inline",
        "admin-not-action",
        "admin-attached",
        "iam-full-attached",
        "admin-managed-arns",
    }
    assert "full administrator access" in messages(report, "iam-no-admin-policies", "admin-inline")[0]
    assert "IAMFullAccess" in messages(report, "iam-no-admin-policies", "iam-full-attached")[0]


def test_service_wide_actions_are_refused(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_identity_policies))
    assert flagged(report, "iam-no-wildcard-actions") == {
        "admin-inline",
        "admin-managed",
        "admin-role-inline",
        "admin-not-action",
        "s3-star",
        "iam-star",
        "mixed-star",
    }
    assert "['dynamodb:*']" in messages(report, "iam-no-wildcard-actions", "mixed-star")[0]


def test_scopable_actions_on_every_resource_are_refused(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_identity_policies))
    assert flagged(report, "iam-no-wildcard-resources") == {
        "admin-inline",
        "admin-managed",
        "admin-role-inline",
        "admin-not-action",
        "secrets-anywhere",
        "pass-any-role",
        "read-every-object",
        "not-resource",
    }
    (secrets,) = messages(report, "iam-no-wildcard-resources", "secrets-anywhere")
    assert "['secretsmanager:GetSecretValue'] on Resource '*'" in secrets


def test_more_unscoped_actions_can_be_accepted_by_config(run_component: ComponentRunner, analyze: Analyze) -> None:
    config = {**ALL_MANDATORY, "iam-no-wildcard-resources": {"allowedActions": ["iam:PassRole", "s3:Get*"]}}
    report = analyze(run_component(_identity_policies), config=config)
    assert {"pass-any-role", "read-every-object"}.isdisjoint(flagged(report, "iam-no-wildcard-resources"))
    assert "secrets-anywhere" in flagged(report, "iam-no-wildcard-resources")


def test_policies_granted_to_users_directly_are_refused(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_identity_policies))
    assert flagged(report, "iam-no-user-policies") == {"user-inline", "user-attached"}


GITHUB = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


def _trust_policies() -> None:
    assume = "sts:AssumeRole"
    _role("service-trust")
    _role("anyone-aws", {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": assume})
    _role("anyone-star", {"Effect": "Allow", "Principal": "*", "Action": [assume]})
    # A condition on how, not who, leaves it public.
    _role(
        "anyone-over-tls",
        {
            "Effect": "Allow",
            "Principal": {"AWS": ["*"]},
            "Action": assume,
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        },
    )
    _role(
        "anyone-in-org",
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": assume,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        },
    )
    _role(
        "whole-account", {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": assume}
    )
    _role("bare-account-id", {"Effect": "Allow", "Principal": {"AWS": ["210987654321"]}, "Action": assume})
    _role(
        "vendor-with-external-id",
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
            "Action": assume,
            "Condition": {"StringEquals": {"sts:ExternalId": "7f3c1e"}},
        },
    )
    _role(
        "named-role",
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/deployer"}, "Action": assume},
    )
    _role(
        "everyone-else",
        {"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/x"}, "Action": assume},
    )
    web = {"Effect": "Allow", "Principal": {"Federated": GITHUB}, "Action": "sts:AssumeRoleWithWebIdentity"}
    _role(
        "github-any-repo",
        {**web, "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}},
    )
    _role(
        "github-one-repo",
        {
            **web,
            "Condition": {
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/platform:environment:prod"},
            },
        },
    )


def test_trust_policies_name_who_may_assume_the_role(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_trust_policies))
    assert flagged(report, "iam-role-trust-policy") == {
        "anyone-aws",
        "anyone-star",
        "anyone-over-tls",
        "whole-account",
        "bare-account-id",
        "everyone-else",
        "github-any-repo",
    }
    assert "any AWS account" in messages(report, "iam-role-trust-policy", "anyone-over-tls")[0]
    assert "sts:ExternalId" in messages(report, "iam-role-trust-policy", "whole-account")[0]
    assert "<provider>:sub" in messages(report, "iam-role-trust-policy", "github-any-repo")[0]


def test_public_trust_and_admin_are_mandatory_in_dev(run_component: ComponentRunner, analyze: Analyze) -> None:
    from offline.policy.config import config_file

    run = run_component(_trust_policies)
    report = analyze(run, config=config_file("dev"))
    assert "anyone-aws" in {v.urn.rsplit("::", 1)[-1] for v in report.mandatory if v.policy == "iam-role-trust-policy"}
    assert report.levels["iam-no-admin-policies"] == "mandatory"
    assert report.levels["iam-no-wildcard-actions"] == "advisory"
