"""ECS: container health checks, hardened containers, services that deploy safely behind load balancers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from platform_contracts.fargate_service import is_secret_name, is_secret_value
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from . import resource_types as t
from .props import as_list, as_mapping, is_set, iter_mappings, json_document, number
from .rules import Report, StackView, depends_on, resource_policy, stack_policy

# ECS RegisterTaskDefinition HealthCheck limits (botocore's ECS service model).
CONTAINER_HEALTH_CHECK_RANGES: Final = {
    "interval": (5, 300),
    "timeout": (2, 60),
    "retries": (1, 10),
    "startPeriod": (0, 300),
}
# ECS UpdateService: healthCheckGracePeriodSeconds is 0..2147483647.
MAX_GRACE_PERIOD_SECONDS: Final = 2_147_483_647


def containers(args: ResourceValidationArgs | PolicyResource, report: Report | None = None) -> list[Any]:
    """The containers of a task definition (``containerDefinitions``, a JSON string, which raises at
    preview when unknown) or of a Fargate service component (its declared ``containerSpec``, plain
    values known at preview: the same keys, with ``imageRepository`` instead of ``image``)."""
    if args.resource_type == t.FARGATE_SERVICE:
        spec = args.props.get(t.CONTAINER_SPEC)
        if not isinstance(spec, Mapping):
            if report is not None:
                report(f"The component declares no {t.CONTAINER_SPEC}: its container cannot be checked at preview.")
            return []
        return [spec]
    try:
        document = json_document(args.props["containerDefinitions"])
    except (KeyError, json.JSONDecodeError):
        document = None
    if not isinstance(document, list):
        if report is not None:
            report("containerDefinitions is not a JSON list of container definitions.")
        return []
    return [c for c in document if isinstance(c, Mapping)]


def _shown(value: Any) -> str:
    """A value for a message: whole numbers as integers (component inputs arrive as floats)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _container_name(container: Mapping[str, Any]) -> str:
    return str(container.get("name") or "<unnamed>")


# -- mandatory everywhere ---------------------------------------------------------------------------
def _container_health_check(args: ResourceValidationArgs, report: Report) -> None:
    for container in containers(args, report):
        name = _container_name(container)
        check = as_mapping(container.get("healthCheck"))
        command = [str(c) for c in as_list(check.get("command"))]
        if not command:
            report(
                f"Container '{name}' has no healthCheck: ECS ignores the image's HEALTHCHECK, so a hung "
                "process keeps running and the service never replaces it."
            )
            continue
        if command[0] not in ("CMD", "CMD-SHELL") or len(command) < 2:
            report(f"Container '{name}': healthCheck.command must start with CMD or CMD-SHELL, got {command}.")
        for key, (low, high) in CONTAINER_HEALTH_CHECK_RANGES.items():
            if key in check:
                value = number(check[key])
                if value is None or not low <= value <= high or value != int(value):
                    report(f"Container '{name}': healthCheck.{key}={_shown(check[key])} is outside {low}..{high}.")


def _service_grace_period(args: ResourceValidationArgs, report: Report) -> None:
    if not as_list(args.props.get("loadBalancers")):
        return
    if not is_set(args.props, "healthCheckGracePeriodSeconds"):
        report(
            "The service is attached to a load balancer but sets no healthCheckGracePeriodSeconds: tasks that "
            "start slowly fail the target group's health check and are killed in a loop."
        )
        return
    value = number(args.props["healthCheckGracePeriodSeconds"])
    if value is None or not 0 < value <= MAX_GRACE_PERIOD_SECONDS:
        report(f"healthCheckGracePeriodSeconds={args.props['healthCheckGracePeriodSeconds']!r} must be above 0.")


# -- guardrails -------------------------------------------------------------------------------------
def _container_insights(args: ResourceValidationArgs, report: Report) -> None:
    for setting in iter_mappings(args.props.get("settings")):
        if setting.get("name") == "containerInsights" and setting.get("value") in ("enabled", "enhanced"):
            return
    report(
        "Set settings=[{name: containerInsights, value: enabled}] (or enhanced) on the cluster"
        " (config key containerInsights)."
    )


def _no_privileged(args: ResourceValidationArgs, report: Report) -> None:
    for container in containers(args, report):
        if container.get("privileged") is True:
            report(f"Container '{_container_name(container)}' runs privileged (root on the host).")


