"""``make image-test``: build the app image and run it exactly as its ECS task definition says.

The container gets the settings of the task definition the Pulumi program renders (under the mock
runtime): user, read-only root filesystem, each volume mount, init process, capabilities, port,
environment names, stop timeout, CPU and memory; pointed at the machine's PostgreSQL and Redis
(a database and key prefix of its own). Each check prints one line; the last line is
``N passed, N failed``. Two deliberately broken variants are run too, and each must be caught:
an image without a non-root USER under a task without ``user``, and a task whose health-check
command cannot run in the image. ``--break`` runs the whole suite on one of them instead (it fails).
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tools.containers import bases, local, scan
from tools.containers.docker import DockerError, build, docker, engine, inspect, run
from tools.containers.image import CONTEXT, LOCAL_IMAGE, build_app, image_size
from tools.containers.report import Report, require
from tools.containers.task import ContainerRun, container_run, health_check_exec, rendered_task_definition

COMPILERS_AND_BUILD_TOOLS: Final = ("gcc", "cc", "c++", "g++", "clang", "make", "cmake", "ld", "as", "uv")
READY_WITHIN_SECONDS: Final = 120
BROKEN_VARIANTS: Final = ("no-user", "health-check")
# A health check as many templates write it: curl is not in slim images (nor in this one).
CURL_HEALTH_CHECK: Final = ["CMD-SHELL", "curl -fsS http://127.0.0.1:8080/healthz || exit 1"]


@dataclass(frozen=True)
class Target:
    """One running container under test and the task container definition it was started from."""

    run: ContainerRun
    database: str
    prefix: str

    @property
    def name(self) -> str:
        return self.run.name


# --------------------------------------------------------------------------------------------------
# HTTP against the container (it listens on the machine's loopback: host networking)
# --------------------------------------------------------------------------------------------------
def request(port: int, method: str, path: str, body: Any = None, timeout: float = 10) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return response.status, raw.decode(errors="replace")
    finally:
        connection.close()


def wait_until_ready(target: Target) -> float:
    """Seconds until /readyz answers 200; raises with the container's logs when it never does."""
    started = time.monotonic()
    while time.monotonic() - started < READY_WITHIN_SECONDS:
        state = inspect("container", target.name)["State"]
        if not state["Running"]:
            logs = run(["docker", "logs", "--tail", "30", target.name], check=False)
            raise RuntimeError(f"container exited {state['ExitCode']}:\n{logs.stdout}{logs.stderr}")
        try:
            status, _ = request(target.run.port, "GET", "/readyz", timeout=2)
            if status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"/readyz not 200 within {READY_WITHIN_SECONDS} s")


# --------------------------------------------------------------------------------------------------
# Starting a container as the task definition says
# --------------------------------------------------------------------------------------------------
def local_values(database: str) -> dict[str, str]:
    """Values for the task's variables that point at AWS: the local servers instead."""
    return {
        "DATABASE_HOST": local.POSTGRES_HOST,
        "DATABASE_PORT": str(local.POSTGRES_PORT),
        "DATABASE_NAME": database,
        "DATABASE_USER": local.POSTGRES_USER,
        "DATABASE_SSL": "false",  # RDS requires TLS; the local server has none
        # The task logs in with IAM tokens (DATABASE_AUTH/REDIS_AUTH=iam); locally the password paths
        # stand in: trust auth (APP_ENV=dev accepts an empty password) and a Redis without AUTH. The
        # IAM-only names are emptied (unset for the app): no app login role on the shared server.
        "DATABASE_AUTH": "password",
        "DATABASE_APP_USER": "",
        "DATABASE_PASSWORD": "",
        "REDIS_HOST": local.REDIS_HOST,
        "REDIS_PORT": str(local.REDIS_PORT),
        "REDIS_TLS": "false",
        "REDIS_AUTH": "none",
        "REDIS_USER": "",
        "REDIS_CACHE_NAME": "",
    }


def start(task: Mapping[str, Any], image: str, database: str, prefix: str, label: str) -> Target:
    name = f"catalog-image-test-{label}-{secrets.token_hex(3)}"
    spec = container_run(
        task,
        image=image,
        name=name,
        values=local_values(database),
        # Host networking shares the machine's interfaces: listen on loopback only (the image's
        # 0.0.0.0 is for the task's own ENI). The key prefix keeps the shared Redis apart.
        extra_env={"HOST": "127.0.0.1", "CACHE_KEY_PREFIX": prefix},
    )
    if not local.port_is_free(spec.port):
        raise RuntimeError(
            f"port {spec.port} (the task's containerPort) is in use on this machine; on Fargate the task has "
            "its own ENI, here the container shares the machine's network: stop what listens there"
        )
    docker("run", *spec.args, spec.image, *spec.command_args)
    return Target(run=spec, database=database, prefix=prefix)


