"""Known vulnerabilities in what goes into the image: the app's locked Python dependencies.

ECR scans an image after the push; this runs before it, on the same packages: ``app/uv.lock``
without the dev group, exported with hashes and audited by pip-audit (PyPA) against PyPI's
vulnerability data (``-s pypi``; OSV with ``CATALOG_AUDIT_SERVICE=osv``). A finding that has a
fixed version fails; findings without one are listed. When the vulnerability service cannot be
reached (pip-audit then marks every package "skipped"), the check is reported as skipped, never as
passed: pip-audit's own summary would say "No known vulnerabilities found".

    python -m tools.containers.scan      # prints the findings, exit 1 on a fixable one
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from tools.containers.docker import ROOT
from tools.containers.report import Report, require

APP: Final = ROOT / "app"


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    id: str
    fix_versions: tuple[str, ...]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Audit:
    """pip-audit's JSON report, sorted into what fails the build and what is only listed."""

    audited: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    findings: tuple[Finding, ...] = field(default=())

    @property
    def fixable(self) -> list[Finding]:
        return [f for f in self.findings if f.fix_versions]

    @property
    def unfixed(self) -> list[Finding]:
        return [f for f in self.findings if not f.fix_versions]


def parse(report: dict[str, Any]) -> Audit:
    """pip-audit ``--format json``: ``{"dependencies": [{"name", "version", "vulns": [...]}
    | {"name", "skip_reason"}], "fixes": [...]}``."""
    audited: list[str] = []
    skipped: list[tuple[str, str]] = []
    findings: list[Finding] = []
    for dependency in report.get("dependencies", []):
        if "skip_reason" in dependency:
            skipped.append((dependency["name"], dependency["skip_reason"]))
            continue
        audited.append(f"{dependency['name']}=={dependency['version']}")
        for vuln in dependency.get("vulns", []):
            findings.append(
                Finding(
                    package=dependency["name"],
                    version=dependency["version"],
                    id=vuln["id"],
                    fix_versions=tuple(vuln.get("fix_versions", [])),
                    aliases=tuple(vuln.get("aliases", [])),
                )
            )
    return Audit(audited=tuple(audited), skipped=tuple(skipped), findings=tuple(findings))


def _uv() -> list[str]:
    configured = os.environ.get("UV")
    if configured:
        return configured.split()
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _pip_audit() -> str:
    beside = Path(sys.executable).parent / "pip-audit"
    found = str(beside) if beside.exists() else shutil.which("pip-audit")
    if found is None:
        raise FileNotFoundError("pip-audit is not installed (it is in the dev group: make setup)")
    return found


def audit(service: str | None = None) -> Audit:
    """Export app/uv.lock (runtime dependencies, with hashes) and audit it."""
    service = service or os.environ.get("CATALOG_AUDIT_SERVICE", "pypi")
    with tempfile.TemporaryDirectory() as tmp:
        requirements = Path(tmp, "requirements.txt")
        subprocess.run(
            [*_uv(), "export", "--frozen", "--no-dev", "--no-emit-project", "--format", "requirements-txt",
             "--output-file", str(requirements)],
            cwd=APP, check=True, capture_output=True, text=True,
        )  # fmt: skip
        output = Path(tmp, "audit.json")
        result = subprocess.run(
            [_pip_audit(), "--requirement", str(requirements), "--require-hashes", "--disable-pip",
             "--vulnerability-service", service, "--format", "json", "--output", str(output),
             "--progress-spinner", "off"],
            capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        if not output.exists():
            raise RuntimeError(f"pip-audit exited {result.returncode} without a report: {result.stderr.strip()[-500:]}")
        return parse(json.loads(output.read_text()))


def report_scan(report: Report) -> None:
    """One check line: fails on a fixable finding, skipped when nothing could be audited."""
    name = "locked app dependencies: no known vulnerability with a fixed version (pip-audit)"
    try:
        result = audit()
    except Exception as error:  # the scanner itself could not run: say so, do not pass
        report.skip(name, f"pip-audit could not run: {error}")
        return
    if not result.audited:
        reasons = "; ".join(sorted({reason.split(":")[0] for _, reason in result.skipped}))
        report.skip(name, f"no vulnerability data reachable: pip-audit skipped all {len(result.skipped)} ({reasons})")
        return
    for finding in result.unfixed:
        report.note(f"known, no fix yet: {finding.package} {finding.version} {finding.id} {' '.join(finding.aliases)}")
    for package, reason in result.skipped:
        report.note(f"not audited: {package}: {reason}")
    with report.check(name) as detail:
        fixable = [f"{f.package} {f.version} {f.id} (fixed in {', '.join(f.fix_versions)})" for f in result.fixable]
        require(not fixable, "; ".join(fixable))
        detail.append(f"{len(result.audited)} packages audited, {len(result.unfixed)} known without a fix")


def main() -> int:
    report = Report(title="dependency scan")
    report_scan(report)
    return report.close()


if __name__ == "__main__":
    sys.exit(main())