def _read_only_root(args: ResourceValidationArgs, report: Report) -> None:
    for container in containers(args, report):
        if container.get("readonlyRootFilesystem") is not True:
            report(
                f"Container '{_container_name(container)}' has a writable root filesystem: set "
                "readonlyRootFilesystem=true and mount a volume where the app writes (e.g. /tmp)."
            )


def is_root_user(user: str) -> bool:
    """``root``, ``0``, ``root:group`` and ``0:0`` all run as UID 0."""
    return user.split(":", 1)[0].strip() in ("root", "0", "")


def _non_root_user(args: ResourceValidationArgs, report: Report) -> None:
    for container in containers(args, report):
        user = container.get("user")
        if not isinstance(user, str) or is_root_user(user):
            report(
                f"Container '{_container_name(container)}' does not set a non-root user (got {user!r}); "
                "the policy cannot see the image's USER, so name it in the task definition."
            )


def secret_looking(name: str, value: Any) -> str | None:
    """Why an environment variable looks like a secret, or None (the rule the Fargate component
    applies too: one definition in the shared contract)."""
    if is_secret_name(name):
        return "its name"
    if is_secret_value(value):
        return "its value"
    return None


def _no_plaintext_secrets(args: ResourceValidationArgs, report: Report) -> None:
    for container in containers(args, report):
        for variable in iter_mappings(container.get("environment")):
            name = str(variable.get("name", ""))
            why = secret_looking(name, variable.get("value"))
            if why:
                # Never echo the value: the report ends up in CI logs.
                report(
                    f"Container '{_container_name(container)}': environment variable {name} looks like a secret "
                    f"({why}); pass it through `secrets` (valueFrom a Secrets Manager or SSM ARN)."
                )


def _no_added_capabilities(args: ResourceValidationArgs, report: Report) -> None:
    allowed = {str(c).upper() for c in as_list(args.get_config().get("allowedCapabilities"))}
    for container in containers(args, report):
        name = _container_name(container)
        linux = as_mapping(container.get("linuxParameters"))
        added = [str(c).upper() for c in as_list(as_mapping(linux.get("capabilities")).get("add"))]
        if extra := [c for c in added if c.removeprefix("CAP_") not in allowed and c not in allowed]:
            report(
                f"Container '{name}' adds Linux capabilities {extra}"
                + (
                    " (SYS_ADMIN is close to root on the host)"
                    if any("SYS_ADMIN" in c or c == "ALL" for c in extra)
                    else ""
                )
                + "; run with Docker's default set, or drop more."
            )
        if as_list(linux.get("devices")):
            report(f"Container '{name}' maps host devices (linuxParameters.devices) into the container.")
        unconfined = [o for o in as_list(container.get("dockerSecurityOptions")) if "unconfined" in str(o)]
        if unconfined:
            report(f"Container '{name}' turns off kernel confinement: dockerSecurityOptions {unconfined}.")


HOST_NAMESPACES: Final = {"networkMode": "network", "pidMode": "process", "ipcMode": "IPC"}


def _no_host_namespaces(args: ResourceValidationArgs, report: Report) -> None:
    for key, what in HOST_NAMESPACES.items():
        if args.props.get(key) == "host":
            report(
                f"{key}='host': containers share the host's {what} namespace (they see and reach the host's {what})."
            )
    for volume in iter_mappings(args.props.get("volumes")):
        if is_set(volume, "hostPath"):
            report(
                f"Volume {volume.get('name')!r} mounts host path {volume['hostPath']!r} (e.g. the Docker socket gives "
                "control of the host); use an EFS or a task-local volume."
            )


def _container_logging(args: ResourceValidationArgs, report: Report) -> None:
    for container in containers(args, report):
        log = as_mapping(container.get("logConfiguration"))
        if not log.get("logDriver"):
            report(f"Container '{_container_name(container)}' has no logConfiguration: its output is lost.")


def _efs_transit_encryption(args: ResourceValidationArgs, report: Report) -> None:
    for volume in iter_mappings(args.props.get("volumes")):
        efs = as_mapping(volume.get("efsVolumeConfiguration"))
        if efs and efs.get("transitEncryption") != "ENABLED":
            report(f"EFS volume {volume.get('name')!r} is mounted without transitEncryption=ENABLED.")


