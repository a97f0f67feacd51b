"""The ECS task definition the program renders, as the ``docker run`` that runs the image the same way.

ECS on Fargate and ``docker run`` share the container runtime settings that matter for the image:
user, read-only root filesystem, volumes, init process, Linux capabilities, port, environment,
stop timeout, task CPU and memory. This module reads them from the rendered task definition, never
from a copy, and says which settings cannot be the same on one machine (``Deviation``).
"""

from __future__ import annotations

import json
import resource
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

TASK_DEFINITION: Final = "aws:ecs/taskDefinition:TaskDefinition"


def rendered_task_definition(stack: str = "dev", service: str = "api") -> dict[str, Any]:
    """The task definition of ``service`` as the program registers it (``containerDefinitions``
    parsed), from a run of the Pulumi program under the mock runtime.

    The one place the offline tooling is imported: point it at wherever that tooling lives.
    """
    from mockcloud.runner import run_stack

    run = run_stack(stack)
    found = [r for r in run.of_type(TASK_DEFINITION) if r.name == f"{stack}-{service}-task"]
    if len(found) != 1:
        names = sorted(r.name for r in run.of_type(TASK_DEFINITION))
        raise LookupError(f"no task definition {stack}-{service}-task in stack {stack}; found {names}")
    task = dict(found[0].inputs)
    task["containerDefinitions"] = json.loads(task["containerDefinitions"])
    return task


@dataclass(frozen=True)
class Deviation:
    """A task setting ``docker run`` on this machine cannot reproduce, and what it does instead."""

    setting: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ContainerRun:
    """``docker run`` arguments equivalent to one container of a Fargate task definition."""

    name: str
    image: str
    args: tuple[str, ...]
    """Everything between ``docker run`` and the image."""
    command_args: tuple[str, ...] = ()
    """After the image: the task's command (empty: the image's CMD)."""
    container: Mapping[str, Any]
    """The container definition it came from."""
    volumes: tuple[str, ...]
    """Named volumes created for the task's volumes (remove them with the container)."""
    port: int
    stop_timeout: int
    deviations: tuple[Deviation, ...] = field(default=())

    @property
    def command(self) -> list[str]:
        return ["docker", "run", *self.args, self.image, *self.command_args]

    def shell(self) -> str:
        return shlex.join(self.command)


