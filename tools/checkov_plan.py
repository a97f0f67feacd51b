"""Convert a stack's offline plan into a Terraform plan JSON that checkov's ``terraform_plan`` framework reads.

    python -m tools.checkov_plan STACK [--preview] [--from PLAN.json] [--out FILE] [--checkov PATH]

Runs the stack through the mock cloud (as ``python -m offline.plan`` does; ``--from`` converts a plan
JSON it wrote instead) and writes ``build/checkov-<stack>.json`` and ``build/checkov-<stack>.baseline.json``
(the findings the platform accepts, ``ACCEPTED``, per resource; docs/policies.md lists them). With
``--checkov`` it runs that checkov, prints the passed and failed counts and every failed check, and
exits 1 if a failed check is not accepted; without it, it prints the checkov command to run.

A peer's security suite runs checkov's AWS checks on the prod stack this way, so the conversion
mirrors what a Terraform plan of the same resources holds:

* the type: pulumi-aws is generated from the Terraform AWS provider, and each token is the
  provider's resource name (``aws:rds/instance:Instance`` is ``aws_db_instance``); ``TERRAFORM_TYPES``
  is the bridge's mapping (provider/resources.go, bridge-metadata.json) for the tokens the stacks use,
  and other tokens follow the bridge's default rule (``aws:<module>/<name>`` -> ``aws_<module>_<name>``);
* the values: what the program registers (its inputs; a Terraform plan also shows the values the
  user wrote), camelCase -> snake_case, list blocks back to the provider's singular block names
  (``loadBalancers`` -> ``load_balancer``, ``PLURAL_BLOCKS``), map attributes (``tags``,
  ``dimensions``) with their keys untouched, JSON documents (policies, ``containerDefinitions``) as
  strings, ``tags_all`` with the provider's default tags; values unknown at preview are null (a
  Terraform plan's "known after apply") and secrets a placeholder (known, but masked in the plan);
* the references: a Terraform plan's ``configuration`` says which attribute refers to which resource,
  and checkov's connection checks (a bucket's public access block, a security group's attachment)
  follow them. The Pulumi equivalent is the property dependency, so each becomes a reference.

Only AWS resources are converted: components, providers and the Docker image have no Terraform AWS
type. No cloud account, Terraform or Pulumi CLI is needed; checkov is not a dependency of the project
(a ~300 MB install of its own): ``python3 -m venv /tmp/checkov-venv && /tmp/checkov-venv/bin/pip
install checkov``.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from mockcloud.runner import PROJECT_DIR, close_event_loop, committed_stacks, run_stack
from offline.plan_output import SECRET, UNKNOWN, plan_document

FORMAT_VERSION: Final = "1.2"
PROVIDER_NAME: Final = "registry.terraform.io/hashicorp/aws"
SECRET_PLACEHOLDER: Final = "(sensitive value)"  # noqa: S105 (what `terraform show` prints for a sensitive value)

# Token -> Terraform type, from the bridge's mapping, for every AWS type the committed stacks (and the
# components a team extending them uses) register. Where the default rule below gives the same name,
# the entry is still listed so a test can pin the whole table.
TERRAFORM_TYPES: Final[dict[str, str]] = {
    "aws:acm/certificate:Certificate": "aws_acm_certificate",
    "aws:acm/certificateValidation:CertificateValidation": "aws_acm_certificate_validation",
    "aws:appautoscaling/policy:Policy": "aws_appautoscaling_policy",
    "aws:appautoscaling/target:Target": "aws_appautoscaling_target",
    "aws:cloudwatch/dashboard:Dashboard": "aws_cloudwatch_dashboard",
    "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "aws_cloudwatch_log_resource_policy",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "aws_default_security_group",
    "aws:ec2/eip:Eip": "aws_eip",
    "aws:ec2/flowLog:FlowLog": "aws_flow_log",
    "aws:ec2/instance:Instance": "aws_instance",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:ec2/launchTemplate:LaunchTemplate": "aws_launch_template",
    "aws:ec2/natGateway:NatGateway": "aws_nat_gateway",
    "aws:ec2/route:Route": "aws_route",
    "aws:ec2/routeTable:RouteTable": "aws_route_table",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "aws_route_table_association",
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "aws_security_group_rule",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/volume:Volume": "aws_ebs_volume",
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "aws_vpc_endpoint",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": "aws_ecr_lifecycle_policy",
    "aws:ecr/registryPolicy:RegistryPolicy": "aws_ecr_registry_policy",
    "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration": "aws_ecr_registry_scanning_configuration",
    "aws:ecr/replicationConfiguration:ReplicationConfiguration": "aws_ecr_replication_configuration",
    "aws:ecr/repository:Repository": "aws_ecr_repository",
    "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate": "aws_ecr_repository_creation_template",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "aws_ecr_repository_policy",
    "aws:ecs/cluster:Cluster": "aws_ecs_cluster",
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": "aws_ecs_cluster_capacity_providers",
    "aws:ecs/service:Service": "aws_ecs_service",
    "aws:ecs/taskDefinition:TaskDefinition": "aws_ecs_task_definition",
    "aws:elasticache/cluster:Cluster": "aws_elasticache_cluster",
    "aws:elasticache/parameterGroup:ParameterGroup": "aws_elasticache_parameter_group",
    "aws:elasticache/replicationGroup:ReplicationGroup": "aws_elasticache_replication_group",
    "aws:elasticache/subnetGroup:SubnetGroup": "aws_elasticache_subnet_group",
    "aws:elasticache/user:User": "aws_elasticache_user",
    "aws:elasticache/userGroup:UserGroup": "aws_elasticache_user_group",
    "aws:iam/policy:Policy": "aws_iam_policy",
    "aws:iam/role:Role": "aws_iam_role",
    "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
    "aws:kms/alias:Alias": "aws_kms_alias",
    "aws:kms/key:Key": "aws_kms_key",
    "aws:lambda/function:Function": "aws_lambda_function",
    "aws:lambda/permission:Permission": "aws_lambda_permission",
    "aws:lb/listener:Listener": "aws_lb_listener",
    "aws:lb/listenerRule:ListenerRule": "aws_lb_listener_rule",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:lb/targetGroup:TargetGroup": "aws_lb_target_group",
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": "aws_lb_target_group_attachment",
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/parameterGroup:ParameterGroup": "aws_db_parameter_group",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
    "aws:route53/record:Record": "aws_route53_record",
    "aws:route53/zone:Zone": "aws_route53_zone",
    "aws:s3/bucket:Bucket": "aws_s3_bucket",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "aws_s3_bucket_lifecycle_configuration",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "aws_s3_bucket_ownership_controls",
    "aws:s3/bucketPolicy:BucketPolicy": "aws_s3_bucket_policy",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "aws_s3_bucket_public_access_block",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "aws_s3_bucket_server_side_encryption_configuration"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "aws_s3_bucket_versioning",
    "aws:secretsmanager/secret:Secret": "aws_secretsmanager_secret",
    "aws:secretsmanager/secretRotation:SecretRotation": "aws_secretsmanager_secret_rotation",
    "aws:secretsmanager/secretVersion:SecretVersion": "aws_secretsmanager_secret_version",
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": "aws_service_discovery_private_dns_namespace",
    "aws:servicediscovery/service:Service": "aws_service_discovery_service",
    "aws:sns/topic:Topic": "aws_sns_topic",
    "aws:ssm/parameter:Parameter": "aws_ssm_parameter",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "aws_vpc_security_group_egress_rule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "aws_vpc_security_group_ingress_rule",
    "aws:wafv2/webAcl:WebAcl": "aws_wafv2_web_acl",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "aws_wafv2_web_acl_association",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "aws_wafv2_web_acl_logging_configuration",
}

# Pulumi pluralizes the name of a list block whose Terraform name is singular (the bridge's
# renamedProperties); per Terraform type, every depth of that resource. Names the bridge keeps
# (`ingress`, `subnets`, `service_registries`, `dns_records`, `redacted_fields`) need no entry.
PLURAL_BLOCKS: Final[dict[str, dict[str, str]]] = {
    "aws_cloudwatch_metric_alarm": {"metricQueries": "metric_query"},
    "aws_ecr_registry_scanning_configuration": {"rules": "rule", "repositoryFilters": "repository_filter"},
    "aws_ecr_replication_configuration": {
        "rules": "rule",
        "destinations": "destination",
        "repositoryFilters": "repository_filter",
    },
    "aws_ecr_repository": {
        "encryptionConfigurations": "encryption_configuration",
        "imageTagMutabilityExclusionFilters": "image_tag_mutability_exclusion_filter",
    },
    "aws_ecr_repository_creation_template": {
        "appliedFors": "applied_for",
        "encryptionConfigurations": "encryption_configuration",
        "imageTagMutabilityExclusionFilters": "image_tag_mutability_exclusion_filter",
    },
    "aws_ecs_cluster": {"settings": "setting"},
    "aws_ecs_cluster_capacity_providers": {
        "defaultCapacityProviderStrategies": "default_capacity_provider_strategy",
    },
    "aws_ecs_service": {
        "capacityProviderStrategies": "capacity_provider_strategy",
        "loadBalancers": "load_balancer",
        "orderedPlacementStrategies": "ordered_placement_strategy",
    },
    "aws_ecs_task_definition": {"volumes": "volume", "inferenceAccelerators": "inference_accelerator"},
    "aws_elasticache_parameter_group": {"parameters": "parameter"},
    "aws_elasticache_replication_group": {"logDeliveryConfigurations": "log_delivery_configuration"},
    "aws_elasticache_cluster": {"logDeliveryConfigurations": "log_delivery_configuration"},
    "aws_db_parameter_group": {"parameters": "parameter"},
    "aws_iam_role": {"inlinePolicies": "inline_policy"},
    "aws_lb": {"subnetMappings": "subnet_mapping"},
    "aws_lb_listener": {"defaultActions": "default_action", "targetGroups": "target_group"},
    "aws_lb_listener_rule": {"actions": "action", "conditions": "condition", "targetGroups": "target_group"},
    "aws_lb_target_group": {"targetFailovers": "target_failover", "targetHealthStates": "target_health_state"},
    "aws_route53_record": {"aliases": "alias"},
    "aws_s3_bucket_lifecycle_configuration": {"rules": "rule"},
    "aws_s3_bucket_server_side_encryption_configuration": {"rules": "rule"},
    "aws_vpc_endpoint": {"subnetConfigurations": "subnet_configuration"},
    "aws_wafv2_web_acl": {
        "rules": "rule",
        "statements": "statement",
        "ruleActionOverrides": "rule_action_override",
        "textTransformations": "text_transformation",
        "responseHeaders": "response_header",
        "insertHeaders": "insert_header",
        "customResponseBodies": "custom_response_body",
    },
}

# Map attributes: their keys are data (tag keys, metric dimensions, environment variables), not
# property names. Keys that are not camelCase identifiers are never renamed anyway.
MAP_ATTRIBUTES: Final = frozenset({"tags", "tagsAll", "dimensions", "variables"})

# Attributes Terraform holds as JSON strings (a Pulumi input may also take the document as an object).
JSON_STRING_ATTRIBUTES: Final = frozenset(
    {"policy", "assumeRolePolicy", "containerDefinitions", "policyDocument", "accessPolicies", "dashboardBody"}
)


@dataclass(frozen=True, kw_only=True)
class Accepted:
    """A checkov finding this platform accepts on some resources, and why."""

    check_id: str
    resources: tuple[str, ...]
    """Terraform addresses it applies to, as ``fnmatch`` patterns (``*`` stands for the stack's prefix):
    never a whole check, so the same check still fails on a resource it was not accepted for."""
    reason: str


# One home for what checkov reports and the platform accepts: the converter writes the baseline file
# that suppresses exactly these (check, resource) pairs, and docs/policies.md's "checkov findings we
# accept" table is generated from it (python -m offline.readme).
_LOG_BUCKET: Final = ("aws_s3_bucket.*-alb-logs",)
_NLB: Final = ("aws_lb.*-nlb-nlb",)


def _dev(check_id: str, resource: str, reason: str) -> Accepted:
    """A finding on a dev resource that a stack setting chose; the named guardrail is mandatory in prod."""
    return Accepted(check_id=check_id, resources=(resource,), reason=f"dev's choice: {reason}")


ACCEPTED: Final[tuple[Accepted, ...]] = (
    # -- the ALB access-log bucket (prod and dev) ---------------------------------------------------
    Accepted(
        check_id="CKV_AWS_145",
        resources=_LOG_BUCKET,
        reason="ELB delivers access logs only to a bucket encrypted with S3-managed keys (SSE-S3); it "
        "cannot write to an SSE-KMS bucket. `s3-default-encryption` requires SSE-S3 or KMS.",
    ),
    Accepted(
        check_id="CKV_AWS_18",
        resources=_LOG_BUCKET,
        reason="Server access logging of the access-log bucket needs another log bucket (and that one "
        "another); only ELB log delivery may write to it (bucket policy), and CloudTrail records reads.",
    ),
    Accepted(
        check_id="CKV_AWS_21",
        resources=_LOG_BUCKET,
        reason="Logs are written once by ELB and expire after `logRetentionDays`; versioning "
        "would keep every expired object as a billed non-current version. No role of the stack may "
        "delete or overwrite objects (the bucket policy grants only `s3:PutObject` to log delivery).",
    ),
    Accepted(
        check_id="CKV_AWS_144",
        resources=_LOG_BUCKET,
        reason="Cross-region replication would double the storage of expiring access logs kept for "
        "incident analysis; they are not data the platform must survive a region loss with.",
    ),
    Accepted(
        check_id="CKV2_AWS_62",
        resources=_LOG_BUCKET,
        reason="Nothing consumes an event per new log object; a notification without a consumer configures nothing.",
    ),
    # -- the NLB in front of the ALB (prod) ----------------------------------------------------------
    Accepted(
        check_id="CKV2_AWS_20",
        resources=_NLB,
        reason="A Network Load Balancer cannot redirect: its TCP :80 listener passes connections to "
        "the ALB, whose HTTP listener redirects to HTTPS (`alb-https-with-redirect`). The check "
        "applies its ALB rule to every `aws_lb`.",
    ),
    Accepted(
        check_id="CKV_AWS_91",
        resources=_NLB,
        reason="NLB access logs are written only for TLS listeners; this NLB's listeners are TCP "
        "pass-throughs to the ALB, whose access logs (`alb-access-logs`) record every request.",
    ),
    Accepted(
        check_id="CKV2_AWS_19",
        resources=("aws_eip.*-nlb-eip-*",),
        reason="The NLB's static addresses are attached to the NLB by its subnet mappings "
        "(`allocation_id`); the check counts only instances, EIP associations, NAT gateways and "
        "Transfer servers.",
    ),
    Accepted(
        check_id="CKV_AWS_260",
        resources=("aws_vpc_security_group_ingress_rule.*-nlb-into-alb-80-*",),
        reason="Not from 0.0.0.0/0: the rule admits the NLB's security group "
        "(`referenced_security_group_id`). The check does not read that attribute of "
        "`aws_vpc_security_group_ingress_rule` and takes a rule without a CIDR for an open one.",
    ),
    # -- the ALB's edge (prod and dev) ---------------------------------------------------------------
    Accepted(
        check_id="CKV_AWS_260",
        resources=("aws_vpc_security_group_ingress_rule.*-alb-http-in-*",),
        reason="Port 80 is open to the internet only so that the HTTP listener can redirect to HTTPS "
        "(`alb-https-with-redirect` checks that it does nothing else).",
    ),
    Accepted(
        check_id="CKV_AWS_378",
        resources=("aws_lb_target_group.*-alb-*",),
        reason="TLS ends at the ALB; tasks are reached over HTTP inside the VPC, from the ALB's "
        "security group only (`sg-no-public-ingress`). Re-encrypting would need a certificate in "
        "every task for traffic that never leaves the VPC.",
    ),
    Accepted(
        check_id="CKV2_AWS_76",
        resources=("aws_lb.*-alb-alb",),
        reason="The web ACL has the Log4j rules (AWSManagedRulesKnownBadInputsRuleSet, blocking in "
        "prod: `waf-known-bad-inputs`, CKV_AWS_192). The check also demands "
        "AWSManagedRulesAnonymousIpList, whose HostingProviderIPList rule blocks cloud hosting "
        "ranges, where the partners reaching the platform through the NLB's static addresses run.",
    ),
    # -- the registry-ownership lock (prod and dev) --------------------------------------------------
    Accepted(
        check_id="CKV2_AWS_34",
        resources=("aws_ssm_parameter.*-registry-settings-lock*",),
        reason="The lock holds the owning stack's name, not a secret, in plain text on purpose: diffs "
        "show who owns the registry-wide ECR settings. Secrets live in Secrets Manager.",
    ),
    # -- dev: choices of Pulumi.dev.yaml; the guardrail named is mandatory in prod --------------------
    _dev("CKV2_AWS_11", "aws_vpc.dev-vpc", "no flow logs (`flowLogs`); `vpc-flow-logs`."),
    _dev(
        "CKV_AWS_2",
        "aws_lb_listener.dev-alb-http",
        "no domain, so no certificate: HTTP forwards; `alb-https-with-redirect`.",
    ),
    _dev("CKV_AWS_103", "aws_lb_listener.dev-alb-http", "no certificate, so no TLS listener; `listener-tls-policy`."),
    _dev("CKV2_AWS_20", "aws_lb.dev-alb-alb", "no certificate, so no redirect; `alb-https-with-redirect`."),
    _dev(
        "CKV_AWS_150", "aws_lb.dev-alb-alb", "no deletion protection (`deletionProtection`); `alb-deletion-protection`."
    ),
    _dev(
        "CKV_AWS_293",
        "aws_db_instance.dev-db-instance",
        "no deletion protection (`deletionProtection`); `rds-deletion-protection`.",
    ),
    _dev("CKV_AWS_157", "aws_db_instance.dev-db-instance", "one AZ (`dbMultiAz`); `rds-multi-az`."),
    _dev("CKV_AWS_354", "aws_db_instance.dev-db-instance", "AWS managed keys (`customerManagedKeys`); `rds-cmk`."),
    _dev(
        "CKV_AWS_191",
        "aws_elasticache_replication_group.dev-cache-group",
        "AWS owned key (`customerManagedKeys`); `elasticache-cmk`.",
    ),
    _dev(
        "CKV_AWS_158",
        "aws_cloudwatch_log_group.dev-*",
        "log groups without a customer-managed key (`customerManagedKeys`); `log-group-kms`.",
    ),
    _dev(
        "CKV_AWS_338", "aws_cloudwatch_log_group.dev-*", "14 days of logs (`logRetentionDays`); `log-group-retention`."
    ),
    _dev(
        "CKV_AWS_51",
        "aws_ecr_repository.dev-registry-*",
        "`IMMUTABLE_WITH_EXCLUSION`: one tag "
        "(`ecrBuildCacheTag`) is the registry build cache every build moves; every other tag is "
        "immutable. checkov accepts only `IMMUTABLE`; `ecr-immutable-tags` accepts both.",
    ),
    _dev(
        "CKV_AWS_192",
        "aws_wafv2_web_acl.dev-waf-acl",
        "the web ACL counts instead of blocking (`wafMode: count`, for tuning); `waf-known-bad-inputs`.",
    ),
    _dev("CKV2_AWS_76", "aws_lb.dev-alb-alb", "the web ACL counts (`wafMode: count`); see the prod entry."),
)

_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_PROPERTY_NAME: Final = re.compile(r"[a-z][a-zA-Z0-9]*")
_NAME_INVALID: Final = re.compile(r"[^A-Za-z0-9_-]")


class ConversionError(Exception):
    """The plan cannot be converted (not an offline plan document, or an unreadable file)."""


def snake(name: str) -> str:
    """``enableHttp2`` -> ``enable_http2``, ``cidrIpv4`` -> ``cidr_ipv4`` (the bridge's name rule, reversed)."""
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def terraform_type(token: str) -> str | None:
    """The Terraform AWS type of a pulumi-aws token (None for a non-AWS or non-resource token)."""
    if token in TERRAFORM_TYPES:
        return TERRAFORM_TYPES[token]
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != "aws" or "/" not in parts[1]:
        return None
    module, name = parts[1].split("/", 1)
    return f"aws_{module}_{snake(name)}"


def _value(value: Any, tf_type: str, *, in_map: bool = False) -> Any:
    if value == UNKNOWN:
        return None
    if value == SECRET:
        return SECRET_PLACEHOLDER
    if isinstance(value, Mapping):
        if in_map:
            return {k: _value(v, tf_type) for k, v in value.items()}
        return _properties(value, tf_type)
    if isinstance(value, list):
        return [_value(v, tf_type, in_map=in_map) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire format has only doubles; Terraform's numbers print as integers
    return value


def _properties(props: Mapping[str, Any], tf_type: str) -> dict[str, Any]:
    renames = PLURAL_BLOCKS.get(tf_type, {})
    out: dict[str, Any] = {}
    for key, value in props.items():
        tf_key = renames.get(key) or (snake(key) if _PROPERTY_NAME.fullmatch(key) else key)
        if key in JSON_STRING_ATTRIBUTES and isinstance(value, Mapping | list):
            out[tf_key] = json.dumps(value)
            continue
        converted = _value(value, tf_type, in_map=key in MAP_ATTRIBUTES)
        if isinstance(value, Mapping) and key not in MAP_ATTRIBUTES:
            converted = [converted]  # a block with at most one item is a one-element list in Terraform
        out[tf_key] = converted
    return out


@dataclass(frozen=True)
class Converted:
    """The Terraform plan document and what was left out of it."""

    document: dict[str, Any]
    skipped_types: tuple[str, ...]
    """Custom resource types with no Terraform AWS type (the Docker image, providers)."""


def _default_tags(config: Mapping[str, Any]) -> dict[str, str]:
    raw = config.get("aws:defaultTags")
    if not raw:
        return {}
    data = json.loads(raw) if isinstance(raw, str) else raw
    return dict(data.get("tags") or {})


def convert(plan: Mapping[str, Any]) -> Converted:
    """The Terraform plan JSON (``planned_values``, ``resource_changes``, ``configuration``) of an
    offline plan document (``offline.plan_output.plan_document``)."""
    if "resources" not in plan:
        raise ConversionError("not an offline plan document (no `resources`)")
    default_tags = _default_tags(plan.get("config") or {})
    addresses: dict[str, str] = {}
    used: set[str] = set()
    skipped: set[str] = set()
    entries: list[tuple[Mapping[str, Any], str, str]] = []
    for resource in plan["resources"]:
        if not resource.get("custom"):
            continue
        tf_type = terraform_type(resource["type"])
        if tf_type is None:
            skipped.add(resource["type"])
            continue
        base = _NAME_INVALID.sub("_", resource["name"])
        if not base[:1].isalpha() and base[:1] != "_":
            base = f"r_{base}"
        name, n = base, 2
        while f"{tf_type}.{name}" in used:
            name, n = f"{base}_{n}", n + 1
        address = f"{tf_type}.{name}"
        used.add(address)
        addresses[resource["urn"]] = address
        entries.append((resource, tf_type, name))

    planned: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    configuration: list[dict[str, Any]] = []
    for resource, tf_type, name in entries:
        address = f"{tf_type}.{name}"
        values = _properties(resource.get("inputs") or {}, tf_type)
        if "tags" in values or default_tags:
            own = values.get("tags") or {}
            values["tags_all"] = {**default_tags, **own}
        planned.append(
            {
                "address": address,
                "mode": "managed",
                "type": tf_type,
                "name": name,
                "provider_name": PROVIDER_NAME,
                "schema_version": 0,
                "values": values,
            }
        )
        changes.append(
            {
                "address": address,
                "mode": "managed",
                "type": tf_type,
                "name": name,
                "provider_name": PROVIDER_NAME,
                "change": {"actions": ["create"], "before": None, "after": values, "after_unknown": {}},
            }
        )
        expressions: dict[str, Any] = {}
        renames = PLURAL_BLOCKS.get(tf_type, {})
        for key, urns in (resource.get("propertyDependencies") or {}).items():
            refs = [addresses[u] for u in urns if u in addresses]
            if refs:
                # checkov follows `references` (attribute first, then the resource) to connect resources.
                expressions[renames.get(key, snake(key))] = {
                    "references": [r for ref in refs for r in (f"{ref}.id", ref)]
                }
        configuration.append(
            {
                "address": address,
                "mode": "managed",
                "type": tf_type,
                "name": name,
                "provider_config_key": "aws",
                "expressions": expressions,
            }
        )
    document = {
        "format_version": FORMAT_VERSION,
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "full_name": PROVIDER_NAME}},
            "root_module": {"resources": configuration},
        },
    }
    return Converted(document=document, skipped_types=tuple(sorted(skipped)))


