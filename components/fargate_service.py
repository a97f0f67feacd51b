"""One ECS service on Fargate behind the ALB: task definition, roles, logs, security group, scaling.

Why the component declares its container spec
    The policy pack checks every container (health check, not privileged, read-only root filesystem,
    non-root user, no secret-looking plain environment, log group, image from a scanned repository).
    On the task definition those settings live in ``containerDefinitions``, ONE JSON string that also
    embeds the image digest, the database and cache endpoints and the Secrets Manager ARNs. At
    ``pulumi preview`` none of those exist yet (pulumi-docker pushes only during ``up``, so
    ``<repository>@sha256:<digest>`` cannot be known; endpoints and secret suffixes are assigned by
    AWS), so the whole string is unknown and pulumi-policy turns the mandatory container checks into
    advisory notes.

    So the component registers its *declared* container spec as its own input ``containerSpec``
    (the engine hands component inputs to the analyzers like any resource's): the container
    definition with the image reduced to its repository URL (composed from plain values) plus
    ``imagePinnedByDigest``, environment values that are computed shown as ``"<computed>"``, and
    secrets as name and source (``secretsmanager``/``ssm``) instead of ARNs. Every value in it is
    plain, so the policies check it at preview. The task definition's container definition is
    rendered FROM that spec (only the image, the computed environment values and the secret ARNs
    are filled in), so the two cannot drift, and during ``pulumi up`` the engine analyzes the task
    definition again with its resolved inputs before creating it: the same checks bite there too.
    The image reference is validated when it resolves: digest-pinned and in the declared repository.

    The service-level settings the pack checks (public IP, circuit breaker, grace period, load
    balancers) are plain inputs of the ``aws:ecs/service:Service`` itself and known at preview.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NamedTuple, get_args

import pulumi
import pulumi_aws as aws
from platform_contracts import fargate_service as fargate_contract
from platform_contracts.fargate_service import is_secret_name

from components.aws_context import AwsContext, service_trust_policy
from components.ecs_cluster import CapacityProviderShare, validate_strategy
from components.errors import at_least, in_range, one_of, require
from components.kms_keys import secret_decrypt_statements
from components.log_groups import check_retention

CpuArchitecture = Literal["X86_64", "ARM64"]

# Fargate's task sizes (Linux): CPU units -> the memory values (MiB) it accepts. 8 and 16 vCPU need
# platform 1.4.0 or later, which LATEST is.
FARGATE_MEMORY_BY_CPU: Final[dict[int, tuple[int, ...]]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

# Environment names that must come from `secrets` (``is_secret_name``), never plain `environment`,
# which anyone who can describe the task definition reads.
_ENV_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
_SERVICE_NAME: Final = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_POLICY_KEY: Final = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_ECR_IMAGE: Final = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repo>[^@:]+)@sha256:[0-9a-f]{64}$"
)
_ECR_REPOSITORY_ARN: Final = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):ecr:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):repository/(?P<repo>[a-z0-9][a-z0-9._/-]*)$"
)

# What the policy pack relies on (the type token, the spec's name and shape, the secret-name rule)
# lives in the shared contract, which the pack imports too.
FARGATE_SERVICE_TYPE: Final = fargate_contract.TYPE_TOKEN
CONTAINER_SPEC: Final = fargate_contract.CONTAINER_SPEC
COMPUTED: Final = fargate_contract.COMPUTED

# ECS Exec's agent writes to these paths inside the container; with a read-only root filesystem they
# need writable volumes (aws/containers-roadmap#1359 and the ECS Exec checker's documented workaround).
EXEC_AGENT_PATHS: Final = ("/var/lib/amazon", "/var/log/amazon")

# The only writable path of the app: a task-scoped bind mount (ephemeral storage), not the image.
TMP_PATH: Final = "/tmp"  # noqa: S108 (a per-task volume, not a shared host directory)

MAX_TASKS_PER_SERVICE: Final = 5000
"""Tasks per service (the ECS service quota)."""


def fargate_memory_options(cpu: int) -> tuple[int, ...]:
    """Memory values (MiB) Fargate accepts for ``cpu`` units; empty when the CPU value is not one."""
    return FARGATE_MEMORY_BY_CPU.get(cpu, ())


def validate_task_size(cpu: int, memory: int, *, cpu_name: str = "cpu", memory_name: str = "memory") -> None:
    """Reject CPU/memory pairs Fargate would refuse, listing what is allowed."""
    one_of(cpu_name, cpu, FARGATE_MEMORY_BY_CPU)
    options = FARGATE_MEMORY_BY_CPU[cpu]
    require(
        not isinstance(memory, bool) and memory in options,
        memory_name,
        memory,
        f"a Fargate memory size for {cpu_name}={cpu}: one of {', '.join(str(m) for m in options)}",
        refers=(cpu_name,),
    )


@dataclass(frozen=True, kw_only=True)
class TaskSize:
    """CPU units and memory (MiB) of a task: one of Fargate's combinations."""

    cpu: int
    memory: int

    def __post_init__(self) -> None:
        validate_task_size(self.cpu, self.memory)