def _nofile_hard_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def container_run(
    task: Mapping[str, Any],
    *,
    image: str,
    name: str,
    values: Mapping[str, str],
    container: str = "app",
    extra_env: Mapping[str, str] | None = None,
    network: str = "host",
) -> ContainerRun:
    """The ``docker run`` for ``container`` of ``task``.

    ``values`` replaces the values of environment variables and secrets whose task values point at
    AWS (endpoints, Secrets Manager ARNs); every name the task sets must have a value, from the task
    or from here, and a name the task does not set is refused (``extra_env`` is for those, each
    listed as a deviation). ``network="host"`` stands for awsvpc: the task has the port to itself.
    """
    definitions = {c["name"]: c for c in task["containerDefinitions"]}
    if container not in definitions:
        raise LookupError(f"no container {container!r} in the task definition; found {sorted(definitions)}")
    spec = definitions[container]
    args: list[str] = ["--detach", "--name", name, "--network", network]
    deviations: list[Deviation] = []

    if spec.get("user"):
        args += ["--user", str(spec["user"])]
    if spec.get("readonlyRootFilesystem"):
        args.append("--read-only")
    if spec.get("privileged"):
        args.append("--privileged")
    linux = spec.get("linuxParameters") or {}
    if linux.get("initProcessEnabled"):
        args.append("--init")
    capabilities = linux.get("capabilities") or {}
    args += [f"--cap-add={cap}" for cap in capabilities.get("add", [])]
    args += [f"--cap-drop={cap}" for cap in capabilities.get("drop", [])]

    # Fargate task volumes without a host or EFS configuration are task-scoped storage; a fresh
    # named volume per run is the same (and `docker diff` does not count what is written there).
    task_volumes = {v["name"]: v for v in task.get("volumes", [])}
    volumes: list[str] = []
    for mount in spec.get("mountPoints", []):
        source = mount["sourceVolume"]
        if source not in task_volumes:
            raise LookupError(f"mountPoints: {source!r} is not a volume of the task ({sorted(task_volumes)})")
        if set(task_volumes[source]) - {"name"}:
            raise ValueError(f"volume {source!r}: only task-scoped volumes (no host, EFS or Docker config) run here")
        volume = f"{name}-{source}"
        volumes.append(volume)
        readonly = ",readonly" if mount.get("readOnly") else ""
        args += ["--mount", f"type=volume,src={volume},dst={mount['containerPath']}{readonly}"]

    ports = [m["containerPort"] for m in spec.get("portMappings", [])]
    if len(ports) != 1:
        raise ValueError(f"portMappings: {ports}; the image test expects exactly one container port")
    if network != "host":
        args += ["--publish", f"127.0.0.1::{ports[0]}"]

    known = {e["name"]: e["value"] for e in spec.get("environment", [])}
    secret_names = [s["name"] for s in spec.get("secrets", [])]
    unknown = sorted(set(values) - set(known) - set(secret_names))
    if unknown:
        raise ValueError(f"values for {unknown}: the task sets no such variable (pass them as extra_env)")
    missing = sorted(n for n in secret_names if n not in values)
    if missing:
        raise ValueError(f"secrets {missing} need local values (ECS reads them from Secrets Manager or SSM)")
    for key in sorted({*known, *secret_names}):
        args += ["--env", f"{key}={values.get(key, known.get(key, ''))}"]
    for key, value in sorted((extra_env or {}).items()):
        if key in known or key in secret_names:
            raise ValueError(f"extra_env {key!r}: the task sets it; pass its local value in values")
        args += ["--env", f"{key}={value}"]
        deviations.append(Deviation(key, f"set to {value!r} here; the task leaves it to the image"))

    stop_timeout = int(spec.get("stopTimeout", 30))  # Fargate's default when unset
    args += ["--stop-timeout", str(stop_timeout)]

    hard_limit = _nofile_hard_limit()
    for limit in spec.get("ulimits", []):
        soft, hard = int(limit["softLimit"]), int(limit["hardLimit"])
        if limit["name"] == "nofile" and hard > hard_limit:
            deviations.append(Deviation("ulimits.nofile", f"{hard} exceeds this machine's cap {hard_limit}; capped"))
            soft, hard = min(soft, hard_limit), hard_limit
        args += ["--ulimit", f"{limit['name']}={soft}:{hard}"]

    # Task-level size (Fargate): CPU units / 1024 vCPUs and a hard memory limit in MiB.
    if task.get("cpu"):
        args += ["--cpus", f"{int(task['cpu']) / 1024:g}"]
    if task.get("memory"):
        args += ["--memory", f"{int(task['memory'])}m"]
    if spec.get("memory"):
        args += ["--memory", f"{int(spec['memory'])}m"]

    if spec.get("logConfiguration", {}).get("logDriver") == "awslogs":
        deviations.append(Deviation("logConfiguration", "awslogs needs CloudWatch; the default json-file driver"))
    if spec.get("healthCheck"):
        deviations.append(
            Deviation("healthCheck", "not given to docker run (it would replace the image's HEALTHCHECK); run by exec")
        )
    if network == "host":
        deviations.append(Deviation("networkMode", "awsvpc has its own ENI; host networking shares the machine's"))
    # An entryPoint replaces the image's ENTRYPOINT (docker run takes its first word; the rest
    # goes before the command), a command replaces CMD: as ECS does.
    entry_point: Sequence[str] = spec.get("entryPoint") or ()
    command: tuple[str, ...] = tuple(spec.get("command") or ())
    if entry_point:
        args += ["--entrypoint", entry_point[0]]
        command = (*entry_point[1:], *command)
    return ContainerRun(
        name=name,
        image=image,
        args=tuple(args),
        command_args=command,
        container=spec,
        volumes=tuple(volumes),
        port=ports[0],
        stop_timeout=stop_timeout,
        deviations=tuple(deviations),
    )


def health_check_exec(spec: Mapping[str, Any]) -> list[str]:
    """The task's health-check command as ``docker exec`` arguments (ECS semantics: ``CMD`` runs
    the arguments directly, ``CMD-SHELL`` runs the string with the container's ``/bin/sh -c``)."""
    command = list((spec.get("healthCheck") or {}).get("command") or [])
    if not command:
        raise ValueError("the container has no healthCheck.command")
    kind, rest = command[0], command[1:]
    if kind == "CMD":
        return rest
    if kind == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(rest)]
    raise ValueError(f"healthCheck.command: {command!r} must start with CMD or CMD-SHELL")