def remove(target: Target) -> None:
    run(["docker", "rm", "--force", "--volumes", target.name], check=False)
    for volume in target.run.volumes:
        run(["docker", "volume", "rm", "--force", volume], check=False)


# --------------------------------------------------------------------------------------------------
# The checks (each raises CheckError, or any error, when it does not hold)
# --------------------------------------------------------------------------------------------------
def check_healthz(target: Target, detail: list[str]) -> None:
    status, body = request(target.run.port, "GET", "/healthz")
    require(status == 200, f"/healthz answered {status} {body}")
    detail.append(f"200 {body}")


def check_readyz(target: Target, detail: list[str]) -> None:
    status, body = request(target.run.port, "GET", "/readyz")
    require(status == 200, f"/readyz answered {status} {body}")
    detail.append(f"200 {body}")


def check_write_read_through_cache(target: Target, detail: list[str]) -> None:
    port = target.run.port
    status, categories = request(port, "GET", "/api/categories")
    require(status == 200 and bool(categories), f"GET /api/categories: {status} {categories}")
    sku = f"IMG-{secrets.token_hex(4).upper()}"
    product = {"sku": sku, "name": "Image test", "category_id": categories[0]["id"], "price_cents": 1234}
    product["stock"] = {"FRA": 3}
    status, created = request(port, "POST", "/api/products", product)
    require(status == 201, f"POST /api/products answered {status} {created}")
    product_id = created["id"]
    status, first = request(port, "GET", f"/api/products/{product_id}")
    require(status == 200 and first["sku"] == sku, f"GET after write: {status} {first}")
    client = local.redis_client()
    try:
        cached = [k.decode() for k in client.scan_iter(match=f"{target.prefix}*product:{product_id}*", count=500)]
        require(bool(cached), f"no Redis key for product {product_id} under {target.prefix}")
        value = client.get(cached[0])
    finally:
        client.close()
    status, second = request(port, "GET", f"/api/products/{product_id}")
    require(status == 200 and second == first, f"second GET differs: {status} {second}")
    require(value is not None and sku.encode() in value, f"cached value for {cached[0]} is not the product")
    detail.append(f"POST 201 id {product_id}, GET 200 filled {cached[0]}, second GET served the cached entry")


def check_task_health_check(target: Target, detail: list[str]) -> None:
    command = health_check_exec(target.run.container)
    result = run(["docker", "exec", target.name, *command], check=False)
    require(
        result.returncode == 0,
        f"{json.dumps(target.run.container['healthCheck']['command'])} exited {result.returncode} "
        f"{(result.stderr or result.stdout).strip()[-300:]}",
    )
    detail.append(f"{target.run.container['healthCheck']['command'][:2]} exited 0 as the container's user")


def check_dockerfile_healthcheck(target: Target, detail: list[str]) -> None:
    config = inspect("image", target.run.image)["Config"]
    healthcheck = config.get("Healthcheck") or {}
    require(bool(healthcheck.get("Test")), "the image has no HEALTHCHECK")
    # Docker runs the first probe one interval after the start (start period: failures do not count).
    deadline = time.monotonic() + (healthcheck["StartPeriod"] + healthcheck["Interval"] * 4) / 1e9
    status = ""
    while time.monotonic() < deadline:
        status = inspect("container", target.name)["State"]["Health"]["Status"]
        if status in ("healthy", "unhealthy"):
            break
        time.sleep(0.5)
    require(status == "healthy", f"health status {status!r}")
    detail.append(f"{healthcheck['Test'][1:]} -> healthy")


def check_non_root(target: Target, detail: list[str]) -> None:
    processes = docker("top", target.name, "-eo", "uid,pid,comm").splitlines()[1:]
    rows = [line.split(None, 2) for line in processes]
    require(bool(rows), "no processes in the container")
    root = [row for row in rows if row[0] in ("0", "root")]
    require(not root, f"runs as root: {root}")
    detail.append("processes " + ", ".join(f"{row[2]} uid {row[0]}" for row in rows))