def healthz_command(port: int) -> list[str]:
    """Container health check: GET /healthz on localhost with the image's Python (no curl in slim images).

    ``urlopen`` raises on connection errors and on 4xx/5xx, so any failure is a non-zero exit.
    """
    code = (
        "import sys,urllib.request as u;"
        f"sys.exit(0 if u.urlopen('http://127.0.0.1:{port}/healthz',timeout=3).status==200 else 1)"
    )
    return ["CMD", "python3", "-c", code]


class Dependency(NamedTuple):
    """A security group the tasks connect to, per the connection contract: the service creates the
    egress rule on its tasks' group and the ingress rule on the dependency's group."""

    security_group_id: pulumi.Input[str]
    port: int
    description: str


@dataclass(frozen=True, kw_only=True)
class SecretRef:
    """A secret injected by ECS at task start (never stored in the task definition)."""

    arn: pulumi.Input[str]
    """ARN of the Secrets Manager secret or SSM SecureString parameter."""
    json_key: str | None = None
    """For a JSON secret: the key to extract (e.g. ``password`` of an RDS-managed secret)."""
    kind: Literal["secretsmanager", "ssm"] = "secretsmanager"

    def __post_init__(self) -> None:
        one_of("secret.kind", self.kind, ("secretsmanager", "ssm"))
        if self.json_key is not None:
            require(
                self.kind == "secretsmanager",
                "secret.json_key",
                self.json_key,
                "none for SSM parameters (only Secrets Manager secrets have JSON keys)",
            )
            require(
                re.match(r"^[A-Za-z0-9_.-]+$", self.json_key) is not None,
                "secret.json_key",
                self.json_key,
                "letters, digits, '_', '.', '-'",
            )

    @property
    def value_from(self) -> pulumi.Output[str]:
        """``valueFrom`` for the container definition: ``<arn>:<json-key>::`` selects one JSON key
        (version stage and version ID left empty: the current version)."""
        if self.json_key is None:
            return pulumi.Output.from_input(self.arn)
        return pulumi.Output.concat(self.arn, f":{self.json_key}::")


@dataclass(frozen=True, kw_only=True)
class ContainerHealthCheck:
    """The task definition's container health check (ECS ignores a Dockerfile HEALTHCHECK)."""

    command: Sequence[str]
    """``["CMD", ...]`` or ``["CMD-SHELL", "..."]``; exit 0 means healthy."""
    interval_seconds: int = 15
    """5-300."""
    timeout_seconds: int = 5
    """2-60."""
    retries: int = 3
    """1-10."""
    start_period_seconds: int = 30
    """0-300: failures during start-up do not count."""

    def __post_init__(self) -> None:
        require(
            bool(self.command) and self.command[0] in ("CMD", "CMD-SHELL"),
            "health_check.command",
            list(self.command),
            "a command starting with CMD or CMD-SHELL",
        )
        in_range("health_check.interval_seconds", self.interval_seconds, 5, 300)
        in_range("health_check.timeout_seconds", self.timeout_seconds, 2, 60)
        in_range("health_check.retries", self.retries, 1, 10)
        in_range("health_check.start_period_seconds", self.start_period_seconds, 0, 300)


@dataclass(frozen=True, kw_only=True)
class LoadBalancerAttachment:
    """The ALB target group the service registers its tasks in."""

    security_group_id: pulumi.Input[str]
    """The ALB's security group (the only source admitted to the tasks)."""
    target_group_arn: pulumi.Input[str]
    """Target group (type ip) to register task IPs in."""
    target_group_arn_suffix: pulumi.Input[str]
    """``targetgroup/<name>/<id>``, for the request-count scaling metric."""
    load_balancer_arn_suffix: pulumi.Input[str]
    """``app/<name>/<id>``, for the request-count scaling metric."""


@dataclass(frozen=True, kw_only=True)
class AutoScaling:
    """Target tracking on CPU, memory and ALB requests per target, within [min, max] tasks."""

    min_capacity: int
    """Fewest tasks (also the initial desired count). 2+ in prod, one per AZ ideally."""
    max_capacity: int
    """Most tasks."""
    cpu_target_percent: int
    """Average CPU utilisation to hold, 10-95."""
    memory_target_percent: int
    """Average memory utilisation to hold, 10-95."""
    requests_per_target: int
    """ALB requests per target per minute to hold."""
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60

    def __post_init__(self) -> None:
        in_range("min_capacity", self.min_capacity, 1, MAX_TASKS_PER_SERVICE, "tasks")
        require(
            isinstance(self.max_capacity, int) and self.min_capacity <= self.max_capacity <= MAX_TASKS_PER_SERVICE,
            "max_capacity",
            self.max_capacity,
            f"at least min_capacity ({self.min_capacity}) and at most {MAX_TASKS_PER_SERVICE} tasks",
            refers=("min_capacity",),
        )
        in_range("cpu_target_percent", self.cpu_target_percent, 10, 95)
        in_range("memory_target_percent", self.memory_target_percent, 10, 95)
        at_least("requests_per_target", self.requests_per_target, 1)
        in_range("scale_in_cooldown_seconds", self.scale_in_cooldown_seconds, 0, 3600)
        in_range("scale_out_cooldown_seconds", self.scale_out_cooldown_seconds, 0, 3600)


