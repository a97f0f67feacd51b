"""The container tools' own logic: base pins read from their one home, pip-audit's report sorted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.containers import bases, scan
from tools.containers.compose import compose_default
from tools.containers.report import CheckError, Report, require

# pip-audit --format json, as pip_audit/_format/json.py writes it (a vulnerable, a clean and a
# skipped dependency).
PIP_AUDIT_REPORT = {
    "dependencies": [
        {
            "name": "starlette",
            "version": "0.36.1",
            "vulns": [
                {
                    "id": "GHSA-93gm-qmq6-w238",
                    "fix_versions": ["0.36.2"],
                    "aliases": ["CVE-2024-24762"],
                    "description": "python-multipart ReDoS",
                },
                {"id": "PYSEC-2099-1", "fix_versions": [], "aliases": [], "description": "no fix yet"},
            ],
        },
        {"name": "idna", "version": "3.20", "vulns": []},
        {"name": "annotated-doc", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    ],
    "fixes": [],
}


def test_base_pins_come_from_the_dockerfile() -> None:
    assert bases.dockerfile_default("PYTHON_IMAGE").startswith("python:3.11.")
    assert bases.uv_version() == bases.dockerfile_default("UV_IMAGE").rsplit(":", 1)[1]


def test_a_missing_pin_is_named(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    with pytest.raises(LookupError, match="ARG UV_IMAGE=<default>"):
        bases.dockerfile_default("UV_IMAGE", dockerfile)


def test_compose_image_defaults_come_from_compose_yaml() -> None:
    assert compose_default("REDIS_IMAGE").startswith("redis:7")
    assert compose_default("POSTGRES_IMAGE").startswith("postgres:16")


def test_audit_findings_with_a_fix_fail_and_others_are_listed() -> None:
    audit = scan.parse(PIP_AUDIT_REPORT)
    assert audit.audited == ("starlette==0.36.1", "idna==3.20")
    assert [f.id for f in audit.fixable] == ["GHSA-93gm-qmq6-w238"]
    assert [f.id for f in audit.unfixed] == ["PYSEC-2099-1"]
    assert audit.skipped == (("annotated-doc", "Dependency not found on PyPI and could not be audited"),)


def test_a_report_where_nothing_was_audited_is_not_a_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    skipped_only = {"dependencies": [PIP_AUDIT_REPORT["dependencies"][2]]}
    monkeypatch.setattr(scan, "audit", lambda: scan.parse(skipped_only))
    report = Report(title="t", quiet=True)
    scan.report_scan(report)
    assert report.passed == []
    assert report.failed == []
    assert len(report.skipped) == 1


def test_a_fixable_finding_fails_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "audit", lambda: scan.parse(PIP_AUDIT_REPORT))
    report = Report(title="t", quiet=True)
    scan.report_scan(report)
    assert len(report.failed) == 1


def test_report_counts_and_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    report = Report(title="demo")
    with report.check("holds"):
        require(True, "unused")
    with report.check("does not hold"):
        require(False, "saw 3")
    with report.check("raises"):
        int("boom")
    assert report.close() == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "PASS holds"
    assert out[1] == "FAIL does not hold: saw 3"
    assert out[2] == "FAIL raises: ValueError: invalid literal for int() with base 10: 'boom'"
    assert out[-1] == "1 passed, 2 failed"
    with pytest.raises(CheckError):
        require(False, "x")
