"""The pack runs as its own process, started like the Pulumi CLI starts it, and is always terminated."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from offline.policy.pack import PolicyPackProcess, pack_python
from policies.guardrails.guardrails import all_policies
from tests.policies.support import PACK_VERSION


def test_pack_runs_as_its_own_process_and_is_always_terminated() -> None:
    pack = PolicyPackProcess()
    with pack:
        assert pack.running
        name, version, policies = pack.info()
        assert (name, version) == ("container-platform-guardrails", PACK_VERSION)  # PulumiPolicy.yaml's, as the CLI
        # The process serves exactly the policies the package defines (a policy lost in registration
        # would silently stop biting); docs/policies.md is checked against the same list.
        assert sorted(policies) == sorted(p.name for p in all_policies())
    assert (pack.running, pack.pid) == (False, None)


def test_the_interpreter_is_the_packs_virtualenv_when_it_exists(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    virtualenv: venv\n")
    assert pack_python(tmp_path) == sys.executable  # not created yet: the current interpreter
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    assert pack_python(tmp_path) == str(python.resolve())


def test_a_pack_that_cannot_start_fails_with_its_stderr(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('broken pack')\n")
    with pytest.raises(Exception, match="did not print its port"):
        PolicyPackProcess(tmp_path, startup_timeout=20).start()