def baseline(document: Mapping[str, Any], accepted: Sequence[Accepted] = ACCEPTED) -> dict[str, Any]:
    """A checkov baseline (``--baseline``) holding the accepted findings of the plan's resources.

    checkov matches a baseline entry by resource address and check id (the file name is not compared),
    so only the listed pairs are suppressed; anything new still fails.
    """
    findings = []
    for resource in document["planned_values"]["root_module"]["resources"]:
        address = resource["address"]
        ids = sorted({a.check_id for a in accepted if any(fnmatch.fnmatchcase(address, p) for p in a.resources)})
        if ids:
            findings.append({"resource": address, "check_ids": ids})
    return {"failed_checks": [{"file": "/plan.json", "findings": findings}] if findings else []}


def checkov_command(checkov: str, plan_file: Path, baseline_file: Path | None = None) -> list[str]:
    """The checkov command line that checks ``plan_file`` (the accepted findings shown as skipped when
    ``baseline_file`` is given; checkov then counts as passed only checks the baseline names)."""
    command = [checkov, "-f", str(plan_file), "--framework", "terraform_plan", "--compact", "--quiet"]
    # No network: without it checkov tries to download Prisma Cloud's guideline mappings first.
    command.append("--skip-download")
    if baseline_file is not None:
        command += ["--baseline", str(baseline_file), "--output-baseline-as-skipped"]
    return command