def _docker_mount_points(target: Target) -> set[str]:
    """Paths Docker itself creates in the container layer: each volume's mount point and its parent
    directories, and the init binary ``--init`` binds in (/sbin/docker-init; /usr/sbin with merged /usr)."""
    paths = {m["containerPath"] for m in target.run.container.get("mountPoints", [])}
    if "--init" in target.run.args:
        paths |= {"/sbin/docker-init", "/usr/sbin/docker-init"}
    found = set()
    for path in paths:
        parts = path.strip("/").split("/")
        found |= {"/" + "/".join(parts[: i + 1]) for i in range(len(parts))}
    return found


def check_no_writes_outside_volumes(target: Target, detail: list[str]) -> None:
    mounts = [m["containerPath"] for m in target.run.container.get("mountPoints", [])]
    own = _docker_mount_points(target)
    changes = [line.split(" ", 1) for line in docker("diff", target.name).splitlines()]
    written = [f"{kind} {path}" for kind, path in changes if path not in own]
    require(not written, f"written outside the volumes: {written[:10]}")
    detail.append(f"docker diff shows only Docker's own mount points ({len(changes)}); volumes: {', '.join(mounts)}")


def check_sigterm_in_flight(target: Target, detail: list[str]) -> None:
    """A POST whose body is still arriving when SIGTERM lands must complete; then a clean exit."""
    port = target.run.port
    status, categories = request(port, "GET", "/api/categories")
    require(status == 200, f"GET /api/categories: {status}")
    body = json.dumps(
        {"sku": f"TERM-{secrets.token_hex(4).upper()}", "name": "In flight", "category_id": categories[0]["id"]}
        | {"price_cents": 1}
    ).encode()
    head = (
        f"POST /api/products HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        conn.sendall(head + body[:8])
        time.sleep(0.5)  # the server has the request line and headers: the request is in flight
        signalled = time.monotonic()
        docker("kill", "--signal", "TERM", target.name)
        time.sleep(1.0)  # the server is shutting down while the request waits for its body
        refused = False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            refused = True
        conn.sendall(body[8:])
        response = b""
        while chunk := conn.recv(65536):
            response += chunk
    status_line = response.split(b"\r\n", 1)[0].decode(errors="replace")
    try:
        exit_code = int(docker("wait", target.name, timeout=target.run.stop_timeout + 10))
    except subprocess.TimeoutExpired:
        exit_code = -1
    seconds = time.monotonic() - signalled
    state = inspect("container", target.name)["State"]
    require(status_line.startswith("HTTP/1.1 201"), f"in-flight POST got {status_line!r}")
    require(exit_code != -1, f"still running {target.run.stop_timeout + 10} s after SIGTERM")
    require(not state["OOMKilled"], "OOM-killed")
    # 0 as PID 1; 143 (128 + SIGTERM) under the init process, which reports how its child ended.
    require(exit_code in (0, 143), f"exit status {exit_code}")
    require(seconds < target.run.stop_timeout, f"exited after {seconds:.1f} s; stopTimeout {target.run.stop_timeout}")
    detail.append(
        f"in-flight POST {status_line.split(' ', 1)[1]}, new connections {'refused' if refused else 'still accepted'} "
        f"after SIGTERM, exit {exit_code} after {seconds:.1f} s (stopTimeout {target.run.stop_timeout} s)"
    )


def check_no_build_tools(image: str, detail: list[str]) -> None:
    script = "for t in " + " ".join(COMPILERS_AND_BUILD_TOOLS) + '; do command -v "$t" || true; done'
    found = docker("run", "--rm", "--entrypoint", "/bin/sh", image, "-c", script).split()
    require(not found, f"in the runtime image: {found}")
    detail.append("none of " + " ".join(COMPILERS_AND_BUILD_TOOLS))


# The AWS calls the app makes on ECS, without AWS: static credentials, nothing sent (signing is local,
# and building the client loads the model the Dockerfile keeps).
AWS_CLIENTS_SCRIPT = """
import botocore.session
from catalog.aws_auth import AwsAuth
session = botocore.session.get_session()
session.set_credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
auth = AwsAuth("eu-west-1", session)
rds = auth.rds_token("db.example.internal", 5432, "catalog_app")
cache = auth.elasticache_token("catalog-cache", "catalog-app")
assert "Action=connect" in rds and "DBUser=catalog_app" in rds and "X-Amz-Signature=" in rds, rds
assert "User=catalog-app" in cache and "X-Amz-Signature=" in cache, cache
client = session.create_client("secretsmanager", region_name="eu-west-1")
print(client.meta.service_model.service_name, len(rds), len(cache))
"""


def check_aws_clients(image: str, detail: list[str]) -> None:
    out = docker("run", "--rm", "--entrypoint", "python", image, "-c", AWS_CLIENTS_SCRIPT).strip()
    detail.append(f"RDS and ElastiCache IAM tokens signed, Secrets Manager client built ({out})")


# --------------------------------------------------------------------------------------------------
# Image-level measurements
# --------------------------------------------------------------------------------------------------
def _layers(image: str) -> list[tuple[str, int]]:
    """(diff id, size in bytes) per layer, bottom first."""
    layers: list[str] = inspect("image", image)["RootFS"]["Layers"]
    history = json.loads(
        "[" + ",".join(docker("history", "--no-trunc", "--format", "{{json .}}", image).splitlines()) + "]"
    )
    sizes = [int(h["Size"]) if h["Size"].isdigit() else _bytes(h["Size"]) for h in reversed(history)]
    nonzero = [s for s in sizes if s > 0]
    if len(nonzero) != len(layers):  # an empty layer is possible; sizes are then unknown per layer
        return [(layer, -1) for layer in layers]
    return list(zip(layers, nonzero, strict=True))


def _bytes(human: str) -> int:
    units = {"B": 1, "kB": 1000, "KB": 1000, "MB": 1000**2, "GB": 1000**3}
    for unit in sorted(units, key=len, reverse=True):
        if human.endswith(unit):
            return int(float(human[: -len(unit)]) * units[unit])
    return int(human)


def check_code_only_rebuild(image: str, base: bases.Bases, detail: list[str]) -> None:
    """Rebuild a copy of the context with one source file changed: time, and what it ships."""
    with tempfile.TemporaryDirectory() as tmp:
        context = Path(tmp, "app")
        shutil.copytree(CONTEXT, context, ignore=shutil.ignore_patterns(".venv", "__pycache__", "*.pyc"))
        module = context / "src" / "catalog" / "__init__.py"
        module.write_text(module.read_text() + f"\n# code-only change {secrets.token_hex(4)}\n")
        tag = "catalog-service:code-change"
        seconds = build_app(tag, context=context, base=base, quiet=True)
    try:
        before = dict(_layers(image))
        shipped = [(layer, size) for layer, size in _layers(tag) if layer not in before]
    finally:
        run(["docker", "rmi", tag], check=False)
    sizes = [size for _, size in shipped]
    require(len(shipped) == 1, f"{len(shipped)} new layers: {sizes}")
    require(0 <= sizes[0] < 1_000_000, f"the new layer is {sizes[0]} bytes")
    detail.append(f"rebuilt in {seconds:.1f} s; ships 1 layer of {sizes[0] / 1000:.0f} kB (of {len(before)} layers)")


# --------------------------------------------------------------------------------------------------
# Broken variants
# --------------------------------------------------------------------------------------------------
def root_image(image: str) -> str:
    """The image with its USER taken away (as if the Dockerfile had none)."""
    tag = "catalog-service:broken-no-user"
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "Dockerfile").write_text(f"FROM {image}\nUSER root\n")
        build(Path(tmp), tag=tag, quiet=True)
    return tag


