"""Customer-managed KMS keys for a stack, one per data class: logs, data stores, secrets.

Each key rotates automatically and has a key policy that names exactly who may use it (docs/keys.md
explains the split and cites the AWS documentation each statement follows):

* the account root may administer the key (``kms:*``): KMS's default key policy statement, which
  hands the decision to IAM and keeps the key manageable (KMS refuses a policy that would lock the
  account out of it);
* **logs**: CloudWatch Logs (``logs.<region>.amazonaws.com``) for this stack's log groups only, by
  the ``kms:EncryptionContext:aws:logs:arn`` condition;
* **data**: principals of this account, only through RDS and ElastiCache (``kms:ViaService``,
  ``kms:CallerAccount``, grants only for AWS resources), and the roles that read Performance
  Insights, only through RDS and only for Performance Insights' encryption context;
* **secrets**: principals of this account may encrypt through Secrets Manager (creating and
  updating secrets); only the roles passed in may decrypt, through Secrets Manager; RDS-managed
  secrets (``rds!…``) may also be decrypted through Secrets Manager, so RDS can rotate them.

The documents are built from plain values (account, region, names, role ARNs), so they are known at
``pulumi preview`` and the policy pack checks them there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.errors import InputError, in_range, require

KMS_KEYS_TYPE: Final = "platform:kms:DataKeys"
# ScheduleKeyDeletion PendingWindowInDays: "between 7 and 30, inclusive" (botocore's KMS model docs).
DELETION_WINDOW_DAYS: Final = (7, 30)
# EnableKeyRotation RotationPeriodInDays: min 90, max 2560 (botocore's KMS model).
ROTATION_PERIOD_DAYS: Final = (90, 2560)
# CreateAlias AliasName: ^[a-zA-Z0-9:/_-]+$, 1-256 characters, and the alias/aws/ prefix is AWS's.
_ALIAS_PREFIX: Final = re.compile(r"^[a-zA-Z0-9/_-]{1,200}$")
# CloudWatch Logs log group names: 1-512 characters of [.-_/#A-Za-z0-9].
_LOG_GROUP_PREFIX: Final = re.compile(r"^[.\-_/#A-Za-z0-9]{1,511}$")
_ROLE_ARN: Final = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}$")

# The operations a storage service performs with the key (the RDS, ElastiCache and Secrets Manager
# documentation list these; GenerateDataKey* and ReEncrypt* cover their variants).
SERVICE_USE_ACTIONS: Final = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
)
GRANT_ACTIONS: Final = ("kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant")
DataClass = Literal["logs", "data", "secrets"]
DATA_CLASSES: Final[tuple[DataClass, ...]] = ("logs", "data", "secrets")
SECRETS_MANAGER: Final = "secretsmanager"
LOGS_ACTIONS: Final = (
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
)


@dataclass(frozen=True, kw_only=True)
class DataKeysArgs:
    """Settings for the stack's three customer-managed keys."""

    context: AwsContext
    """Account, region and partition the keys live in."""
    alias_prefix: str
    """Aliases become ``alias/<alias_prefix>/{logs,data,secrets}`` (e.g. ``container-platform/prod``)."""
    log_group_prefixes: Sequence[str]
    """Names (or name prefixes) of this stack's log groups; CloudWatch Logs may use the logs key for
    those only (``/aws/vpc/prod-``, ``/ecs/prod-``, ...)."""
    secret_reader_role_arns: Sequence[str]
    """Roles (this account) that read the stack's secrets, e.g. the ECS execution roles."""
    performance_insights_reader_role_arns: Sequence[str] = ()
    """Roles (this account) that view Performance Insights of the stack's databases."""
    rotation_period_days: int = 365
    """How often KMS rotates the key material (90-2560 days)."""
    deletion_window_days: int = 30
    """Waiting period before a deleted key is gone (7-30 days)."""
    after: Sequence[pulumi.Resource] = ()
    """Resources the keys are created after: the roles their policies name. KMS refuses a key policy
    whose principals do not exist yet (CreateKey API reference: "each principal ... must exist"), so the
    keys wait for those roles instead of racing them."""

    def __post_init__(self) -> None:
        check_alias_prefix("alias_prefix", self.alias_prefix)
        require(bool(self.log_group_prefixes), "log_group_prefixes", list(self.log_group_prefixes), "one or more")
        for i, group in enumerate(self.log_group_prefixes):
            require(
                isinstance(group, str) and bool(_LOG_GROUP_PREFIX.match(group)),
                f"log_group_prefixes[{i}]",
                group,
                "a log group name or prefix of letters, digits and . - _ / # (no '*': it is added)",
            )
        for field in ("secret_reader_role_arns", "performance_insights_reader_role_arns"):
            for i, arn in enumerate(getattr(self, field)):
                match = _ROLE_ARN.match(arn) if isinstance(arn, str) else None
                if match is None or match["account"] != self.context.account_id:
                    raise InputError(
                        f"{field}[{i}]",
                        arn,
                        f"an IAM role ARN in account {self.context.account_id} "
                        "(arn:aws:iam::<account>:role/<name>, a plain string so the key policy is known at preview)",
                    )
        require(
            bool(self.secret_reader_role_arns),
            "secret_reader_role_arns",
            list(self.secret_reader_role_arns),
            "one or more roles: without one, nobody could read the secrets",
        )
        in_range("rotation_period_days", self.rotation_period_days, *ROTATION_PERIOD_DAYS, "days")
        in_range("deletion_window_days", self.deletion_window_days, *DELETION_WINDOW_DAYS, "days")


