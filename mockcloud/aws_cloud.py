"""Realistic answers from a pretend AWS account: resource outputs per type and invoke results.

Outputs are deterministic (hashes of the resource name), shaped like the real thing (ARNs with the
account and region, ``vpc-…`` IDs, ELB DNS names, ECR repository URLs, image digests), and returned
with camelCase keys, as the SDK expects. To support a new resource type, add a function decorated
with ``@outputs("aws:module/resource:Resource")`` returning ``(id, extra_outputs)``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

ACCOUNT_ID: Final = "123456789012"
PARTITION: Final = "aws"


@dataclass(frozen=True)
class Cloud:
    """The pretend account and region the answers are about."""

    region: str
    account_id: str = ACCOUNT_ID

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{PARTITION}:{service}:{self.region if region else ''}:{self.account_id if account else ''}:{resource}"
        )

    @property
    def zones(self) -> list[str]:
        return [f"{self.region}{suffix}" for suffix in "abc"]


def hexid(name: str, length: int = 17) -> str:
    """A stable hex suffix for IDs (vpc-0123…), different for every resource name."""
    return hashlib.sha256(name.encode()).hexdigest()[:length]


Outputs = dict[str, Any]
OutputMaker = Callable[[Cloud, str, dict[str, Any]], tuple[str, Outputs]]
InvokeAnswer = Callable[[Cloud, dict[str, Any]], dict[str, Any]]

RESOURCE_OUTPUTS: dict[str, OutputMaker] = {}
INVOKE_ANSWERS: dict[str, InvokeAnswer] = {}


def outputs(*types: str) -> Callable[[OutputMaker], OutputMaker]:
    def register(fn: OutputMaker) -> OutputMaker:
        for t in types:
            RESOURCE_OUTPUTS[t] = fn
        return fn

    return register


def invoke(*tokens: str) -> Callable[[InvokeAnswer], InvokeAnswer]:
    def register(fn: InvokeAnswer) -> InvokeAnswer:
        for t in tokens:
            INVOKE_ANSWERS[t] = fn
        return fn

    return register


def physical_name(name: str, inputs: dict[str, Any], key: str = "name", max_length: int = 64) -> str:
    """The name AWS would get: the explicit one, or Pulumi's auto-name (logical name + random suffix)."""
    explicit = inputs.get(key)
    if explicit:
        return str(explicit)
    prefix = inputs.get(f"{key}Prefix")
    if prefix:
        return f"{prefix}{hexid(name, 8)}"
    return f"{name}-{hexid(name, 7)}"[:max_length]