def without_user(task: Mapping[str, Any]) -> dict[str, Any]:
    broken = copy.deepcopy(dict(task))
    for container in broken["containerDefinitions"]:
        container.pop("user", None)
    return broken


def with_health_check(task: Mapping[str, Any], command: list[str]) -> dict[str, Any]:
    broken = copy.deepcopy(dict(task))
    for container in broken["containerDefinitions"]:
        container["healthCheck"]["command"] = command
    return broken


def expect_caught(report: Report, name: str, check: str, body: Any) -> None:
    """Run a check on a broken variant through a private report: it must fail."""
    with report.check(name) as detail:
        probe = Report(title="probe", quiet=True)
        with probe.check(check) as inner:
            body(inner)
        require(probe.failed == [check], f"the checker did not catch it: {check!r} passed")
        detail.append(f"{check!r} failed, as it must")


# --------------------------------------------------------------------------------------------------
# The suite
# --------------------------------------------------------------------------------------------------
def suite(report: Report, broken: str | None) -> None:
    base = bases.app_bases()
    with report.check("image builds with BuildKit from app/Dockerfile") as detail:
        seconds = build_app(LOCAL_IMAGE, base=base, quiet=True)
        kind = f"stand-ins {', '.join(base.standins)}" if base.standins else "the Dockerfile's own bases"
        detail.append(f"{LOCAL_IMAGE}, {image_size(LOCAL_IMAGE) / 1e6:.0f} MB, {seconds:.1f} s, on {kind}")
    if report.failed:
        return
    report.run("runtime stage has no compilers or build tools", lambda d: check_no_build_tools(LOCAL_IMAGE, d))
    scan.report_scan(report)
    report.run(
        "the AWS calls the app makes sign and build in the image (IAM tokens, Secrets Manager)",
        lambda d: check_aws_clients(LOCAL_IMAGE, d),
    )

    task = rendered_task_definition()
    image = LOCAL_IMAGE
    if broken == "no-user":
        image, task = root_image(LOCAL_IMAGE), without_user(task)
    elif broken == "health-check":
        task = with_health_check(task, CURL_HEALTH_CHECK)

    with local.scratch_database("image_test") as database, local.scratch_prefix("imagetest") as prefix:
        target = start(task, image, database, prefix, "main")
        try:
            report.note("ECS-equivalent: " + target.run.shell().replace(database, "<db>").replace(prefix, "<prefix>"))
            for deviation in target.run.deviations:
                report.note(f"differs from ECS: {deviation.setting}: {deviation.reason}")
            with report.check("container starts with the task definition's settings and becomes ready") as detail:
                seconds = wait_until_ready(target)
                detail.append(f"/readyz 200 after {seconds:.1f} s (migrations ran at start)")
            if report.failed and report.failed[-1].startswith("container starts"):
                return
            report.run("/healthz answers 200", lambda d: check_healthz(target, d))
            report.run("/readyz answers 200", lambda d: check_readyz(target, d))
            # Categories come from the image's own seed command (on ECS: a one-off task, command override).
            seed = run(["docker", "exec", target.name, "catalog", "seed", "--products", "3"], check=False)
            if seed.returncode != 0:
                report.note(f"seed failed: {seed.stderr.strip()[-300:]}")
            report.run(
                "a product written and read back through the cache", lambda d: check_write_read_through_cache(target, d)
            )
            report.run(
                "the task definition's health check passes inside the container",
                lambda d: check_task_health_check(target, d),
            )
            if broken is None:
                curl = Target(
                    run=container_run(
                        with_health_check(task, CURL_HEALTH_CHECK),
                        image=image,
                        name=target.name,
                        values=local_values(database),
                        extra_env={"HOST": "127.0.0.1", "CACHE_KEY_PREFIX": prefix},
                    ),
                    database=database,
                    prefix=prefix,
                )
                expect_caught(
                    report,
                    "broken variant caught: a task health check that cannot run in the image (curl)",
                    "the task definition's health check passes inside the container",
                    lambda d: check_task_health_check(curl, d),
                )
            report.run("the Dockerfile HEALTHCHECK becomes healthy", lambda d: check_dockerfile_healthcheck(target, d))
            report.run("it runs as a non-root uid", lambda d: check_non_root(target, d))
            report.run(
                "nothing written outside the mounted volumes (docker diff)",
                lambda d: check_no_writes_outside_volumes(target, d),
            )
            report.run(
                "SIGTERM with a request in flight: it finishes, exit well inside stopTimeout",
                lambda d: check_sigterm_in_flight(target, d),
            )
        finally:
            remove(target)

        if broken is None:
            rooted = start(without_user(task), root_image(LOCAL_IMAGE), database, prefix, "no-user")
            try:
                wait_for_process(rooted)
                expect_caught(
                    report,
                    "broken variant caught: an image without USER under a task without user",
                    "it runs as a non-root uid",
                    lambda d: check_non_root(rooted, d),
                )
            finally:
                remove(rooted)
                run(["docker", "rmi", "catalog-service:broken-no-user"], check=False)

    report.run(
        "a code-only change rebuilds fast and ships one small layer",
        lambda d: check_code_only_rebuild(LOCAL_IMAGE, base, d),
    )


def wait_for_process(target: Target) -> None:
    for _ in range(40):
        if inspect("container", target.name)["State"]["Running"]:
            try:
                if docker("top", target.name).count("\n") >= 1:
                    return
            except DockerError:
                pass
        time.sleep(0.25)
    raise RuntimeError(f"{target.name} did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make image-test", description=__doc__.split("\n")[0])
    parser.add_argument("--break", dest="broken", choices=BROKEN_VARIANTS, help="run the suite on a broken variant")
    args = parser.parse_args(argv)
    report = Report(title="image test" + (f" (broken variant: {args.broken})" if args.broken else ""))
    with engine():
        suite(report, args.broken)
    return report.close()


if __name__ == "__main__":
    sys.exit(main())
