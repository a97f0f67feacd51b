"""The docker CLI as the tools use it: one client for builds (BuildKit), plain ``docker`` for the rest."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
"""The repository root."""
ENGINE = ROOT / "tools" / "docker-engine"


class DockerError(RuntimeError):
    """A docker command failed; the message carries the command and its stderr."""


def run(
    args: Sequence[str],
    *,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    stream: bool = False,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command; ``stream`` passes its output through (builds), otherwise it is captured."""
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(
        list(args),
        env=full_env,
        text=True,
        stdout=None if stream else subprocess.PIPE,
        stderr=None if stream else subprocess.PIPE,
        check=False,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        detail = "" if stream else (result.stderr or result.stdout).strip()[-2000:]
        raise DockerError(f"{shlex.join(args)} exited {result.returncode}" + (f":\n{detail}" if detail else ""))
    return result


def docker(*args: str, check: bool = True, timeout: float | None = None) -> str:
    """``docker <args>``, its stdout stripped."""
    return run(["docker", *args], check=check, timeout=timeout).stdout.strip()


@functools.cache
def build_command() -> tuple[list[str], dict[str, str]]:
    """The command that builds with BuildKit here, and the environment it needs.

    ``tools/docker-engine client`` picks ``docker buildx`` where the plugin exists, else a client
    with BuildKit built in (Debian's 20.10) used with ``DOCKER_BUILDKIT=1``.
    """
    found = run([str(ENGINE), "client"]).stdout.split()
    if found[-1] == "buildx":
        return [*found, "build", "--load"], {}
    return [*found, "build"], {"DOCKER_BUILDKIT": "1"}


SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def ca_bundle() -> Path | None:
    """The CA bundle this machine trusts, for networks that intercept TLS: ``SSL_CERT_FILE``, else
    Debian's system bundle (which holds a locally added CA too), else none."""
    value = os.environ.get("SSL_CERT_FILE", "")
    for path in (Path(value) if value else None, SYSTEM_CA_BUNDLE):
        if path is not None and path.is_file():
            return path
    return None


def build(
    context: Path,
    *,
    tag: str,
    dockerfile: Path | None = None,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    labels: Mapping[str, str] | None = None,
    quiet: bool = False,
) -> None:
    """Build an image with BuildKit; the CA bundle goes in as the ``ca-bundle`` build secret."""
    command, env = build_command()
    args = [*command, "--tag", tag, *(["--quiet"] if quiet else ["--progress", "plain"])]
    if dockerfile is not None:
        args += ["--file", str(dockerfile)]
    for name, value in sorted((build_args or {}).items()):
        args += ["--build-arg", f"{name}={value}"]
    if target is not None:
        args += ["--target", target]
    for name, value in sorted((labels or {}).items()):
        args += ["--label", f"{name}={value}"]
    bundle = ca_bundle()
    if bundle is not None:
        args += ["--secret", f"id=ca-bundle,src={bundle}"]
    args.append(str(context))
    if quiet:
        run(args, env=env)
    else:
        print("+", shlex.join(args), file=sys.stderr, flush=True)
        run(args, env=env, stream=True)


def image_exists(name: str) -> bool:
    return run(["docker", "image", "inspect", name], check=False).returncode == 0


def inspect(kind: str, name: str) -> dict[str, Any]:
    """``docker <kind> inspect <name>`` as a dict (``kind``: image, container, volume, network)."""
    data: list[dict[str, Any]] = json.loads(docker(kind, "inspect", name))
    return data[0]


def pullable(image: str, timeout: float = 60) -> bool:
    """Whether ``image`` is here or can be pulled (no registry answers on some networks)."""
    if image_exists(image):
        return True
    try:
        return run(["docker", "pull", "--quiet", image], check=False, timeout=timeout).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def engine_answers() -> bool:
    return run(["docker", "info"], check=False).returncode == 0


@contextlib.contextmanager
def engine() -> Iterator[None]:
    """A Docker engine for the duration: started (and afterwards stopped) only when none answers."""
    started = not engine_answers()
    if started:
        run([str(ENGINE), "start"], stream=True)
    try:
        yield
    finally:
        if started:
            run([str(ENGINE), "stop"], stream=True)