@dataclass(frozen=True, kw_only=True)
class ExecAccess:
    """ECS Exec: the cluster's audit log group and session key, which the task role may use."""

    log_group_arn: str
    """Exec session log group (plain ARN)."""
    kms_key_alias: str
    """``alias/...`` of the session key (the grant goes through the alias, known at preview)."""


@dataclass(frozen=True, kw_only=True)
class CloudMapRegistration:
    """Register the tasks in a Cloud Map private DNS namespace as ``<service_name>.<namespace_name>``."""

    namespace_id: pulumi.Input[str]
    namespace_name: str
    """DNS name of the namespace (plain)."""


@dataclass(frozen=True, kw_only=True)
class HttpsEgress:
    """Where tasks may open HTTPS connections (ECR, CloudWatch Logs, Secrets Manager, SSM messages)."""

    security_group_ids: Sequence[pulumi.Input[str]] = ()
    """E.g. the interface VPC endpoints' security group."""
    prefix_list_ids: Sequence[pulumi.Input[str]] = ()
    """E.g. the S3 gateway endpoint's prefix list (ECR image layers live in S3)."""
    cidrs: Sequence[str] = ()
    """Addresses, e.g. ``0.0.0.0/0`` when the AWS APIs are reached through NAT."""


@dataclass(frozen=True, kw_only=True)
class FargateServiceArgs:
    """Settings for one service."""

    context: AwsContext
    """Account, region and partition (plain values)."""
    cluster_arn: pulumi.Input[str]
    cluster_name: str
    """Plain: composes the service's scaling resource ID and names."""
    service_name: str
    """Name of the ECS service and its Cloud Map record (``api``)."""
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets (no public IPs are assigned)."""
    image: pulumi.Input[str]
    """Digest-pinned image reference ``<repository>@sha256:<digest>`` (never a tag)."""
    load_balancer: LoadBalancerAttachment
    autoscaling: AutoScaling
    capacity_provider_strategy: Sequence[CapacityProviderShare]
    image_repository_arn: str | None = None
    """ECR repository the image lives in (plain ARN, composed from the account, region and name):
    the execution role may pull from it, and the declared container spec names it. Required when
    ``image`` is computed (an ``Output``); derived from ``image`` when that is a plain ECR reference."""
    size: TaskSize
    """Task CPU units and memory (a Fargate combination)."""
    cpu_architecture: CpuArchitecture = "X86_64"
    """Must match the image's platform (linux/amd64 or linux/arm64)."""
    container_name: str = "app"
    container_port: int = 8080
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Plain environment (non-secret values only)."""
    secrets: Mapping[str, SecretRef] = field(default_factory=dict)
    """Environment variables ECS fills from Secrets Manager / SSM at start."""
    secret_kms_key_arns: Sequence[pulumi.Input[str]] = ()
    """Customer-managed keys encrypting those secrets (none for the AWS-managed key)."""
    task_policies: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    """What the application itself may do in AWS, as IAM statements by policy name (``database``:
    ``rds-db:connect`` for its database user, ``cache``: ``elasticache:Connect``...): one inline policy
    ``<name>-task-<key>`` on the task role each. Values may be outputs (a DbiResourceId)."""
    user: str = "10001:10001"
    """Numeric ``uid:gid`` the process runs as (never root)."""
    health_check: ContainerHealthCheck | None = None
    """Defaults to ``GET /healthz`` on the container port (liveness: touches no dependency)."""
    stop_timeout_seconds: int = 30
    """SIGTERM-to-SIGKILL time (2-120); longer than the app's graceful shutdown."""
    log_retention_days: int = 30
    log_kms_key_arn: pulumi.Input[str] | None = None
    """KMS key for the log group (its policy must admit CloudWatch Logs)."""
    health_check_grace_period_seconds: int = 60
    """Time after start during which ALB health checks do not stop a task."""
    min_healthy_percent: int = 100
    max_percent: int = 200
    dependencies: Sequence[Dependency] = ()
    """Security groups the tasks connect to (cache, database)."""
    https_egress: HttpsEgress = HttpsEgress()
    discovery: CloudMapRegistration | None = None
    """Cloud Map registration (A records, health from ECS)."""
    execute_command: ExecAccess | None = None
    """Enable ECS Exec with the cluster's audit logging."""
    deployment_alarm_names: Sequence[pulumi.Input[str]] = ()
    """CloudWatch alarms a deployment rolls back on (ECS deployment alarms, beside the circuit breaker);
    none: only the circuit breaker. Pass the alarms' ``name`` outputs so the service waits for them."""

    def __post_init__(self) -> None:
        require(
            _SERVICE_NAME.match(self.service_name) is not None,
            "service_name",
            self.service_name,
            "1-32 of a-z, 0-9, '-' (letter first)",
        )
        one_of("cpu_architecture", self.cpu_architecture, get_args(CpuArchitecture))
        if isinstance(self.image, str):
            _validate_image(self.image)
        _ = self.image_repository_url  # the declared spec must name the repository at preview
        in_range("container_port", self.container_port, 1, 65535)
        require(bool(self.subnet_ids), "subnet_ids", [], "at least one private subnet")
        for name in [*self.environment, *self.secrets]:
            require(
                _ENV_NAME.match(name) is not None,
                "environment",
                name,
                "variable names of letters, digits and _ (not starting with a digit)",
            )
        both = sorted(set(self.environment) & set(self.secrets))
        require(not both, "environment", both, "names not also in secrets (a variable comes from one or the other)")
        leaked = sorted(n for n in self.environment if is_secret_name(n))
        require(
            not leaked,
            "environment",
            leaked,
            "no secret-looking names: pass them in `secrets` (Secrets Manager/SSM) so their values never "
            "appear in the task definition",
        )
        user_id = self.user.split(":", 1)[0]
        require(
            re.match(r"^\d+(:\d+)?$", self.user) is not None and user_id != "0",
            "user",
            self.user,
            "a numeric non-root uid[:gid], e.g. 10001:10001",
        )
        in_range("stop_timeout_seconds", self.stop_timeout_seconds, 2, 120)
        in_range("health_check_grace_period_seconds", self.health_check_grace_period_seconds, 0, 2_147_483_647)
        in_range("min_healthy_percent", self.min_healthy_percent, 0, 100)
        in_range("max_percent", self.max_percent, 100, 200)
        require(
            not (self.min_healthy_percent == 100 and self.max_percent == 100),
            "max_percent",
            self.max_percent,
            "above 100 when min_healthy_percent is 100 (or there is no room to deploy)",
        )
        check_retention("log_retention_days", self.log_retention_days)
        validate_strategy(self.capacity_provider_strategy)
        slugs = [_slug(dep.description) for dep in self.dependencies]
        for dep, slug in zip(self.dependencies, slugs, strict=True):
            require(
                1 <= dep.port <= 65535 and bool(slug),
                "dependencies",
                f"{dep.description!r} on port {dep.port}",
                "ports 1-65535 and a non-empty description",
            )
        require(len(set(slugs)) == len(slugs), "dependencies", slugs, "distinct descriptions (they name the rules)")
        for kind in ("exec", "task"):
            self.role_name(kind)
        for key, statements in self.task_policies.items():
            require(
                _POLICY_KEY.match(key) is not None,
                "task_policies",
                key,
                "policy names of lowercase letters, digits and '-' (they name the task role's inline policies)",
            )
            require(bool(statements), f"task_policies[{key}]", list(statements), "one or more IAM statements")
            for i, statement in enumerate(statements):
                require(
                    statement.get("Effect") == "Allow" and bool(statement.get("Action")) and "Resource" in statement,
                    f"task_policies[{key}][{i}]",
                    dict(statement),
                    "an Allow statement with Action and Resource",
                )
        for cidr in self.https_egress.cidrs:
            require("/" in cidr, "https_egress.cidrs", cidr, "CIDRs such as 0.0.0.0/0")

    @property
    def family(self) -> str:
        return f"{self.cluster_name}-{self.service_name}"

    @property
    def log_group_name(self) -> str:
        return f"/ecs/{self.cluster_name}/{self.service_name}"

    @property
    def image_repository_url(self) -> str:
        """The image's repository, ``<account>.dkr.ecr.<region>.<dns suffix>/<name>``: plain, so known
        at preview (unlike the digest, which exists only once the image is pushed during ``up``)."""
        from_arn = None
        if self.image_repository_arn is not None:
            m = _ECR_REPOSITORY_ARN.match(self.image_repository_arn)
            require(
                m is not None and m["partition"] == self.context.partition,
                "image_repository_arn",
                self.image_repository_arn,
                f"arn:{self.context.partition}:ecr:<region>:<account>:repository/<name>",
            )
            assert m is not None
            from_arn = f"{m['account']}.dkr.ecr.{m['region']}.{self.context.dns_suffix}/{m['repo']}"
        if isinstance(self.image, str):
            from_image = self.image.split("@", 1)[0]
            require(
                from_arn is None or from_image == from_arn,
                "image",
                self.image,
                f"an image in image_repository_arn's repository {from_arn}",
            )
            return from_image
        require(
            from_arn is not None,
            "image_repository_arn",
            None,
            "the plain ARN of the image's ECR repository when image is computed (an Output): the policy pack "
            "checks the repository at preview, before the digest exists",
        )
        assert from_arn is not None
        return from_arn

    @property
    def exec_volume_paths(self) -> tuple[str, ...]:
        """Writable paths ECS Exec's agent needs (none without ECS Exec)."""
        return EXEC_AGENT_PATHS if self.execute_command is not None else ()

    def role_name(self, kind: str) -> str:
        name = f"{self.family}-{kind}-{self.context.region}"
        require(
            len(name) <= 64,
            "service_name",
            self.service_name,
            f"a name short enough for the IAM role name {name!r} (at most 64 characters; or shorten cluster_name)",
        )
        return name