def _exec_logging(args: ResourceValidationArgs, report: Report) -> None:
    exec_config = as_mapping(as_mapping(args.props.get("configuration")).get("executeCommandConfiguration"))
    if not exec_config:
        report(
            "No configuration.executeCommandConfiguration: ECS Exec sessions are neither encrypted with your key "
            "nor logged; set kmsKeyId and logging (OVERRIDE to a log group, or DEFAULT)."
        )
        return
    if exec_config.get("logging") == "NONE":
        report("executeCommandConfiguration.logging='NONE': commands run in containers leave no record.")
    if not is_set(exec_config, "kmsKeyId"):
        report("executeCommandConfiguration.kmsKeyId is not set: exec session data is not encrypted with your key.")


def _fargate_platform(args: ResourceValidationArgs, report: Report) -> None:
    version = args.props.get("platformVersion")
    fargate = args.props.get("launchType") == "FARGATE" or any(
        str(s.get("capacityProvider", "")).startswith("FARGATE")
        for s in iter_mappings(args.props.get("capacityProviderStrategies"))
    )
    if fargate and isinstance(version, str) and version != "LATEST":
        report(f"platformVersion={version!r} pins an older Fargate platform (kernel and runtime fixes); use LATEST.")


def _no_public_ip(args: ResourceValidationArgs, report: Report) -> None:
    network = as_mapping(args.props.get("networkConfiguration"))
    if network.get("assignPublicIp") is True:
        report("networkConfiguration.assignPublicIp=true puts tasks on the internet; use private subnets and NAT.")


def _circuit_breaker(args: ResourceValidationArgs, report: Report) -> None:
    controller = as_mapping(args.props.get("deploymentController")).get("type", "ECS")
    if controller != "ECS":
        return  # CODE_DEPLOY / EXTERNAL deployments roll back on their own terms
    breaker = as_mapping(args.props.get("deploymentCircuitBreaker"))
    if breaker.get("enable") is not True or breaker.get("rollback") is not True:
        report(
            "Set deploymentCircuitBreaker={enable: true, rollback: true}: a deployment whose tasks never get "
            "healthy otherwise retries forever instead of returning to the last working revision."
        )


def _task_role_separate(view: StackView, report: Report, config: Mapping[str, Any]) -> None:
    for task in view.of_type(t.ECS_TASK_DEFINITION):
        with view.reading(task):
            if not is_set(task.props, "taskRoleArn"):
                continue  # no task role: the app gets no AWS permissions at all
            task_deps = _role_dependencies(task, "taskRoleArn")
            execution_deps = _role_dependencies(task, "executionRoleArn")
            if task_deps or execution_deps:
                same = bool(task_deps & execution_deps)
            elif is_set(task.props, "executionRoleArn"):
                same = task.props["taskRoleArn"] == task.props["executionRoleArn"]
            else:
                same = False
            if same:
                report(
                    "The task role (the app's permissions) is the execution role (pulling images, reading "
                    "secrets): the app could read every secret the agent injects. Use two roles.",
                    task.urn,
                )


def _role_dependencies(task: PolicyResource, prop: str) -> set[str]:
    return {d.urn for d in depends_on(task, prop) if d.resource_type == t.IAM_ROLE}