@dataclass(frozen=True)
class Finding:
    """One failed checkov check on one resource."""

    check_id: str
    resource: str
    name: str


@dataclass(frozen=True)
class Outcome:
    """checkov's results on a converted plan, its failures split by ``ACCEPTED``."""

    passed: int
    failed: tuple[Finding, ...]
    accepted: tuple[tuple[Finding, Accepted], ...]

    @property
    def clean(self) -> bool:
        return not self.failed


def classify(results: Mapping[str, Any], accepted: Sequence[Accepted] = ACCEPTED) -> Outcome:
    """Split the failed checks of checkov's JSON report (``-o json``) into accepted and not."""
    failed: list[Finding] = []
    matched: list[tuple[Finding, Accepted]] = []
    for check in results.get("results", {}).get("failed_checks", []):
        finding = Finding(check_id=check["check_id"], resource=check["resource"], name=check.get("check_name", ""))
        entry = next(
            (
                a
                for a in accepted
                if a.check_id == finding.check_id and any(fnmatch.fnmatchcase(finding.resource, p) for p in a.resources)
            ),
            None,
        )
        if entry is None:
            failed.append(finding)
        else:
            matched.append((finding, entry))
    passed = len(results.get("results", {}).get("passed_checks", []))
    return Outcome(passed=passed, failed=tuple(failed), accepted=tuple(matched))


