"""``make compose-test``: app/compose.yaml brought up for real, data kept across down + up.

``docker compose up --wait`` of the app, Redis and PostgreSQL (stand-ins built from Debian packages
where Docker Hub cannot be reached) on the file's user-defined network, under a project name of its
own and on a free loopback port. Checks, one line each: the services reach each other by name, the
app is ready, it runs with an init process, a product written before ``down`` is still there after
``up`` (PostgreSQL's named volume) and Redis reloaded its data from its volume, and ``down -v``
removes the volumes.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from typing import Any

from tools.containers import bases
from tools.containers.compose import COMPOSE_FILE, plugin_env
from tools.containers.docker import docker, engine, image_exists, inspect, run
from tools.containers.image import LOCAL_IMAGE, build_app
from tools.containers.image_test import request
from tools.containers.local import free_port
from tools.containers.report import Report, require


class Compose:
    """``docker compose -p <project> -f app/compose.yaml ...`` with the stand-in images."""

    def __init__(self, project: str, env: dict[str, str]) -> None:
        self.project = project
        self.env = {**env, **plugin_env()}

    def __call__(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return run(
            ["docker", "compose", "--project-name", self.project, "--file", str(COMPOSE_FILE), *args],
            env=self.env,
            check=check,
            timeout=timeout,
        )

    def container(self, service: str) -> str:
        return self("ps", "--all", "--quiet", service).stdout.strip()

    def volumes(self) -> list[str]:
        return docker("volume", "ls", "--quiet", "--filter", f"label=com.docker.compose.project={self.project}").split()


def check_up(compose: Compose, detail: list[str]) -> None:
    started = time.monotonic()
    compose("up", "--wait", "--no-build", "--detach")
    states = [json.loads(line) for line in compose("ps", "--format", "json").stdout.splitlines() if line.strip()]
    if len(states) == 1 and isinstance(states[0], list):  # older Compose prints one JSON array
        states = states[0]
    summary = {s["Service"]: s.get("Health") or s["State"] for s in states}
    require(set(summary) == {"app", "redis", "postgres"}, f"services {summary}")
    require(all(v == "healthy" for v in summary.values()), f"not all healthy: {summary}")
    detail.append(f"up --wait in {time.monotonic() - started:.1f} s: {summary}")


def check_names(compose: Compose, port: int, detail: list[str]) -> None:
    app = compose.container("app")
    network = f"{compose.project}_catalog"
    networks = inspect("container", app)["NetworkSettings"]["Networks"]
    require(list(networks) == [network], f"app is on {list(networks)}, not only {network}")
    require(inspect("network", network)["Driver"] == "bridge", f"{network} is not a user-defined bridge")
    resolved = compose(
        "exec", "-T", "app", "python", "-c",
        "import socket; print(socket.gethostbyname('postgres'), socket.gethostbyname('redis'))",
    ).stdout.split()  # fmt: skip
    status, body = request(port, "GET", "/readyz")
    require(status == 200 and body["database"] == "ok" and body["cache"] == "ok", f"/readyz {status} {body}")
    detail.append(f"postgres -> {resolved[0]}, redis -> {resolved[1]} on {network}; /readyz {body}")


def check_init(compose: Compose, detail: list[str]) -> None:
    config = inspect("container", compose.container("app"))["HostConfig"]
    require(config.get("Init") is True, f"HostConfig.Init is {config.get('Init')}")
    require(config.get("ReadonlyRootfs") is True, "root filesystem is writable")
    detail.append("HostConfig.Init true (ECS initProcessEnabled), read-only root filesystem")


def write_data(compose: Compose, port: int) -> dict[str, Any]:
    seeded = compose("--profile", "tools", "run", "--rm", "seed", check=False)
    require(seeded.returncode == 0, f"seed failed: {seeded.stderr.strip()[-300:]}")
    status, categories = request(port, "GET", "/api/categories")
    require(status == 200 and bool(categories), f"categories {status}")
    sku = f"COMPOSE-{secrets.token_hex(3).upper()}"
    body = {"sku": sku, "name": "Kept across down and up", "category_id": categories[0]["id"], "price_cents": 999}
    status, product = request(port, "POST", "/api/products", body)
    require(status == 201, f"POST {status} {product}")
    marker = secrets.token_hex(8)
    compose("exec", "-T", "redis", "redis-cli", "SET", "compose-test:marker", marker)
    return {"product": product, "marker": marker}


def check_persistence(compose: Compose, port: int, written: dict[str, Any], detail: list[str]) -> None:
    compose("down")
    kept = compose.volumes()
    require(len(kept) == 2, f"volumes after down: {kept}")
    check_up(compose, [])
    product = written["product"]
    status, body = request(port, "GET", f"/api/products/{product['id']}")
    require(status == 200 and body["sku"] == product["sku"], f"product after down + up: {status} {body}")
    marker = compose("exec", "-T", "redis", "redis-cli", "GET", "compose-test:marker").stdout.strip()
    require(marker == written["marker"], f"Redis marker after down + up: {marker!r}")
    logs = compose("logs", "--no-color", "redis").stdout
    loaded = [line.split("*", 1)[-1].strip() for line in logs.splitlines() if "loaded" in line.lower()]
    require(bool(loaded), "Redis logged no load of its data on the second start")
    detail.append(f"volumes {', '.join(sorted(kept))} kept; product {product['id']} still there; Redis: {loaded[-1]!r}")


def check_down_v(compose: Compose, detail: list[str]) -> None:
    compose("down", "--volumes")
    left = compose.volumes()
    require(not left, f"volumes left after down -v: {left}")
    detail.append("no volumes of the project left")


def main() -> int:
    report = Report(title="compose test")
    with engine():
        base = bases.app_bases()
        if not image_exists(LOCAL_IMAGE):
            build_app(base=base, quiet=True)
        images = bases.compose_images()
        for variable, image in images.items():
            report.note(f"{variable}={image}")
        port = free_port()
        project = f"catalog-compose-test-{secrets.token_hex(3)}"
        compose = Compose(project, {**images, **base.build_args, "CATALOG_PORT": str(port)})
        try:
            report.run("compose.yaml is valid Compose v2", lambda d: d.append(compose("config", "--quiet").stdout))
            up = report.run("up --wait: app, Redis and PostgreSQL healthy", lambda d: check_up(compose, d))
            if up:
                report.run(
                    "services reach each other by name; the app is ready", lambda d: check_names(compose, port, d)
                )
                report.run("the app container has an init process, like ECS", lambda d: check_init(compose, d))
                with report.check("named volumes keep data across down + up") as detail:
                    check_persistence(compose, port, write_data(compose, port), detail)
            report.run("down -v removes the named volumes", lambda d: check_down_v(compose, d))
        finally:
            compose("down", "--volumes", "--remove-orphans", check=False)
    return report.close()


if __name__ == "__main__":
    sys.exit(main())