def policies() -> Sequence[ResourceValidationPolicy | StackValidationPolicy]:
    mandatory, advisory = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
    return [
        resource_policy(
            name="ecs-container-health-check",
            description="Every ECS container definition has a health check (CMD/CMD-SHELL, within ECS's ranges).",
            types=t.CONTAINER_TYPES,
            check=_container_health_check,
            enforcement=mandatory,
            severity=Severity.HIGH,
            remediation="Add healthCheck={command: ['CMD', ...], interval, timeout, retries, startPeriod} to "
            "each container; point it at a liveness endpoint that touches no dependency.",
        ),
        resource_policy(
            name="ecs-service-grace-period",
            description="Every ECS service attached to a load balancer sets a health check grace period.",
            types=[t.ECS_SERVICE],
            check=_service_grace_period,
            enforcement=mandatory,
            severity=Severity.HIGH,
            remediation="Set healthCheckGracePeriodSeconds above the app's worst-case start time.",
        ),
        resource_policy(
            name="ecs-container-insights",
            description="ECS clusters have Container Insights enabled.",
            types=[t.ECS_CLUSTER],
            check=_container_insights,
            enforcement=advisory,
            severity=Severity.LOW,
            remediation="settings=[{name: 'containerInsights', value: 'enabled'}]",
        ),
        resource_policy(
            name="ecs-no-privileged-containers",
            description="No ECS container runs privileged.",
            types=t.CONTAINER_TYPES,
            check=_no_privileged,
            enforcement=advisory,
            severity=Severity.CRITICAL,
            remediation="Remove privileged=true; grant only the Linux capabilities the container needs.",
        ),
        resource_policy(
            name="ecs-read-only-root-filesystem",
            description="ECS containers run with a read-only root filesystem.",
            types=t.CONTAINER_TYPES,
            check=_read_only_root,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="readonlyRootFilesystem=true, plus a volume for the paths the app writes.",
        ),
        resource_policy(
            name="ecs-non-root-user",
            description="ECS containers name a non-root user.",
            types=t.CONTAINER_TYPES,
            check=_non_root_user,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="Set user to the image's unprivileged UID:GID (e.g. '10001:10001').",
        ),
        resource_policy(
            name="ecs-no-plaintext-secrets",
            description="No secret-looking values in ECS containers' plain environment.",
            types=t.CONTAINER_TYPES,
            check=_no_plaintext_secrets,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="Move the variable to `secrets` with valueFrom a Secrets Manager secret or SSM parameter.",
        ),
        resource_policy(
            name="ecs-no-added-capabilities",
            description="ECS containers add no Linux capabilities, map no host devices and keep kernel confinement.",
            types=t.CONTAINER_TYPES,
            check=_no_added_capabilities,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="Remove linuxParameters.capabilities.add (SYS_ADMIN, NET_ADMIN, ALL, ...), "
            "linuxParameters.devices and 'unconfined' dockerSecurityOptions.",
            config_schema=PolicyConfigSchema(
                properties={
                    "allowedCapabilities": {
                        "type": "array",
                        "items": {"type": "string"},
                        "default": [],
                        "description": "Capabilities a container may add (e.g. SYS_PTRACE for a profiler sidecar).",
                    }
                }
            ),
        ),
        resource_policy(
            name="ecs-no-host-namespaces",
            description="ECS task definitions share no host namespace (network, PID, IPC) and mount no host path.",
            types=[t.ECS_TASK_DEFINITION],
            check=_no_host_namespaces,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="networkMode='awsvpc', no pidMode/ipcMode 'host', no volumes with hostPath.",
        ),
        resource_policy(
            name="ecs-container-logging",
            description="Every ECS container has a log configuration.",
            types=t.CONTAINER_TYPES,
            check=_container_logging,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="logConfiguration={logDriver: 'awslogs', options: {awslogs-group, awslogs-region, "
            "awslogs-stream-prefix}} with a log group the program creates.",
        ),
        resource_policy(
            name="ecs-efs-transit-encryption",
            description="EFS volumes of ECS tasks are mounted with encryption in transit.",
            types=[t.ECS_TASK_DEFINITION],
            check=_efs_transit_encryption,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="efsVolumeConfiguration={transitEncryption: 'ENABLED', ...}",
        ),
        resource_policy(
            name="ecs-exec-logging",
            description="ECS clusters encrypt ECS Exec sessions with a KMS key and log them.",
            types=[t.ECS_CLUSTER],
            check=_exec_logging,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="configuration={executeCommandConfiguration: {kmsKeyId, logging: 'OVERRIDE', "
            "logConfiguration: {cloudWatchLogGroupName, cloudWatchEncryptionEnabled: true}}}",
        ),
        resource_policy(
            name="ecs-fargate-platform-version",
            description="Fargate services run on the LATEST platform version.",
            types=[t.ECS_SERVICE],
            check=_fargate_platform,
            enforcement=advisory,
            severity=Severity.LOW,
            remediation="platformVersion='LATEST' (or leave it unset).",
        ),
        resource_policy(
            name="ecs-no-public-ip",
            description="ECS services do not assign public IPs to tasks.",
            types=[t.ECS_SERVICE],
            check=_no_public_ip,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="networkConfiguration.assignPublicIp=false with private subnets.",
        ),
        resource_policy(
            name="ecs-deployment-circuit-breaker",
            description="ECS services deploy with the circuit breaker and automatic rollback.",
            types=[t.ECS_SERVICE],
            check=_circuit_breaker,
            enforcement=advisory,
            severity=Severity.MEDIUM,
            remediation="deploymentCircuitBreaker={enable: true, rollback: true}",
        ),
        stack_policy(
            name="ecs-task-role-separate",
            description="ECS task definitions use a task role distinct from the execution role.",
            check=_task_role_separate,
            enforcement=advisory,
            severity=Severity.HIGH,
            remediation="Create one role for the ECS agent (executionRoleArn) and one for the app (taskRoleArn).",
        ),
    ]
