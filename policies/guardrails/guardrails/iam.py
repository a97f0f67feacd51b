"""IAM: no administrator or service-wide grants, actions scoped to resources, trust only who is meant.

Identity policies are read wherever they are written: ``aws.iam.Policy``, ``RolePolicy``,
``UserPolicy``, ``GroupPolicy`` (``policy``) and a role's ``inlinePolicies``; managed policies by
their attachments and a role's ``managedPolicyArns``. Trust policies are a role's
``assumeRolePolicy``.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from . import resource_types as t
from .documents import ACCOUNT_ROOT, Statement, statements
from .props import as_list, is_set, iter_mappings
from .rules import Report, resource_policy

# AWS managed policies that grant administrator-equivalent power (AdministratorAccess: everything;
# IAMFullAccess: can grant itself everything; PowerUserAccess: every service's data but IAM).
ADMIN_MANAGED_POLICIES: Final = frozenset({"AdministratorAccess", "IAMFullAccess", "PowerUserAccess"})
ANY_RESOURCE_ACTIONS: Final = Path(__file__).parent / "data" / "any_resource_actions.txt"


@functools.cache
def any_resource_actions() -> Mapping[str, frozenset[str]]:
    """Per service prefix (lowercase): the actions (lowercase) that may be granted on ``*``, plus
    ``<verb>*`` patterns whose every action may (data/any_resource_actions.txt)."""
    table: dict[str, frozenset[str]] = {}
    for line in ANY_RESOURCE_ACTIONS.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        service, _, actions = line.partition(": ")
        table[service.lower()] = frozenset(a.lower() for a in actions.split())
    return table


def accepted_on_any_resource(action: str, extra: Sequence[str] = ()) -> bool:
    """Whether ``action`` (possibly a wildcard) supports no resource scoping, or only lists names."""
    if any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in extra):
        return True
    service, _, name = action.lower().partition(":")
    known = any_resource_actions().get(service, frozenset())
    if "*" not in name and "?" not in name:
        return name in known
    # A wildcard is accepted only inside a verb whose every action is (``ec2:DescribeInst*``).
    head = name.split("*", 1)[0].split("?", 1)[0]
    return any(v.endswith("*") and head.startswith(v[:-1]) and v[:-1] for v in known)


# -- where identity policies live -------------------------------------------------------------------
POLICY_DOCUMENT_TYPES: Final = (t.IAM_POLICY, t.IAM_ROLE_POLICY, t.IAM_USER_POLICY, t.IAM_GROUP_POLICY)
ATTACHMENT_TYPES: Final = (
    t.IAM_ROLE_POLICY_ATTACHMENT,
    t.IAM_POLICY_ATTACHMENT,
    t.IAM_USER_POLICY_ATTACHMENT,
    t.IAM_GROUP_POLICY_ATTACHMENT,
)
EXCLUSIVE_ATTACHMENT_TYPES: Final = (
    t.IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE,
    t.IAM_USER_POLICY_ATTACHMENTS_EXCLUSIVE,
    t.IAM_GROUP_POLICY_ATTACHMENTS_EXCLUSIVE,
)
IDENTITY_TYPES: Final = (*POLICY_DOCUMENT_TYPES, t.IAM_ROLE)


def identity_documents(args: ResourceValidationArgs) -> Iterator[tuple[str, Any]]:
    """``(where, document)`` for every identity policy the resource carries."""
    props = args.props
    if args.resource_type in POLICY_DOCUMENT_TYPES and is_set(props, "policy"):
        yield "policy", props["policy"]
    if args.resource_type == t.IAM_ROLE:
        for inline in iter_mappings(props.get("inlinePolicies")):
            if is_set(inline, "policy"):
                yield f"inline policy {inline.get('name', '')!r}", inline["policy"]


def _admin_arn(arn: Any) -> str | None:
    if isinstance(arn, str) and ":iam::aws:policy/" in arn:
        name = arn.rsplit("/", 1)[-1]
        return name if name in ADMIN_MANAGED_POLICIES else None
    return None


def _everything(patterns: Sequence[str]) -> bool:
    return any(p in ("*", "*:*") for p in patterns)


# -- checks -----------------------------------------------------------------------------------------
def _no_admin(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type in ATTACHMENT_TYPES:
        if name := _admin_arn(args.props.get("policyArn")):
            report(f"Attaches the AWS managed policy {name}: administrator-equivalent power. Grant what the job needs.")
        return
    if args.resource_type in EXCLUSIVE_ATTACHMENT_TYPES:
        for arn in as_list(args.props.get("policyArns")):
            if name := _admin_arn(arn):
                report(f"policyArns includes {name}: administrator-equivalent power. Grant what the job needs.")
        return
    if args.resource_type == t.IAM_ROLE:
        for arn in as_list(args.props.get("managedPolicyArns")):
            if name := _admin_arn(arn):
                report(f"managedPolicyArns includes {name}: administrator-equivalent power.")
    for where, document in identity_documents(args):
        for s in statements(document):
            if not s.allows:
                continue
            resources_all = "*" in s.resources or bool(s.not_resources)
            if _everything(s.actions) and resources_all:
                report(f"{where}, {s.label}: Allow Action '*' on Resource '*' is full administrator access.")
            elif s.not_actions and resources_all:
                report(
                    f"{where}, {s.label}: Allow with NotAction {list(s.not_actions)} on every resource grants every "
                    "other action of every service (administrator access minus a few)."
                )


def _no_wildcard_actions(args: ResourceValidationArgs, report: Report) -> None:
    for where, document in identity_documents(args):
        for s in statements(document):
            if not s.allows:
                continue
            broad = [a for a in s.actions if a == "*" or a.endswith(":*")]
            if broad:
                report(
                    f"{where}, {s.label}: Allow {broad} grants every action of the service (including future ones); "
                    "list the actions the workload calls."
                )
            if s.not_actions:
                report(f"{where}, {s.label}: Allow with NotAction grants everything not listed; list actions instead.")


def _no_wildcard_resources(args: ResourceValidationArgs, report: Report) -> None:
    extra = [str(a) for a in as_list(args.get_config().get("allowedActions"))]
    for where, document in identity_documents(args):
        for s in statements(document):
            if not s.allows:
                continue
            if s.not_resources:
                report(f"{where}, {s.label}: Allow with NotResource applies to every other resource; name ARNs.")
                continue
            if "*" not in s.resources:
                continue
            if s.not_actions:
                report(f"{where}, {s.label}: NotAction on Resource '*' grants every other action on every resource.")
                continue
            unscoped = [a for a in s.actions if not accepted_on_any_resource(a, extra)]
            if unscoped:
                report(
                    f"{where}, {s.label}: {unscoped} on Resource '*' reaches every such resource in the account; "
                    "these actions support resource-level permissions, so name the ARNs."
                )


def _trust_problem(s: Statement) -> str | None:
    if s.not_principal:
        return "Allow with NotPrincipal lets everyone else assume the role"
    if s.public_principal() and not s.restricted_by_condition():
        return "Principal '*' lets any AWS account assume the role (no condition names who)"
    accounts = [p for p in s.principals.get("AWS", ()) if ACCOUNT_ROOT.match(p)]
    if accounts and not s.restricted_by_condition():
        return (
            f"Principal {accounts} trusts every identity of that account with sts:AssumeRole; name the roles, or add "
            "a condition (sts:ExternalId for a third party, aws:PrincipalArn, aws:PrincipalOrgID)"
        )
    federated = s.principals.get("Federated", ())
    if federated and any("sts:AssumeRoleWithWebIdentity" in a or a == "sts:*" for a in s.actions):
        keys = [str(k).lower() for pairs in s.conditions.values() for k in pairs]
        if not any(k.endswith(":sub") for k in keys):
            return (
                f"web identity from {list(federated)} without a condition on the token's subject (<provider>:sub): "
                "every repository or workload the provider issues tokens for may assume the role"
            )
    return None


def _trust_policy(args: ResourceValidationArgs, report: Report) -> None:
    if not is_set(args.props, "assumeRolePolicy"):
        return
    for s in statements(args.props["assumeRolePolicy"]):
        if s.allows and (problem := _trust_problem(s)):
            report(f"assumeRolePolicy, {s.label}: {problem}.")


def _no_user_policies(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == t.IAM_POLICY_ATTACHMENT and not as_list(args.props.get("users")):
        return
    if args.resource_type == t.IAM_USER_POLICY_ATTACHMENTS_EXCLUSIVE and not as_list(args.props.get("policyArns")):
        return  # an empty list detaches every managed policy from the user: the opposite of a grant
    report("Permissions are granted to an IAM user directly; grant them to a role (or a group) that users assume.")


def _no_access_keys(args: ResourceValidationArgs, report: Report) -> None:
    report(
        "An IAM access key is a long-lived credential, and Pulumi keeps its secret in the stack state; "
        "workloads use role credentials (task, instance or web identity roles), which expire."
    )


def policies() -> Sequence[ResourceValidationPolicy]:
    mandatory, advisory = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
    return [
        resource_policy(
            name="iam-no-admin-policies",
            description="No IAM policy grants administrator access (Action * on Resource *, or an admin managed "
            "policy).",
            types=[*IDENTITY_TYPES, *ATTACHMENT_TYPES, *EXCLUSIVE_ATTACHMENT_TYPES],
            check=_no_admin,
            enforcement=mandatory,
            severity=Severity.CRITICAL,
            remediation="List the actions the workload calls on the ARNs it uses; never attach AdministratorAccess, "
            "IAMFullAccess or PowerUserAccess to a workload.",
        ),
        resource_policy(
            name="iam-no-wildcard-actions",
            description="IAM policies do not grant every action of a service ('*', '<service>:*', NotAction).",
            types=IDENTITY_TYPES,
            check=_no_wildcard_actions,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="Replace '<service>:*' with the actions the workload calls (e.g. s3:GetObject, s3:PutObject).",
        ),
        resource_policy(
            name="iam-no-wildcard-resources",
            description="IAM policies grant actions that support resource-level permissions on named ARNs, not '*'.",
            types=IDENTITY_TYPES,
            check=_no_wildcard_resources,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="Name the resources' ARNs. '*' is accepted only for actions without resource-level "
            "permissions (e.g. ecr:GetAuthorizationToken) and List-level actions.",
            config_schema=PolicyConfigSchema(
                properties={
                    "allowedActions": {
                        "type": "array",
                        "items": {"type": "string"},
                        "default": [],
                        "description": "Further actions (wildcards allowed) accepted on Resource '*', e.g. actions "
                        "AWS added after the pack's action list was generated.",
                    }
                }
            ),
        ),
        resource_policy(
            name="iam-role-trust-policy",
            description="Role trust policies name who may assume the role: no public or whole-account principal "
            "without a condition, no web identity without a subject condition.",
            types=[t.IAM_ROLE],
            check=_trust_policy,
            enforcement=mandatory,
            severity=Severity.CRITICAL,
            remediation="Trust a service principal with aws:SourceAccount/aws:SourceArn, named role ARNs, or an "
            "account with sts:ExternalId / aws:PrincipalArn; pin web identity to <provider>:sub.",
        ),
        resource_policy(
            name="iam-no-user-policies",
            description="IAM users get no policies of their own; permissions go to roles or groups.",
            types=[
                t.IAM_USER_POLICY,
                t.IAM_USER_POLICY_ATTACHMENT,
                t.IAM_USER_POLICY_ATTACHMENTS_EXCLUSIVE,
                t.IAM_POLICY_ATTACHMENT,
            ],
            check=_no_user_policies,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="Attach the policy to a role the user assumes (or to a group), not to the user.",
        ),
        resource_policy(
            name="iam-no-access-keys",
            description="The stack creates no IAM access keys (long-lived user credentials).",
            types=[t.IAM_ACCESS_KEY],
            check=_no_access_keys,
            enforcement=mandatory,
            severity=Severity.HIGH,
            remediation="Remove the aws.iam.AccessKey: give the workload a role (ECS taskRoleArn, an instance "
            "profile, or an OIDC web identity role for CI) instead of a user's keys.",
        ),
    ]
