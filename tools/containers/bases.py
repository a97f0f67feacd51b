"""Base images for the app image and the compose stack: the real ones where a registry answers,
stand-ins built from Debian packages where none does.

``python -m tools.containers.bases`` prints the build args ``make image`` passes to app/Dockerfile.

The stand-ins (docs/containers.md lists how they differ from the real bases):

- ``catalog-standin/debian:bookworm``: ``mmdebstrap --variant=minbase`` of Debian 12 with
  ca-certificates, merged /usr (without the hook mmdebstrap pulls in perl), trimmed as
  debian:bookworm-slim is (no docs, man pages, translations or apt caches), imported with the PATH
  the official debian image sets.
- ``catalog-standin/python:3.11-bookworm``: that plus Debian's python3 (3.11, /usr/bin/python3).
- ``catalog-standin/uv:<version>``: ``FROM scratch`` with /uv and /uvx from uv's PyPI wheel (the
  musllinux one: static binaries, as in uv's own image), its sha256 checked against PyPI's index.
- ``catalog-standin/redis:7-bookworm`` and ``catalog-standin/postgres:15-bookworm``: Debian's
  redis-server and postgresql, for compose.yaml.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tools.containers.docker import ROOT, build, docker, image_exists, pullable, run

DOCKERFILE: Final = ROOT / "app" / "Dockerfile"
STANDINS: Final = Path(__file__).resolve().parent / "standins"
DEBIAN: Final = "catalog-standin/debian:bookworm"
PYTHON: Final = "catalog-standin/python:3.11-bookworm"
REDIS: Final = "catalog-standin/redis:7-bookworm"
POSTGRES: Final = "catalog-standin/postgres:15-bookworm"
# Bookworm with its updates and security suites, as the official debian image has them.
_MIRRORS: Final = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)
# As debian:bookworm-slim (what python:*-slim-bookworm is built on) via debuerreotype: no docs,
# man pages or translations, and apt keeps no package caches in the image.
_SLIM_DPKG: Final = (
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/groff/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/lintian/*",
)
_CLEAN_APT: Final = (
    'Dir::Cache::pkgcache "";',
    'Dir::Cache::srcpkgcache "";',
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };',
    'Acquire::Languages "none";',
)
_PATH: Final = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_SOURCE_LABEL: Final = "catalog.standin.source"
_PYPI_SIMPLE: Final = "https://pypi.org/simple/uv/"
_WHEEL_ARCH: Final = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


def dockerfile_default(arg: str, dockerfile: Path = DOCKERFILE) -> str:
    """The default of ``ARG <arg>=...`` in the Dockerfile: the one home of the base image pins."""
    match = re.search(rf"^ARG {re.escape(arg)}=(\S+)$", dockerfile.read_text(encoding="utf-8"), flags=re.MULTILINE)
    if match is None:
        raise LookupError(f"{dockerfile} has no `ARG {arg}=<default>`")
    return match.group(1)


def uv_version(dockerfile: Path = DOCKERFILE) -> str:
    """The uv version the Dockerfile pins (``ghcr.io/astral-sh/uv:<version>``)."""
    image = dockerfile_default("UV_IMAGE", dockerfile)
    return image.rsplit(":", 1)[1]


def _log(message: str) -> None:
    print(f"bases: {message}", file=sys.stderr, flush=True)


def debian() -> str:
    """The minbase Debian 12 image everything else is built on (about 40 s the first time)."""
    if image_exists(DEBIAN):
        return DEBIAN
    _log(f"building {DEBIAN} with mmdebstrap (minbase bookworm; about a minute)")
    if shutil.which("mmdebstrap") is None:
        run([str(ROOT / "tools" / "apt-install"), "mmdebstrap"], stream=True)
    hooks = Path("/usr/share/mmdebstrap/hooks/merged-usr")
    command = [
        "mmdebstrap",
        "--quiet",
        "--variant=minbase",
        "--include=ca-certificates",
        f"--hook-dir={hooks}",
        *(f"--dpkgopt={option}" for option in _SLIM_DPKG),
        *(f"--aptopt={option}" for option in _CLEAN_APT),
        "bookworm",
        "-",
        *_MIRRORS,
    ]
    with tempfile.TemporaryFile(mode="w+") as log:
        # The root filesystem streams as a tar straight into `docker import`; its chatter goes to a
        # file that is shown only when something fails.
        bootstrap = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log)
        importer = subprocess.run(
            ["docker", "import", "--change", f"ENV PATH={_PATH}", "--change", 'CMD ["bash"]', "-", DEBIAN],
            stdin=bootstrap.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
        if bootstrap.stdout is not None:
            bootstrap.stdout.close()
        if bootstrap.wait() != 0 or importer.returncode != 0:
            log.seek(0)
            raise RuntimeError(
                f"building {DEBIAN} failed: mmdebstrap exited {bootstrap.returncode}, docker import "
                f"{importer.returncode} {importer.stderr.strip()}\n{log.read()[-3000:]}"
            )
    return DEBIAN


def _source_digest() -> str:
    """A digest of the stand-ins' Dockerfiles and scripts: a changed one is rebuilt, not reused."""
    digest = hashlib.sha256()
    for path in sorted(STANDINS.iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _current(name: str) -> bool:
    if not image_exists(name):
        return False
    labels = json.loads(docker("image", "inspect", "--format", "{{json .Config.Labels}}", name) or "null") or {}
    return bool(labels.get(_SOURCE_LABEL) == _source_digest())


def _standin(name: str, dockerfile: str) -> str:
    if not _current(name):
        _log(f"building {name} from Debian packages")
        build(
            STANDINS,
            tag=name,
            dockerfile=STANDINS / dockerfile,
            build_args={"BASE": debian()},
            labels={_SOURCE_LABEL: _source_digest()},
            quiet=True,
        )
    return name


def python() -> str:
    return _standin(PYTHON, "python.Dockerfile")


def redis() -> str:
    return _standin(REDIS, "redis.Dockerfile")


def postgres() -> str:
    return _standin(POSTGRES, "postgres.Dockerfile")


def _uv_wheel(version: str) -> tuple[str, str]:
    """URL and sha256 of uv's musllinux wheel for this machine, from PyPI's JSON simple index."""
    arch = _WHEEL_ARCH.get(platform.machine())
    if arch is None:
        raise RuntimeError(f"no uv stand-in for machine {platform.machine()!r}; allowed: {', '.join(_WHEEL_ARCH)}")
    request = urllib.request.Request(_PYPI_SIMPLE, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - a fixed https URL
        index = json.load(response)
    wanted = re.compile(rf"^uv-{re.escape(version)}-py3-none-(?:.*\.)?musllinux_1_1_{arch}\.whl$")
    for entry in index["files"]:
        if wanted.match(entry["filename"]):
            return entry["url"], entry["hashes"]["sha256"]
    raise RuntimeError(f"PyPI lists no musllinux {arch} wheel of uv {version}")


def uv(version: str | None = None) -> str:
    """``FROM scratch`` with uv's binaries from its PyPI wheel, the hash checked."""
    version = version or uv_version()
    name = f"catalog-standin/uv:{version}"
    if image_exists(name):
        return name
    url, sha256 = _uv_wheel(version)
    _log(f"building {name} from {url.rsplit('/', 1)[1]}")
    with urllib.request.urlopen(url, timeout=300) as response:  # noqa: S310 - URL from PyPI's index
        wheel = response.read()
    if hashlib.sha256(wheel).hexdigest() != sha256:
        raise RuntimeError(f"uv {version} wheel: sha256 differs from PyPI's index ({sha256})")
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        for binary in ("uv", "uvx"):
            member = f"uv-{version}.data/scripts/{binary}"
            target = Path(tmp, binary)
            target.write_bytes(archive.read(member))
            target.chmod(0o755)
        shutil.copy(STANDINS / "uv.Dockerfile", Path(tmp, "Dockerfile"))
        build(Path(tmp), tag=name, quiet=True)
    return name


@dataclass(frozen=True)
class Bases:
    """The two bases app/Dockerfile takes as build args, and whether they are stand-ins."""

    python_image: str
    uv_image: str

    @property
    def build_args(self) -> dict[str, str]:
        return {"PYTHON_IMAGE": self.python_image, "UV_IMAGE": self.uv_image}

    @property
    def standins(self) -> list[str]:
        return [image for image in (self.python_image, self.uv_image) if image.startswith("catalog-standin/")]


def app_bases() -> Bases:
    """The Dockerfile's own bases when they can be pulled, else the stand-ins (each decided alone)."""
    real_python = dockerfile_default("PYTHON_IMAGE")
    real_uv = dockerfile_default("UV_IMAGE")
    python_image = real_python if pullable(real_python) else python()
    uv_image = real_uv if pullable(real_uv) else uv(real_uv.rsplit(":", 1)[1])
    return Bases(python_image=python_image, uv_image=uv_image)


def compose_images() -> dict[str, str]:
    """``REDIS_IMAGE`` / ``POSTGRES_IMAGE`` for compose.yaml: its defaults when pullable, else stand-ins."""
    from tools.containers.compose import compose_default

    images = {}
    for variable, standin in (("REDIS_IMAGE", redis), ("POSTGRES_IMAGE", postgres)):
        real = compose_default(variable)
        images[variable] = real if pullable(real) else standin()
    return images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.containers.bases", description=__doc__.split("\n")[0])
    parser.add_argument("--compose", action="store_true", help="also the Redis and PostgreSQL images")
    args = parser.parse_args(argv)
    bases = app_bases()
    values = bases.build_args | (compose_images() if args.compose else {})
    for name, value in values.items():
        print(f"{name}={value}")
    sizes = {image: docker("image", "inspect", "--format", "{{.Size}}", image) for image in values.values()}
    for image, size in sizes.items():
        _log(f"{image}: {int(size) / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
