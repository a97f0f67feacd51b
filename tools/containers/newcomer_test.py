"""``make newcomer-test``: the README's two commands from a clean clone on a stock Debian 12.

A container of Debian 12 (the official ``debian:bookworm`` image where Docker Hub answers, else the
mmdebstrap stand-in) gets ``apt-get install --no-install-recommends python3 python3-venv make git``
and nothing else: Debian's Python 3.11, no pip in it, no uv. The committed HEAD is cloned inside
it (from a git bundle), then ``make plan``, ``make plan`` again (no reinstall, no recompiling) and
``make test`` run there, each timed. The container uses the host's network for PyPI, Debian's
mirror and the machine's PostgreSQL and Redis (the suite needs both); on networks that intercept
TLS the host's CA bundle is mounted and named by SSL_CERT_FILE, as a developer there would set it.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

from tools.containers import bases
from tools.containers.docker import ROOT, build, ca_bundle, docker, engine, image_exists, pullable, run
from tools.containers.report import Report, require

PACKAGES: Final = ("python3", "python3-venv", "make", "git")
IMAGE: Final = "catalog-newcomer:bookworm"
OFFICIAL: Final = "debian:bookworm"
_DOCKERFILE: Final = """\
ARG BASE
FROM ${{BASE}}
RUN apt-get update \\
    && apt-get install -y --no-install-recommends {packages} \\
    && rm -rf /var/lib/apt/lists/*
"""


def newcomer_image() -> tuple[str, str]:
    """(image, what it is built on): Debian 12 with only the four packages."""
    base = OFFICIAL if pullable(OFFICIAL) else bases.debian()
    if not image_exists(IMAGE):
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "Dockerfile").write_text(_DOCKERFILE.format(packages=" ".join(PACKAGES)))
            build(Path(tmp), tag=IMAGE, build_args={"BASE": base}, quiet=True)
    return IMAGE, base


def _exec(container: str, script: str, timeout: float) -> tuple[int, str, float]:
    started = time.monotonic()
    result = run(["docker", "exec", container, "bash", "-lc", script], check=False, timeout=timeout)
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def _tail(output: str, lines: int = 12) -> str:
    return "\n".join(output.rstrip().splitlines()[-lines:])


def main() -> int:
    report = Report(title="newcomer test")
    with engine(), tempfile.TemporaryDirectory() as tmp:
        image, base = newcomer_image()
        commit = run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]).stdout.strip()
        dirty = run(["git", "-C", str(ROOT), "status", "--porcelain"]).stdout.strip()
        bundle = Path(tmp, "repo.bundle")
        run(["git", "-C", str(ROOT), "bundle", "create", str(bundle), "HEAD"])
        report.note(f"Debian 12 on {base} with only: {' '.join(PACKAGES)}; clean clone of commit {commit}")
        if dirty:
            report.note("uncommitted changes in this checkout are not part of the clone")
        name = f"catalog-newcomer-{secrets.token_hex(3)}"
        args = ["--detach", "--name", name, "--network", "host", "--volume", f"{bundle}:/src/repo.bundle:ro"]
        bundle_ca = ca_bundle()
        if bundle_ca is not None:
            ca = "/etc/ssl/certs/host-ca-bundle.crt"
            args += ["--volume", f"{bundle_ca}:{ca}:ro", "--env", f"SSL_CERT_FILE={ca}", "--env", f"PIP_CERT={ca}"]
        docker("run", *args, image, "sleep", "infinity")
        try:
            with report.check("stock Debian 12: Debian's python3, no pip, no uv") as detail:
                code, out, _ = _exec(
                    name,
                    "python3 --version; python3 -m pip --version 2>&1 | tail -1; command -v uv || echo 'no uv'",
                    60,
                )
                require(code == 0 and "no uv" in out and "No module named pip" in out, out)
                detail.append(" | ".join(out.split("\n")[:3]))
            code, out, _ = _exec(name, "git clone --quiet /src/repo.bundle /work/project", 120)
            require(code == 0, f"git clone failed: {out}")
            with report.check("make plan in the clean clone (first run: bootstraps uv, installs)") as detail:
                code, out, seconds = _exec(name, "cd /work/project && make plan", 1800)
                require(code == 0, f"exit {code}:\n{_tail(out)}")
                progress = [line for line in out.splitlines() if line.startswith("make: ")]
                detail.append(f"{seconds:.0f} s; " + " / ".join(progress))
            with report.check("make plan again (nothing reinstalled or recompiled)") as detail:
                code, out, seconds = _exec(name, "cd /work/project && make plan", 600)
                require(code == 0, f"exit {code}:\n{_tail(out)}")
                require(not any(line.startswith("make: ") for line in out.splitlines()), "it installed again")
                detail.append(f"{seconds:.1f} s")
            with report.check("make test in the clean clone") as detail:
                code, out, seconds = _exec(name, "cd /work/project && make test", 3600)
                require(code == 0, f"exit {code}:\n{_tail(out, 40)}")
                summary = [line.strip("= ") for line in out.splitlines() if " passed" in line and " in " in line]
                detail.append(f"{seconds:.0f} s; pytest: {summary[-1] if summary else '?'}")
            with report.check("the system Python is untouched (PEP 668)") as detail:
                code, out, _ = _exec(
                    name,
                    "python3 -m pip --version 2>&1 | tail -1; ls /work/project/.tools/uv/bin/uv; "
                    "ls /usr/local/lib/python3*/dist-packages 2>/dev/null | wc -l",
                    60,
                )
                require(code == 0 and "No module named pip" in out, out)
                lines = out.strip().splitlines()
                require(lines[-1].strip() == "0", f"packages in /usr/local: {lines[-1]}")
                detail.append(f"still no pip; uv at {lines[1]}; nothing in /usr/local/lib/python3*/dist-packages")
        finally:
            run(["docker", "rm", "--force", name], check=False)
    return report.close()


if __name__ == "__main__":
    sys.exit(main())