def run_checkov(checkov: str, plan_file: Path) -> Outcome:
    """Run checkov on ``plan_file`` (no baseline, so its counts are whole) and classify the result."""
    command = [checkov, "-f", str(plan_file), "--framework", "terraform_plan", "--skip-download", "-o", "json"]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError as error:
        raise ConversionError(f"{shlex.join(command)} printed no JSON report: {done.stderr.strip()[-500:]}") from error
    if isinstance(report, list):  # one report per framework; only terraform_plan runs
        report = next((r for r in report if r.get("check_type") == "terraform_plan"), {})
    return classify(report)


def accepted_table(accepted: Sequence[Accepted] = ACCEPTED) -> str:
    """docs/policies.md's table of the accepted findings (generated: ``python -m offline.readme``)."""
    rows = ["| checkov | Resources | Why we accept it |", "|---|---|---|"]
    for entry in sorted(accepted, key=lambda a: (a.resources[0].split(".", 1)[1].startswith("dev-"), a.check_id)):
        resources = ", ".join(f"`{p}`" for p in entry.resources)
        reason = entry.reason.replace("|", "\\|")
        rows.append(f"| {entry.check_id} | {resources} | {reason} |")
    return "\n".join(rows)


def _order(finding: Finding) -> tuple[str, str]:
    return finding.check_id, finding.resource