class DataKeys(pulumi.ComponentResource):
    """Three rotating customer-managed KMS keys (logs, data stores, secrets) with narrow key policies."""

    logs_key_arn: pulumi.Output[str]
    """For every log group of the stack (``kmsKeyId``)."""
    data_key_arn: pulumi.Output[str]
    """For RDS storage and Performance Insights, and ElastiCache at rest."""
    secrets_key_arn: pulumi.Output[str]
    """For Secrets Manager secrets, including the RDS-managed master user secret."""
    alias_arns: dict[DataClass, str]
    """Alias ARN per data class (plain: composed from the alias prefix)."""
    arns: KeyArns
    """The three keys as components take them."""

    def __init__(self, name: str, args: DataKeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(KMS_KEYS_TYPE, name, None, opts)
        self._name, self._args = name, args
        self.logs_key_arn = self._key("logs", "CloudWatch Logs of this stack", logs_key_policy(args))
        self.data_key_arn = self._key("data", "RDS and ElastiCache data at rest", data_key_policy(args))
        self.secrets_key_arn = self._key("secrets", "Secrets Manager secrets", secrets_key_policy(args))
        self.alias_arns = {c: args.context.arn("kms", alias_name(args, c)) for c in DATA_CLASSES}
        self.arns = KeyArns(
            logs=self.logs_key_arn,
            data=self.data_key_arn,
            secrets=self.secrets_key_arn,
            secrets_alias_arn=self.alias_arns["secrets"],
        )
        self.register_outputs(
            {
                "logsKeyArn": self.logs_key_arn,
                "dataKeyArn": self.data_key_arn,
                "secretsKeyArn": self.secrets_key_arn,
            }
        )

    def _key(self, data_class: DataClass, what: str, policy: dict[str, Any]) -> pulumi.Output[str]:
        name, args = self._name, self._args
        child = pulumi.ResourceOptions(parent=self)
        key = aws.kms.Key(
            f"{name}-{data_class}",
            description=f"{what} ({args.alias_prefix})",
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            rotation_period_in_days=args.rotation_period_days,
            deletion_window_in_days=args.deletion_window_days,
            # The policy is part of the key: it never exists with KMS's default policy.
            policy=json.dumps(policy),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)),
        )
        aws.kms.Alias(
            f"{name}-{data_class}-alias", name=alias_name(args, data_class), target_key_id=key.key_id, opts=child
        )
        return key.arn


def check_alias_prefix(setting: str, prefix: str) -> None:
    """An alias prefix KMS accepts (CreateAlias's pattern without ':'), not AWS's own ``aws/``."""
    require(
        isinstance(prefix, str)
        and bool(_ALIAS_PREFIX.match(prefix))
        and not prefix.startswith(("aws/", "alias/"))
        and "//" not in prefix,
        setting,
        prefix,
        "letters, digits, '/', '_' and '-' (not starting with aws/ or alias/), e.g. container-platform/prod",
    )


def alias_name(args: DataKeysArgs, data_class: DataClass) -> str:
    return key_alias(args.alias_prefix, data_class)


def key_alias(alias_prefix: str, data_class: DataClass) -> str:
    """``alias/<alias_prefix>/<data class>``: the alias a DataKeys key gets (plain, known before the key)."""
    return f"alias/{alias_prefix}/{data_class}"


@dataclass(frozen=True, kw_only=True)
class KeyArns:
    """The keys a component encrypts its data with, by data class (what ``DataKeys`` creates).

    Key ARNs are what the services store (CloudWatch Logs and ElastiCache take no alias, and RDS reads
    a key ARN back, so an alias would show as a change on every update). ``secrets_alias_arn`` is
    plain: readers are granted ``kms:Decrypt`` through it (``kms:ResourceAliases``), which keeps their
    policies known at ``pulumi preview``."""

    logs: pulumi.Input[str]
    """For log groups (``kmsKeyId``)."""
    data: pulumi.Input[str]
    """For data at rest: RDS storage and Performance Insights, ElastiCache."""
    secrets: pulumi.Input[str]
    """For Secrets Manager secrets, including the RDS-managed master user secret."""
    secrets_alias_arn: str
    """``arn:<partition>:kms:<region>:<account>:alias/<prefix>/secrets`` (plain)."""

    def __post_init__(self) -> None:
        require(
            isinstance(self.secrets_alias_arn, str) and ":alias/" in self.secrets_alias_arn,
            "keys.secrets_alias_arn",
            self.secrets_alias_arn,
            "the plain alias ARN of the secrets key (arn:aws:kms:<region>:<account>:alias/<name>)",
        )