def _validate_image(image: str, repository: str | None = None) -> str:
    require(
        "@sha256:" in image and re.search(r"@sha256:[0-9a-f]{64}$", image) is not None,
        "image",
        image,
        "a digest-pinned reference <repository>@sha256:<64 hex> (tags are mutable)",
    )
    # The declared container spec (checked at preview) names this repository: hold the image to it.
    require(
        repository is None or image.split("@", 1)[0] == repository,
        "image",
        image,
        f"an image in the declared repository {repository}",
    )
    return image


def container_spec(args: FargateServiceArgs) -> dict[str, Any]:
    """The container as declared, in ECS container-definition keys, with only plain values.

    Differences to the rendered definition: ``imageRepository`` + ``imagePinnedByDigest`` instead
    of ``image``; environment values that are outputs of other resources as ``"<computed>"``;
    secrets as ``{name, source[, jsonKey]}`` instead of ``{name, valueFrom}``. Everything else is
    the definition itself.
    """
    hc = args.health_check or ContainerHealthCheck(command=healthz_command(args.container_port))
    mounts = [{"sourceVolume": "tmp", "containerPath": TMP_PATH, "readOnly": False}] + [
        {"sourceVolume": _volume_name(path), "containerPath": path, "readOnly": False}
        for path in args.exec_volume_paths
    ]
    return {
        "name": args.container_name,
        "imageRepository": args.image_repository_url,
        "imagePinnedByDigest": True,  # validated in FargateServiceArgs and again when the image resolves
        "essential": True,
        "portMappings": [{"containerPort": args.container_port, "protocol": "tcp"}],
        "environment": [
            {"name": k, "value": v if isinstance(v, str) else COMPUTED} for k, v in sorted(args.environment.items())
        ],
        "secrets": [
            {"name": k, "source": s.kind, **({"jsonKey": s.json_key} if s.json_key is not None else {})}
            for k, s in sorted(args.secrets.items())
        ],
        "user": args.user,
        "privileged": False,
        "readonlyRootFilesystem": True,
        "mountPoints": mounts,
        "stopTimeout": args.stop_timeout_seconds,
        "healthCheck": {
            "command": list(hc.command),
            "interval": hc.interval_seconds,
            "timeout": hc.timeout_seconds,
            "retries": hc.retries,
            "startPeriod": hc.start_period_seconds,
        },
        # An init process reaps zombies (ECS Exec sessions spawn processes) and forwards signals.
        "linuxParameters": {"initProcessEnabled": True},
        "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": args.log_group_name,
                "awslogs-region": args.context.region,
                "awslogs-stream-prefix": args.service_name,
                # Never block the app on CloudWatch Logs back-pressure; buffer instead.
                "mode": "non-blocking",
                "max-buffer-size": "25m",
            },
        },
    }