def render_outcome(outcome: Outcome) -> str:
    """The counts, every finding not accepted, and the accepted ones with their check."""
    lines = [
        f"checkov: {outcome.passed} passed, {len(outcome.failed) + len(outcome.accepted)} failed "
        f"({len(outcome.accepted)} accepted, {len(outcome.failed)} not)"
    ]
    lines += [f"  FAILED   {f.check_id} {f.resource}: {f.name}" for f in sorted(outcome.failed, key=_order)]
    lines += [f"  accepted {f.check_id} {f.resource}" for f in sorted((f for f, _ in outcome.accepted), key=_order)]
    return "\n".join(lines)


def _parser(stacks: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.checkov_plan", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("stack", help=f"stack to convert: {', '.join(stacks)}")
    parser.add_argument("--preview", action="store_true", help="convert a preview (computed values unknown)")
    parser.add_argument("--from", dest="source", type=Path, metavar="PLAN", help="convert this offline plan JSON")
    parser.add_argument("--out", type=Path, help="Terraform plan JSON to write (default build/checkov-<stack>.json)")
    parser.add_argument(
        "--checkov", metavar="PATH",
        help="run this checkov on the result: counts, and exit 1 if a failed check is not accepted",
    )  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    stacks = committed_stacks()
    args = _parser(stacks).parse_args(argv)
    if args.source is not None:
        try:
            plan = json.loads(args.source.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            print(f"error: {args.source}: {error}", file=sys.stderr)
            return 2
    elif args.stack in stacks:
        plan = json.loads(json.dumps(plan_document(run_stack(args.stack, preview=args.preview)), default=str))
    else:
        print(f"error: unknown stack {args.stack!r}; committed stack files: {', '.join(stacks)}", file=sys.stderr)
        return 2
    try:
        converted = convert(plan)
    except ConversionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out: Path = args.out or PROJECT_DIR / "build" / f"checkov-{args.stack}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(converted.document, indent=2) + "\n", encoding="utf-8")
    baseline_file = out.with_suffix(".baseline.json")
    baseline_file.write_text(json.dumps(baseline(converted.document), indent=2) + "\n", encoding="utf-8")
    count = len(converted.document["planned_values"]["root_module"]["resources"])
    print(f"wrote {out} ({count} resources; not converted: {', '.join(converted.skipped_types) or 'none'})")
    print(f"wrote {baseline_file} (the accepted findings, tools/checkov_plan.py ACCEPTED)")
    print("check it with: " + shlex.join(checkov_command(args.checkov or "checkov", out, baseline_file)))
    if not args.checkov:
        return 0
    try:
        outcome = run_checkov(args.checkov, out)
    except (ConversionError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(render_outcome(outcome))
    return 0 if outcome.clean else 1


if __name__ == "__main__":
    try:
        code = main()
    finally:
        close_event_loop()
    sys.exit(code)