# --------------------------------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------------------------------
def _ec2_id(prefix: str, kind: str) -> OutputMaker:
    def make(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
        rid = f"{prefix}-{hexid(name)}"
        return rid, {"arn": cloud.arn("ec2", f"{kind}/{rid}"), "ownerId": cloud.account_id}

    return make


for _type, _prefix, _kind in [
    ("aws:ec2/internetGateway:InternetGateway", "igw", "internet-gateway"),
    ("aws:ec2/routeTable:RouteTable", "rtb", "route-table"),
    ("aws:ec2/natGateway:NatGateway", "nat", "natgateway"),
    ("aws:ec2/flowLog:FlowLog", "fl", "vpc-flow-log"),
    ("aws:ec2/networkInterface:NetworkInterface", "eni", "network-interface"),
    ("aws:ec2/launchTemplate:LaunchTemplate", "lt", "launch-template"),
]:
    outputs(_type)(_ec2_id(_prefix, _kind))


@outputs("aws:ec2/vpc:Vpc")
def _vpc(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = f"vpc-{hexid(name)}"
    return rid, {
        "arn": cloud.arn("ec2", f"vpc/{rid}"),
        "defaultSecurityGroupId": f"sg-{hexid(name + 'default')}",
        "mainRouteTableId": f"rtb-{hexid(name + 'main')}",
        "defaultNetworkAclId": f"acl-{hexid(name + 'acl')}",
        "ownerId": cloud.account_id,
    }


@outputs("aws:ec2/subnet:Subnet")
def _subnet(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = f"subnet-{hexid(name)}"
    az = inputs.get("availabilityZone", cloud.zones[0])
    return rid, {
        "arn": cloud.arn("ec2", f"subnet/{rid}"),
        "availabilityZoneId": f"{cloud.region[:3]}{cloud.region[-1]}-az{'abcdef'.index(az[-1]) + 1}",
    }


@outputs("aws:ec2/eip:Eip")
def _eip(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = f"eipalloc-{hexid(name)}"
    # 203.0.113.0/24 is TEST-NET-3: clearly not a real address.
    octet = int(hexid(name, 2), 16) % 250 + 2
    return rid, {
        "allocationId": rid,
        "publicIp": f"203.0.113.{octet}",
        "publicDns": f"ec2-203-0-113-{octet}.{cloud.region}.compute.amazonaws.com",
        "arn": cloud.arn("ec2", f"elastic-ip/{rid}"),
    }


@outputs("aws:ec2/route:Route")
def _route(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return f"r-{inputs.get('routeTableId', 'rtb')}{hexid(name, 8)}", {"state": "active"}


@outputs("aws:ec2/routeTableAssociation:RouteTableAssociation")
def _rta(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return f"rtbassoc-{hexid(name)}", {}


@outputs("aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
def _security_group(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = f"sg-{hexid(name)}"
    return rid, {
        "arn": cloud.arn("ec2", f"security-group/{rid}"),
        "ownerId": cloud.account_id,
        "name": physical_name(name, inputs, max_length=255),
    }


@outputs(
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
)
def _sg_rule(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = f"sgr-{hexid(name)}"
    return rid, {"arn": cloud.arn("ec2", f"security-group-rule/{rid}"), "securityGroupRuleId": rid}


@outputs("aws:ec2/vpcEndpoint:VpcEndpoint")
def _vpc_endpoint(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    rid = f"vpce-{hexid(name)}"
    service = str(inputs.get("serviceName", "com.amazonaws.unknown"))
    dns = f"{rid}-{hexid(name + 'dns', 8)}.{service.split('.', 3)[-1]}.{cloud.region}.vpce.amazonaws.com"
    return rid, {
        "arn": cloud.arn("ec2", f"vpc-endpoint/{rid}"),
        "dnsEntries": [{"dnsName": dns, "hostedZoneId": "Z7HUB22UULQXV"}],
        "networkInterfaceIds": [f"eni-{hexid(name + str(i))}" for i in range(len(inputs.get("subnetIds") or []))],
        "state": "available",
        "ownerId": cloud.account_id,
    }


# --------------------------------------------------------------------------------------------------
# IAM, logs, KMS, secrets
# --------------------------------------------------------------------------------------------------
@outputs("aws:iam/role:Role")
def _role(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    role_name = physical_name(name, inputs)
    return role_name, {
        "arn": cloud.arn("iam", f"role{inputs.get('path') or '/'}{role_name}", region=False),
        "name": role_name,
        "uniqueId": f"AROA{hexid(name, 17).upper()}",
    }


@outputs("aws:iam/policy:Policy")
def _policy(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    policy_name = physical_name(name, inputs)
    arn = cloud.arn("iam", f"policy/{policy_name}", region=False)
    return arn, {"arn": arn, "name": policy_name, "policyId": f"ANPA{hexid(name).upper()}"}


@outputs("aws:iam/rolePolicy:RolePolicy")
def _role_policy(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    policy_name = physical_name(name, inputs)
    return f"{inputs.get('role', 'role')}:{policy_name}", {"name": policy_name}


@outputs("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
def _role_policy_attachment(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    return f"{inputs.get('role', 'role')}-{hexid(name, 8)}", {}


@outputs("aws:cloudwatch/logGroup:LogGroup")
def _log_group(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    group = physical_name(name, inputs, max_length=512)
    return group, {"name": group, "arn": cloud.arn("logs", f"log-group:{group}")}


@outputs("aws:cloudwatch/metricAlarm:MetricAlarm")
def _alarm(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    alarm = physical_name(name, inputs)
    return alarm, {"arn": cloud.arn("cloudwatch", f"alarm:{alarm}")}


@outputs("aws:kms/key:Key")
def _kms_key(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    h = hexid(name, 32)
    key_id = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    return key_id, {"keyId": key_id, "arn": cloud.arn("kms", f"key/{key_id}")}


@outputs("aws:kms/alias:Alias")
def _kms_alias(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    alias = physical_name(name, inputs)
    return alias, {
        "arn": cloud.arn("kms", alias),
        "targetKeyArn": cloud.arn("kms", f"key/{inputs.get('targetKeyId')}"),
    }


@outputs("aws:secretsmanager/secret:Secret")
def _secret(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    secret_name = physical_name(name, inputs, max_length=512)
    # Secrets Manager appends a 6-character suffix to every secret ARN.
    arn = cloud.arn("secretsmanager", f"secret:{secret_name}-{hexid(name, 6)}")
    return arn, {"arn": arn, "name": secret_name}


@outputs("aws:secretsmanager/secretVersion:SecretVersion")
def _secret_version(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    version = hexid(name, 32)
    return f"{inputs.get('secretId')}|{version}", {"versionId": version, "arn": inputs.get("secretId")}


@outputs("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
def _bucket(cloud: Cloud, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    bucket = physical_name(name, inputs, key="bucket", max_length=63).lower()
    return bucket, {
        "bucket": bucket,
        "arn": f"arn:{PARTITION}:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{cloud.region}.amazonaws.com",
        "region": cloud.region,
    }


# --------------------------------------------------------------------------------------------------
# Invokes
# --------------------------------------------------------------------------------------------------
@invoke("aws:index/getAvailabilityZones:getAvailabilityZones")
def _azs(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": cloud.region,
        "names": cloud.zones,
        "zoneIds": [f"{cloud.region[:3]}{cloud.region[-1]}-az{i + 1}" for i in range(len(cloud.zones))],
        "groupNames": [cloud.region] * len(cloud.zones),
    }


@invoke("aws:index/getCallerIdentity:getCallerIdentity")
def _caller(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": cloud.account_id,
        "accountId": cloud.account_id,
        "arn": f"arn:{PARTITION}:sts::{cloud.account_id}:assumed-role/platform-deployer/session",
        "userId": "AROAEXAMPLEDEPLOYER:session",
    }


@invoke("aws:index/getRegion:getRegion")
def _region(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": cloud.region,
        "region": cloud.region,
        "name": cloud.region,
        "description": f"Mock region {cloud.region}",
        "endpoint": f"ec2.{cloud.region}.amazonaws.com",
    }


@invoke("aws:index/getPartition:getPartition")
def _partition(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": PARTITION,
        "partition": PARTITION,
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
    }


@invoke("aws:ecr/getAuthorizationToken:getAuthorizationToken")
def _ecr_token(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    password = "mock-ecr-password"  # noqa: S105 (a mock answer, never a real credential)
    return {
        "id": cloud.region,
        "authorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(),
        "userName": "AWS",
        "password": password,
        "proxyEndpoint": f"https://{cloud.account_id}.dkr.ecr.{cloud.region}.amazonaws.com",
        "expiresAt": "2099-01-01T00:00:00Z",
        "registryId": args.get("registryId") or cloud.account_id,
    }


@invoke("aws:ec2/getVpc:getVpc")
def _get_vpc(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    vpc_id = args.get("id") or "vpc-0adopted0000000001"
    return {
        "id": vpc_id,
        "cidrBlock": "10.99.0.0/16",
        "arn": cloud.arn("ec2", f"vpc/{vpc_id}"),
        "state": "available",
    }


def _iam_statement(statement: dict[str, Any]) -> dict[str, Any]:
    """One getPolicyDocument statement (camelCase args) rendered as the IAM JSON AWS stores."""

    def one_or_many(values: list[Any]) -> Any:
        return values[0] if len(values) == 1 else sorted(values)

    out: dict[str, Any] = {}
    if statement.get("sid"):
        out["Sid"] = statement["sid"]
    out["Effect"] = statement.get("effect") or "Allow"
    for arg, key in (("actions", "Action"), ("notActions", "NotAction"), ("resources", "Resource"),
                     ("notResources", "NotResource")):  # fmt: skip
        if statement.get(arg):
            out[key] = one_or_many(list(statement[arg]))
    for arg, key in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
        if statement.get(arg):
            principal: dict[str, list[str]] = {}
            for p in statement[arg]:
                principal.setdefault(p["type"], []).extend(p["identifiers"])
            # {"type": "*", "identifiers": ["*"]} is how IAM's anonymous principal "*" is written
            out[key] = "*" if "*" in principal else {k: one_or_many(v) for k, v in principal.items()}
    if statement.get("conditions"):
        condition: dict[str, dict[str, Any]] = {}
        for c in statement["conditions"]:
            condition.setdefault(c["test"], {})[c["variable"]] = one_or_many(list(c["values"]))
        out["Condition"] = condition
    if "Resource" not in out and "NotResource" not in out and "Principal" not in out:
        out["Resource"] = "*"
    return out


@invoke("aws:iam/getPolicyDocument:getPolicyDocument")
def _policy_document(cloud: Cloud, args: dict[str, Any]) -> dict[str, Any]:
    document = {"Version": args.get("version") or "2012-10-17",
                "Statement": [_iam_statement(s) for s in args.get("statements") or []]}  # fmt: skip
    text = json.dumps(document, indent=2)
    return {"id": hexid(text, 10), "json": text, "minifiedJson": json.dumps(document, separators=(",", ":"))}


# --------------------------------------------------------------------------------------------------
# The Mocks implementation
# --------------------------------------------------------------------------------------------------
class UnansweredInvokeError(LookupError):
    """The program called a function the mock cloud has no answer for."""


class AwsMocks(pulumi.runtime.Mocks):
    """Answers registrations and invokes like an AWS account in ``region`` would."""

    def __init__(self, region: str, account_id: str = ACCOUNT_ID) -> None:
        from mockcloud import resources

        resources.load_all()
        self.cloud = Cloud(region=region, account_id=account_id)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if not args.custom:  # components have no cloud state
            return None, {}
        maker = RESOURCE_OUTPUTS.get(args.typ)
        if maker is None:
            resource_id, extra = _generic(self.cloud, args.typ, args.name, dict(args.inputs))
        else:
            resource_id, extra = maker(self.cloud, args.name, dict(args.inputs))
        return resource_id, {**args.inputs, **extra}

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        answer = INVOKE_ANSWERS.get(args.token)
        if answer is None:
            raise UnansweredInvokeError(
                f"the mock cloud has no answer for invoke {args.token!r}; add one in mockcloud/aws_cloud.py"
            )
        return answer(self.cloud, dict(args.args)), []


def _generic(cloud: Cloud, type_: str, name: str, inputs: dict[str, Any]) -> tuple[str, Outputs]:
    """Fallback for types without a maker: an ID, and for AWS types an ARN in the module's namespace."""
    rid = f"{name}-{hexid(name, 8)}"
    package, module = type_.split(":")[0], type_.split(":")[1].split("/")[0]
    if package != "aws":
        return rid, {}
    return rid, {"arn": cloud.arn(module, f"{type_.rsplit(':', 1)[-1].lower()}/{rid}")}
