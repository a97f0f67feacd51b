"""The policy pack installs and starts the way the Pulumi CLI installs and starts it, with exactly its own dependencies.

With ``toolchain: uv`` (PulumiPolicy.yaml) the CLI's language host runs, before every start of the
pack, ``uv sync --inexact`` in the pack directory with ``UV_PROJECT_ENVIRONMENT`` set to the pack's
virtualenv, then ``<venv>/bin/python -u -m pulumi.policy <engine> .`` there (pulumi/pulumi
1b5949891b3c: sdk/python/toolchain/uv.go ``Command`` and ``uvCommand``,
sdk/python/cmd/pulumi-language-python/main.go ``RunPlugin``). This test runs the same two commands,
with the virtualenv in a temporary directory, and CI's ``UV_FROZEN=1``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from offline.policy.pack import PolicyPackProcess
from policies.guardrails.guardrails import all_policies
from tests.policies.support import PACK_VERSION

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "policies" / "guardrails"


def _uv() -> list[str]:
    """uv as `make test` runs it: the binary that started this run (uv sets UV), on PATH, or `python3 -m uv`."""
    if os.environ.get("UV"):
        return [os.environ["UV"]]
    if found := shutil.which("uv"):
        return [found]
    python = shutil.which("python3")
    if python and subprocess.run([python, "-m", "uv", "--version"], capture_output=True, check=False).returncode == 0:
        return [python, "-m", "uv"]
    pytest.fail("uv is not available; the Pulumi CLI's uv toolchain needs it on PATH too")


def test_the_clis_sync_installs_the_packs_lock_and_nothing_else(tmp_path: Path) -> None:
    venv = tmp_path / "pack-venv"
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(venv),  # what uv.go's uvCommand sets
        "UV_FROZEN": "1",  # CI's setting: exactly the lock
        "UV_PYTHON": sys.executable,
        "UV_PYTHON_DOWNLOADS": "never",
    }
    env.pop("VIRTUAL_ENV", None)
    sync = subprocess.run(
        [*_uv(), "sync", "--inexact"], cwd=PACK_DIR, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert sync.returncode == 0, sync.stderr

    installed = {
        p.name.split("-")[0].lower().replace("_", "-")
        for p in (venv / "lib").glob("python3.*/site-packages/*.dist-info")
    }
    lock = tomllib.loads((PACK_DIR / "uv.lock").read_text(encoding="utf-8"))
    locked = {p["name"] for p in lock["package"] if "virtual" not in p.get("source", {})}
    assert installed == locked, "the sync installed exactly the pack's lock"
    assert "pulumi-aws" not in installed, "not the root project (the program, the app, the dev tools)"

    with PolicyPackProcess(PACK_DIR, python=str(venv / "bin" / "python")) as pack:
        name, version, policies = pack.info()
    assert (name, version) == ("container-platform-guardrails", PACK_VERSION)
    assert sorted(policies) == sorted(p.name for p in all_policies())
