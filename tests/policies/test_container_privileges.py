"""Container privileges beyond `privileged`: root users, added capabilities, host devices and
namespaces, host paths, writable root filesystems, secrets in plain environment, missing logs;
plus ECS Exec logging, EFS in transit and the Fargate platform version."""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws

from tests.policies.builders import ACCOUNT, REGION, container, repository, service, target_group, task_definition
from tests.policies.support import ALL_MANDATORY, Analyze, flagged, messages
from tests.support import ComponentRunner


def _caps(*add: str) -> dict[str, Any]:
    return {"linuxParameters": {"capabilities": {"add": list(add), "drop": ["NET_RAW"]}}}


def _containers() -> None:
    repository("app")
    task_definition("hardened", [container(**_caps())])
    task_definition("sys-admin", [container(**_caps("SYS_ADMIN"))])
    task_definition("cap-prefix", [container(**_caps("CAP_NET_ADMIN"))])
    task_definition("all-caps", [container(**_caps("ALL"))])
    task_definition("ptrace", [container(**_caps("SYS_PTRACE"))])
    task_definition("devices", [container(linuxParameters={"devices": [{"hostPath": "/dev/fuse"}]})])
    task_definition("unconfined", [container(dockerSecurityOptions=["seccomp:unconfined"])])
    # Root in every spelling, and no user at all (the image's USER is invisible to the policy).
    task_definition("root-name", [container(user="root")])
    task_definition("root-uid-gid", [container(user="0:0")])
    task_definition("root-with-group", [container(user="root:app")])
    task_definition("sidecar-as-root", [container(), container("sidecar", user="0")])
    task_definition("writable", [container(readonlyRootFilesystem=False)])
    task_definition("aws-keys-in-env", [container(environment=[{"name": "AWS_SECRET_ACCESS_KEY", "value": "x" * 40}])])
    task_definition("no-logs", [container(logConfiguration=None)])
    # Task-level: host namespaces and host paths.
    task_definition("host-network", [container()], network_mode="host")
    task_definition("host-pid", [container()], pid_mode="host")
    task_definition("host-ipc", [container()], ipc_mode="host")
    task_definition("docker-socket", [container()], volumes=[{"name": "docker", "host_path": "/var/run/docker.sock"}])
    efs = {"file_system_id": "fs-0123456789abcdef0"}
    task_definition("efs-plain", [container()], volumes=[{"name": "data", "efs_volume_configuration": efs}])
    task_definition(
        "efs-tls",
        [container()],
        volumes=[{"name": "data", "efs_volume_configuration": {**efs, "transit_encryption": "ENABLED"}}],
    )


def test_containers_add_no_capabilities_devices_or_unconfined_profiles(
    run_component: ComponentRunner, analyze: Analyze
) -> None:
    report = analyze(run_component(_containers))
    assert flagged(report, "ecs-no-added-capabilities") == {
        "sys-admin",
        "cap-prefix",
        "all-caps",
        "ptrace",
        "devices",
        "unconfined",
    }
    assert "close to root" in messages(report, "ecs-no-added-capabilities", "sys-admin")[0]


def test_a_capability_can_be_allowed_by_config(run_component: ComponentRunner, analyze: Analyze) -> None:
    config = {**ALL_MANDATORY, "ecs-no-added-capabilities": {"allowedCapabilities": ["SYS_PTRACE"]}}
    report = analyze(run_component(_containers), config=config)
    assert "ptrace" not in flagged(report, "ecs-no-added-capabilities")
    assert "sys-admin" in flagged(report, "ecs-no-added-capabilities")


def test_root_users_writable_roots_plain_secrets_and_missing_logs(
    run_component: ComponentRunner, analyze: Analyze
) -> None:
    report = analyze(run_component(_containers))
    assert flagged(report, "ecs-non-root-user") == {"root-name", "root-uid-gid", "root-with-group", "sidecar-as-root"}
    assert "sidecar" in messages(report, "ecs-non-root-user", "sidecar-as-root")[0]
    assert flagged(report, "ecs-read-only-root-filesystem") == {"writable"}
    assert flagged(report, "ecs-no-plaintext-secrets") == {"aws-keys-in-env"}
    assert flagged(report, "ecs-container-logging") == {"no-logs"}


def test_tasks_share_no_host_namespace_or_path(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_containers))
    assert flagged(report, "ecs-no-host-namespaces") == {"host-network", "host-pid", "host-ipc", "docker-socket"}
    assert "/var/run/docker.sock" in messages(report, "ecs-no-host-namespaces", "docker-socket")[0]
    assert flagged(report, "ecs-efs-transit-encryption") == {"efs-plain"}


def _exec(settings: dict[str, str]) -> Any:
    return {"execute_command_configuration": settings}


def _clusters_and_services() -> None:
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    settings: Any = [{"name": "containerInsights", "value": "enabled"}]
    aws.ecs.Cluster(
        "logged-exec",
        settings=settings,
        configuration=_exec({"kms_key_id": key, "logging": "DEFAULT"}),
    )
    aws.ecs.Cluster("no-exec-config", settings=settings)
    aws.ecs.Cluster(
        "exec-unlogged",
        settings=settings,
        configuration=_exec({"kms_key_id": key, "logging": "NONE"}),
    )
    aws.ecs.Cluster("exec-unencrypted", settings=settings, configuration=_exec({"logging": "DEFAULT"}))
    task = task_definition("web", [container()])
    group = target_group("web-tg")
    service("latest", task, group, platform_version="LATEST")
    service("pinned", task, group, platform_version="1.3.0")


def test_exec_sessions_are_encrypted_and_logged(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_clusters_and_services))
    assert flagged(report, "ecs-exec-logging") == {"no-exec-config", "exec-unlogged", "exec-unencrypted"}


def test_fargate_services_run_the_latest_platform(run_component: ComponentRunner, analyze: Analyze) -> None:
    report = analyze(run_component(_clusters_and_services))
    assert flagged(report, "ecs-fargate-platform-version") == {"pinned"}