_SPEC_ONLY: Final = fargate_contract.SPEC_ONLY_KEYS


def render_container_definition(
    spec: Mapping[str, Any],
    *,
    image: pulumi.Input[str],
    environment: Mapping[str, pulumi.Input[str]],
    secrets: Mapping[str, SecretRef],
) -> dict[str, Any]:
    """The task definition's container definition: ``spec`` with the image, the environment values
    and the secrets' ``valueFrom`` filled in, and nothing else changed."""
    definition: dict[str, Any] = {"name": spec["name"], "image": image}
    for key, value in spec.items():
        if key in _SPEC_ONLY:
            continue
        if key == "environment":
            value = [{"name": e["name"], "value": environment[e["name"]]} for e in value]
        elif key == "secrets":
            value = [{"name": s["name"], "valueFrom": secrets[s["name"]].value_from} for s in value]
        else:
            value = copy.deepcopy(value)
        definition[key] = value
    return definition


class FargateService(pulumi.ComponentResource):
    """An ECS service on Fargate in private subnets, registered in an ALB target group.

    Its tasks' security group admits only the ALB on the container port. Connections are created
    here, by the client, per the connection contract: ALB egress to the tasks, task egress to each
    dependency and the dependency's ingress from the tasks.
    """

    service_name: str
    """Name of the ECS service (plain)."""
    service_arn: pulumi.Output[str]
    """ARN of the ECS service (also its ID)."""
    task_definition_arn: pulumi.Output[str]
    """ARN of the current task definition revision."""
    security_group_id: pulumi.Output[str]
    """The tasks' security group."""
    task_role_arn: str
    """Role the app runs with (plain ARN, composed from its explicit name)."""
    execution_role_arn: str
    """Role ECS uses to pull the image, write logs and read the secrets (plain ARN)."""
    iam_roles: tuple[aws.iam.Role, aws.iam.Role]
    """The execution and task roles themselves, for ``depends_on`` of what must wait for them: a KMS key
    whose policy names them (KMS refuses principals that do not exist yet)."""
    log_group_name: str
    """Application log group (plain)."""
    discovery_name: str | None
    """``<service>.<namespace>`` when registered in Cloud Map (plain)."""
    scaling_resource_id: str
    """``service/<cluster>/<service>``: the Application Auto Scaling resource ID (plain)."""
    container_spec: dict[str, Any]
    """The declared container (plain values; see the module docstring). Registered as the
    component's ``containerSpec`` input and output, so the policy pack checks it at preview."""

    def __init__(self, name: str, args: FargateServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # The spec is registered with the component itself: the engine sends a component's inputs to
        # the policy pack, and these are all known at preview (the task definition's are not).
        self.container_spec = container_spec(args)
        super().__init__(FARGATE_SERVICE_TYPE, name, {CONTAINER_SPEC: self.container_spec}, opts)
        self._name = name
        self._args = args
        ctx = args.context
        child = pulumi.ResourceOptions(parent=self)
        self.service_name = args.service_name
        self.log_group_name = args.log_group_name
        self.discovery_name = (
            f"{args.service_name}.{args.discovery.namespace_name}" if args.discovery is not None else None
        )
        self.scaling_resource_id = f"service/{args.cluster_name}/{args.service_name}"
        repository = args.image_repository_url
        image = pulumi.Output.from_input(args.image).apply(lambda ref: _validate_image(ref, repository))

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=args.log_group_name,
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_kms_key_arn,
            opts=child,
        )

        execution_role, task_role = self._create_roles()
        self.iam_roles = (execution_role, task_role)
        self.execution_role_arn = ctx.arn("iam", f"role/{args.role_name('exec')}", regional=False)
        self.task_role_arn = ctx.arn("iam", f"role/{args.role_name('task')}", regional=False)

        sg = self._create_security_group()
        self.security_group_id = sg.id

        volumes = [aws.ecs.TaskDefinitionVolumeArgs(name="tmp")] + [
            aws.ecs.TaskDefinitionVolumeArgs(name=_volume_name(path)) for path in args.exec_volume_paths
        ]
        container = render_container_definition(
            self.container_spec, image=image, environment=args.environment, secrets=args.secrets
        )
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=args.family,
            cpu=str(args.size.cpu),
            memory=str(args.size.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=args.cpu_architecture
            ),
            # Composed ARNs (known at preview, so policies can compare them); the roles and their
            # policies exist before the task definition that names them.
            execution_role_arn=self.execution_role_arn,
            task_role_arn=self.task_role_arn,
            volumes=volumes,
            container_definitions=pulumi.Output.json_dumps([container]),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[execution_role, task_role, log_group]),
        )
        self.task_definition_arn = task_definition.arn

        registries = None
        if args.discovery is not None:
            discovery = aws.servicediscovery.Service(
                f"{name}-discovery",
                name=args.service_name,
                description=f"Tasks of ECS service {args.service_name}",
                dns_config=aws.servicediscovery.ServiceDnsConfigArgs(
                    namespace_id=args.discovery.namespace_id,
                    routing_policy="MULTIVALUE",
                    dns_records=[aws.servicediscovery.ServiceDnsConfigDnsRecordArgs(type="A", ttl=10)],
                ),
                # ECS reports task health to Cloud Map, so unhealthy tasks leave DNS.
                health_check_custom_config=aws.servicediscovery.ServiceHealthCheckCustomConfigArgs(),
                force_destroy=True,
                opts=child,
            )
            registries = aws.ecs.ServiceServiceRegistriesArgs(registry_arn=discovery.arn)

        service = aws.ecs.Service(
            f"{name}-service",
            name=args.service_name,
            cluster=args.cluster_arn,
            task_definition=task_definition.arn,
            desired_count=args.autoscaling.min_capacity,
            capacity_provider_strategies=[
                aws.ecs.ServiceCapacityProviderStrategyArgs(capacity_provider=s.provider, weight=s.weight, base=s.base)
                for s in args.capacity_provider_strategy
            ],
            platform_version="LATEST",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(args.subnet_ids),
                security_groups=[sg.id],
                assign_public_ip=False,
            ),
            load_balancers=[
                aws.ecs.ServiceLoadBalancerArgs(
                    target_group_arn=args.load_balancer.target_group_arn,
                    container_name=args.container_name,
                    container_port=args.container_port,
                )
            ],
            health_check_grace_period_seconds=args.health_check_grace_period_seconds,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            alarms=(
                aws.ecs.ServiceAlarmsArgs(alarm_names=list(args.deployment_alarm_names), enable=True, rollback=True)
                if args.deployment_alarm_names
                else None
            ),
            deployment_minimum_healthy_percent=args.min_healthy_percent,
            deployment_maximum_percent=args.max_percent,
            availability_zone_rebalancing="ENABLED",
            enable_execute_command=args.execute_command is not None,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            service_registries=registries,
            opts=pulumi.ResourceOptions(
                parent=self,
                # Auto scaling owns the task count after creation.
                ignore_changes=["desired_count"],
                # The name is explicit: a replacement must remove the old service first.
                delete_before_replace=True,
            ),
        )
        self.service_arn = service.id
        self._create_autoscaling(service)

        self.register_outputs(
            {
                "serviceName": self.service_name,
                "serviceArn": self.service_arn,
                "taskDefinitionArn": self.task_definition_arn,
                "securityGroupId": self.security_group_id,
                # A component's state is what it registers here (the engine replaces its outputs), and
                # stack policies read that state: keep the spec in it.
                CONTAINER_SPEC: self.container_spec,
            }
        )

    # -- IAM --------------------------------------------------------------------------------------
    def _create_roles(self) -> tuple[aws.iam.Role, aws.iam.Role]:
        name, args, ctx = self._name, self._args, self._args.context
        child = pulumi.ResourceOptions(parent=self)
        trust = json.dumps(task_trust_policy(ctx))

        execution_role = aws.iam.Role(
            f"{name}-exec-role",
            name=args.role_name("exec"),
            description=f"ECS pulls the image, writes logs and reads secrets for {args.family}",
            assume_role_policy=trust,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-exec-pull-logs",
            role=execution_role.id,
            policy=self._execution_policy(),
            opts=child,
        )
        if args.secrets:
            aws.iam.RolePolicy(
                f"{name}-exec-secrets",
                role=execution_role.id,
                policy=self._secrets_policy(),
                opts=child,
            )

        task_role = aws.iam.Role(
            f"{name}-task-role",
            name=args.role_name("task"),
            description=f"The application in {args.family}: only what task_policies and ECS Exec grant",
            assume_role_policy=trust,
            opts=child,
        )
        if args.execute_command is not None:
            aws.iam.RolePolicy(
                f"{name}-task-exec",
                role=task_role.id,
                policy=json.dumps(exec_task_policy(ctx, args.execute_command)),
                opts=child,
            )
        for key, statements in args.task_policies.items():
            aws.iam.RolePolicy(
                f"{name}-task-{key}",
                role=task_role.id,
                policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [dict(s) for s in statements]}),
                opts=child,
            )
        return execution_role, task_role

    def _execution_policy(self) -> pulumi.Input[str]:
        args, ctx = self._args, self._args.context
        group_arn = ctx.arn("logs", f"log-group:{args.log_group_name}")
        repository = args.image_repository_arn
        if repository is None and isinstance(args.image, str):
            m = _ECR_IMAGE.match(args.image)
            if m:
                repository = f"arn:{ctx.partition}:ecr:{m['region']}:{m['account']}:repository/{m['repo']}"
        statements: list[dict[str, Any]] = [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{group_arn}:log-stream:*",
            }
        ]
        if repository is not None:
            statements += [
                {
                    # Registry-level call: ECR supports no resource scoping for it.
                    "Sid": "EcrAuthToken",
                    "Effect": "Allow",
                    "Action": "ecr:GetAuthorizationToken",
                    "Resource": "*",
                },
                {
                    "Sid": "PullAppImage",
                    "Effect": "Allow",
                    "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    "Resource": repository,
                },
            ]
        return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})

    def _secrets_policy(self) -> pulumi.Output[str]:
        args, ctx = self._args, self._args.context
        secrets = [s.arn for s in args.secrets.values() if s.kind == "secretsmanager"]
        parameters = [s.arn for s in args.secrets.values() if s.kind == "ssm"]
        statements: list[dict[str, Any]] = []
        if secrets:
            statements.append(
                {
                    "Sid": "ReadInjectedSecrets",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": pulumi.Output.all(*secrets).apply(lambda arns: sorted(set(arns))),
                }
            )
        if parameters:
            statements.append(
                {
                    "Sid": "ReadInjectedParameters",
                    "Effect": "Allow",
                    "Action": "ssm:GetParameters",
                    "Resource": pulumi.Output.all(*parameters).apply(lambda arns: sorted(set(arns))),
                }
            )
        statements += secret_decrypt_statements(ctx, list(args.secret_kms_key_arns))
        return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})

    # -- network ----------------------------------------------------------------------------------
    def _create_security_group(self) -> aws.ec2.SecurityGroup:
        name, args = self._name, self._args
        child = pulumi.ResourceOptions(parent=self)
        port = args.container_port
        lb = args.load_balancer
        sg = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"Tasks of {args.family}: only the ALB on {port}; egress to dependencies",
            revoke_rules_on_delete=True,
            tags={"Name": f"{name}-tasks"},
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-alb",
            security_group_id=sg.id,
            referenced_security_group_id=lb.security_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=f"HTTP {port} from the ALB",
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-tasks",
            security_group_id=lb.security_group_id,
            referenced_security_group_id=sg.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=f"ALB to {args.service_name} tasks on {port} (traffic and health checks)",
            opts=child,
        )
        for dep in args.dependencies:
            slug = _slug(dep.description)
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-to-{slug}",
                security_group_id=sg.id,
                referenced_security_group_id=dep.security_group_id,
                ip_protocol="tcp",
                from_port=dep.port,
                to_port=dep.port,
                description=f"{dep.description} on {dep.port}",
                opts=child,
            )
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-{slug}-from-tasks",
                security_group_id=dep.security_group_id,
                referenced_security_group_id=sg.id,
                ip_protocol="tcp",
                from_port=dep.port,
                to_port=dep.port,
                description=f"{dep.description} from {args.service_name} tasks",
                opts=child,
            )
        egress = args.https_egress
        for i, group in enumerate(egress.security_group_ids):
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-https-to-sg-{i + 1}",
                security_group_id=sg.id,
                referenced_security_group_id=group,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description="HTTPS to AWS APIs through interface VPC endpoints",
                opts=child,
            )
        for i, prefix_list in enumerate(egress.prefix_list_ids):
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-https-to-pl-{i + 1}",
                security_group_id=sg.id,
                prefix_list_id=prefix_list,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description="HTTPS to S3 (ECR image layers) through the gateway endpoint",
                opts=child,
            )
        for i, cidr in enumerate(egress.cidrs):
            v6 = ":" in cidr
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-https-to-cidr-{i + 1}",
                security_group_id=sg.id,
                cidr_ipv4=None if v6 else cidr,
                cidr_ipv6=cidr if v6 else None,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                description=f"HTTPS to {cidr} (AWS APIs through NAT)",
                opts=child,
            )
        return sg

    # -- scaling ----------------------------------------------------------------------------------
    def _create_autoscaling(self, service: aws.ecs.Service) -> None:
        name, args = self._name, self._args
        scaling = args.autoscaling
        target = aws.appautoscaling.Target(
            f"{name}-scaling-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=self.scaling_resource_id,
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[service]),
        )
        lb = args.load_balancer
        metrics: list[tuple[str, str, float, pulumi.Input[str] | None]] = [
            ("cpu", "ECSServiceAverageCPUUtilization", scaling.cpu_target_percent, None),
            ("memory", "ECSServiceAverageMemoryUtilization", scaling.memory_target_percent, None),
            (
                "requests",
                "ALBRequestCountPerTarget",
                scaling.requests_per_target,
                pulumi.Output.concat(lb.load_balancer_arn_suffix, "/", lb.target_group_arn_suffix),
            ),
        ]
        for key, metric, value, label in metrics:
            aws.appautoscaling.Policy(
                f"{name}-scale-{key}",
                name=f"{args.family}-{key}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=float(value),
                    predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type=metric, resource_label=label
                    ),
                    scale_in_cooldown=scaling.scale_in_cooldown_seconds,
                    scale_out_cooldown=scaling.scale_out_cooldown_seconds,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _volume_name(path: str) -> str:
    return path.strip("/").replace("/", "-")


def task_trust_policy(ctx: AwsContext) -> dict[str, Any]:
    """ECS tasks of this account and region may assume the role (confused-deputy guarded)."""
    return service_trust_policy(ctx, "ecs-tasks.amazonaws.com", ctx.arn("ecs", "*"))


def exec_task_policy(ctx: AwsContext, access: ExecAccess) -> dict[str, Any]:
    """What the task role needs for ECS Exec, as AWS documents it.

    The four ``ssmmessages`` actions support no resource-level scoping (Resource must be ``*``);
    session logging is limited to the cluster's exec log group, and the session key is granted through
    its alias.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ExecSessionChannels",
                "Effect": "Allow",
                "Action": [
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                "Resource": "*",
            },
            {
                "Sid": "ExecFindLogGroup",
                "Effect": "Allow",
                "Action": "logs:DescribeLogGroups",
                "Resource": "*",
            },
            {
                "Sid": "ExecWriteSessionLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                "Resource": f"{access.log_group_arn}:*",
            },
            {
                "Sid": "ExecDecryptSession",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": ctx.arn("kms", "key/*"),
                "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": access.kms_key_alias}},
            },
        ],
    }