def secret_decrypt_statements(ctx: AwsContext, key_arns: Sequence[pulumi.Input[str]]) -> list[dict[str, Any]]:
    """IAM statements that let a role decrypt secrets encrypted with these keys, through Secrets Manager
    or SSM only (``kms:ViaService``). An alias ARN cannot be the resource of a key operation, so a key
    named by its alias is granted on ``key/*`` with the alias as ``kms:ResourceAliases`` condition
    (plain, so the policy is known at preview); a key ARN is granted as itself."""
    via = {"kms:ViaService": [f"{service}.{ctx.region}.{ctx.dns_suffix}" for service in (SECRETS_MANAGER, "ssm")]}
    aliases = sorted({k.split(":", 5)[5] for k in key_arns if isinstance(k, str) and ":alias/" in k})
    keys = [k for k in key_arns if not (isinstance(k, str) and ":alias/" in k)]
    statements: list[dict[str, Any]] = []
    if keys:
        statements.append(
            {
                "Sid": "DecryptSecretsViaTheirServices",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": keys,
                "Condition": {"StringEquals": via},
            }
        )
    if aliases:
        statements.append(
            {
                "Sid": "DecryptSecretsByKeyAlias",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": ctx.arn("kms", "key/*"),
                "Condition": {"StringEquals": via, "ForAnyValue:StringEquals": {"kms:ResourceAliases": aliases}},
            }
        )
    return statements


def _root_admin(ctx: AwsContext) -> dict[str, Any]:
    return {
        "Sid": "AccountAdministersThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{ctx.partition}:iam::{ctx.account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def _via(ctx: AwsContext, *services: str) -> dict[str, Any]:
    endpoints = [f"{service}.{ctx.region}.{ctx.dns_suffix}" for service in services]
    return {"kms:CallerAccount": ctx.account_id, "kms:ViaService": endpoints[0] if len(endpoints) == 1 else endpoints}


def _document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def logs_key_policy(args: DataKeysArgs) -> dict[str, Any]:
    """CloudWatch Logs may use the key for this stack's log groups (and nothing else)."""
    ctx = args.context
    groups = [ctx.arn("logs", f"log-group:{prefix}*") for prefix in args.log_group_prefixes]
    return _document(
        _root_admin(ctx),
        {
            "Sid": "CloudWatchLogsEncryptsThisStacksGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{ctx.region}.{ctx.dns_suffix}"},
            "Action": list(LOGS_ACTIONS),
            "Resource": "*",
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": groups}},
        },
    )


def data_key_policy(args: DataKeysArgs) -> dict[str, Any]:
    """RDS and ElastiCache may use the key for this account's callers; named roles read Performance Insights."""
    ctx = args.context
    statements = [
        _root_admin(ctx),
        {
            "Sid": "RdsAndElastiCacheForThisAccount",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": list(SERVICE_USE_ACTIONS),
            "Resource": "*",
            "Condition": {"StringEquals": _via(ctx, "rds", "elasticache")},
        },
        {
            "Sid": "RdsAndElastiCacheGrantsForTheirResources",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": list(GRANT_ACTIONS),
            "Resource": "*",
            "Condition": {
                "StringEquals": _via(ctx, "rds", "elasticache"),
                "Bool": {"kms:GrantIsForAWSResource": "true"},
            },
        },
    ]
    if args.performance_insights_reader_role_arns:
        statements.append(
            {
                "Sid": "ReadPerformanceInsights",
                "Effect": "Allow",
                "Principal": {"AWS": sorted(args.performance_insights_reader_role_arns)},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"rds.{ctx.region}.{ctx.dns_suffix}"},
                    "ForAnyValue:StringEquals": {
                        "kms:EncryptionContext:aws:pi:service": "rds",
                        "kms:EncryptionContext:service": "pi",
                    },
                },
            }
        )
    return _document(*statements)


def secrets_key_policy(args: DataKeysArgs) -> dict[str, Any]:
    """Anyone of this account may store secrets through Secrets Manager; only named roles read them."""
    ctx = args.context
    return _document(
        _root_admin(ctx),
        {
            "Sid": "SecretsManagerEncryptsForThisAccount",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": _via(ctx, "secretsmanager")},
        },
        {
            "Sid": "NamedRolesReadSecrets",
            "Effect": "Allow",
            "Principal": {"AWS": sorted(args.secret_reader_role_arns)},
            "Action": ["kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": _via(ctx, "secretsmanager")},
        },
        {
            "Sid": "RdsRotatesItsManagedSecrets",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {
                "StringEquals": _via(ctx, "secretsmanager"),
                "StringLike": {"kms:EncryptionContext:SecretARN": ctx.arn("secretsmanager", "secret:rds!*")},
            },
        },
    )
