"""The whole program through the pack, per committed stack, the way `pulumi preview --policy-pack` runs it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import pytest

from components.fargate_service import COMPUTED, CONTAINER_SPEC, FARGATE_SERVICE_TYPE
from mockcloud.monitor import CapturedResource
from mockcloud.runner import StackRun
from offline.policy.pack import PolicyPackProcess
from offline.policy.report import PolicyReport, Violation
from tests.policies.support import ALL_MANDATORY, COMPONENT_CONTAINER_POLICIES, findings
from tests.support import STACKS, cached_run, unknown_paths

TASK_DEFINITION: Final = "aws:ecs/taskDefinition:TaskDefinition"
ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"

INHERENTLY_UNKNOWN_AT_PREVIEW: Final[Mapping[tuple[str, str], tuple[str, str]]] = {
    (TASK_DEFINITION, "containerDefinitions"): (
        # The one JSON string embeds the image digest: pulumi-docker pushes only during `up`
        # (buildOnPreview builds without pushing), so `<repository>@sha256:<digest>` cannot exist at
        # preview. It also embeds the RDS/ElastiCache endpoints and Secrets Manager ARNs (AWS-assigned).
        FARGATE_SERVICE_TYPE,
        CONTAINER_SPEC,
    ),
}
"""The allow-list (docs/policies.md, "Unknown values at preview"): (resource type, property) a mandatory
check may be unable to read at preview, each with the component type whose fully known property the
same policy checks instead. Anything not listed must be known at preview."""

DECIDED_DURING_UP: Final[Mapping[tuple[str, str, str], tuple[frozenset[str], str]]] = {
    (ROLE_POLICY, "policy", "-exec-secrets"): (
        frozenset({"aws:secretsmanager/secret:Secret", "aws:rds/instance:Instance"}),
        # The execution role may read exactly the secrets it injects, named by ARN: the cache AUTH
        # secret's ARN ends in a random suffix and the RDS-managed master secret's name is assigned by
        # RDS, so neither exists before the update creates them. During `up` the engine analyzes the
        # policy with the real ARNs (the update test below: no unknown note, no violation).
        "the Secrets Manager ARNs it names are assigned by AWS when the secrets are created",
    ),
    (ROLE_POLICY, "policy", "-task-database"): (
        frozenset({"aws:rds/instance:Instance"}),
        # rds-db:connect names the app's database user by the instance's DbiResourceId
        # (arn:aws:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<user>), which RDS assigns when it
        # creates the instance; a wildcard in its place would admit that user name on every instance.
        "the DbiResourceId in the database user's ARN is assigned by RDS when it creates the instance",
    ),
    (ROLE_POLICY, "policy", "-task-cache"): (
        frozenset({"aws:secretsmanager/secret:Secret"}),
        # With an AUTH token (no IAM auth on the engine) the app reads the rotated token from its secret.
        "the AUTH token secret's ARN ends in a suffix Secrets Manager assigns when it creates the secret",
    ),
    (ROLE_POLICY, "policy", "-rotation-policy"): (
        frozenset({"aws:secretsmanager/secret:Secret"}),
        "the rotation function may rotate exactly its secret, whose ARN Secrets Manager assigns",
    ),
}
"""Identity policies the IAM policies can only decide during `up`: (type, property, name suffix) ->
(the only resource types whose outputs may flow in, why)."""

_UNKNOWN_NOTE: Final = re.compile(r"^can't run policy '[^']+' from policy pack '[^']+' during preview: ")
_IN_STACK_POLICY: Final = re.compile(r"\.(\w+)\(([^)]+)\)\.(\w+)")


def test_no_mandatory_violation_with_the_stacks_config(policy_pack: PolicyPackProcess, stack_run: StackRun) -> None:
    report = policy_pack.analyze(stack_run)
    assert report.config == f"{stack_run.stack}.json"
    assert [f"{v.policy} on {v.resource}: {v.detail}" for v in report.mandatory] == []


@dataclass(frozen=True)
class Unread:
    """One property a policy could not read at preview."""

    policy: str
    resource: CapturedResource
    prop: str
    sources: tuple[str, ...]
    """``Type::name`` of the resources whose outputs flow into the property (for its owner to fix)."""

    def __str__(self) -> str:
        where = f"{self.resource.type}::{self.resource.name}"
        return f"{self.policy} on {where}: .{self.prop} is unknown at preview (from {', '.join(self.sources) or '?'})"


def _found(run: StackRun, policy: str, resource: CapturedResource, prop: str) -> Unread:
    urns = resource.property_dependencies.get(prop, [])
    sources = sorted(f"{run.by_urn(u).type.rsplit(':', 1)[-1]}::{run.by_urn(u).name}" for u in urns)
    return Unread(policy, resource, prop, tuple(sources))


def _unknown_path(note: Violation) -> str:
    return _UNKNOWN_NOTE.sub("", note.message).replace(" can't be known during preview", "")


def _unread(run: StackRun, note: Violation) -> Iterator[Unread | str]:
    """The (resource, property) pairs an unknown-at-preview note is about; the raw note if unparseable.

    A resource policy's note is about the analyzed resource (``string value at .containerDefinitions``);
    a stack policy's names each resource (``.TaskDefinition(api-task).containerDefinitions (also
    unknown: .TaskDefinition(ops-task).containerDefinitions)``).
    """
    path = _unknown_path(note)
    if note.phase == "resource":
        match = re.search(r" at \.(\w+)", path)
        if match is None:
            yield f"{note.policy} on {note.resource}: {path}"
        else:
            yield _found(run, note.policy, run.by_urn(note.urn), match[1])
        return
    found = _IN_STACK_POLICY.findall(path)
    if not found:
        yield f"{note.policy} on {note.resource}: {path}"
    for kind, name, prop in found:
        resources = [r for r in run.resources if r.name == name and r.type.rsplit(":", 1)[-1] == kind]
        if len(resources) != 1:
            yield f"{note.policy}: {path} (no single {kind} named {name})"
        else:
            yield _found(run, note.policy, resources[0], prop)


def _notes_about(report: PolicyReport, policy: str, resource: CapturedResource) -> list[str]:
    short = f"{resource.type.rsplit(':', 1)[-1]}({resource.name})"
    return [
        _unknown_path(v)
        for v in report.unknown_notes()
        if v.policy == policy and (v.urn == resource.urn or (v.phase == "stack" and short in v.message))
    ]


def _uncovered(run: StackRun, report: PolicyReport, unread: Unread) -> str | None:
    """Why a degraded mandatory check is not acceptable, or None when it is allow-listed and covered."""
    resource = unread.resource
    for (kind, prop, suffix), (sources, _why) in DECIDED_DURING_UP.items():
        if (resource.type, unread.prop) == (kind, prop) and resource.name.endswith(suffix):
            types = {run.by_urn(u).type for u in resource.property_dependencies.get(prop, [])}
            if types and types <= sources:
                return None
            return f"{unread}, and only outputs of {sorted(sources)} may make it unknown (got {sorted(types)})"
    allowed = INHERENTLY_UNKNOWN_AT_PREVIEW.get((resource.type, unread.prop))
    if allowed is None:
        return f"{unread}, and that property is not in the allow-list of inherently unknown properties"
    owner_type, owner_prop = allowed
    owner = run.by_urn(resource.parent) if resource.parent else None
    if owner is None or owner.type != owner_type:
        return f"{unread}, and no {owner_type} owns it to check its declared {owner_prop} instead"
    if unread.policy not in COMPONENT_CONTAINER_POLICIES:
        return f"{unread}, and the policy does not check {owner_type}.{owner_prop}"
    if owner_prop not in owner.wire_inputs.fields:
        return f"{unread}, and its owner {owner.name} declares no {owner_prop}"
    unknown = unknown_paths(owner.wire_inputs.fields[owner_prop], f".{owner_prop}")
    if unknown:
        return f"{unread}, and its owner {owner.name}'s {owner_prop} is not known at preview either: {unknown}"
    notes = _notes_about(report, unread.policy, owner)
    if notes:
        return f"{unread}, and the policy could not read its owner {owner.name} either: {notes}"
    return None


@pytest.mark.parametrize("stack", STACKS)
def test_at_preview_no_mandatory_check_is_weakened_by_unknown_values(
    policy_pack: PolicyPackProcess, stack: str
) -> None:
    """pulumi-policy turns a check that reads an unknown value into an advisory note, even when the policy
    is mandatory. Only allow-listed, inherently unknown properties may degrade a mandatory check, and
    only where the same policy decided the owning component's declared, fully known spec instead."""
    run = cached_run(stack, preview=True)
    report = policy_pack.analyze(run)
    problems: list[str] = []
    degraded: list[Unread] = []
    for note in report.unknown_notes():
        if report.levels[note.policy] != "mandatory":
            continue
        for unread in _unread(run, note):
            if isinstance(unread, str):
                problems.append(f"unparseable note: {unread}")
                continue
            degraded.append(unread)
            problem = _uncovered(run, report, unread)
            if problem:
                problems.append(problem)
    assert problems == [], "mandatory checks weakened at preview without cover:\n" + "\n".join(problems)
    assert findings(report.mandatory) == set()
    # Not vacuous: the task definitions are unknown at preview, and each is covered by its service.
    services = run.of_type(FARGATE_SERVICE_TYPE)
    assert services
    tasks = [u for u in degraded if u.resource.type == TASK_DEFINITION]
    assert {u.resource.parent for u in tasks} == {s.urn for s in services}


def _agreement(spec: Mapping[str, Any], definition: Mapping[str, Any]) -> list[str]:
    """Where the rendered container definition departs from the declared spec (empty: they agree)."""
    problems: list[str] = []
    spec_only = {"imageRepository", "imagePinnedByDigest"}
    if set(definition) != (set(spec) - spec_only) | {"image"}:
        problems.append(f"keys differ: spec {sorted(spec)} vs definition {sorted(definition)}")
    repository, _, digest = str(definition.get("image", "")).partition("@")
    if repository != spec.get("imageRepository"):
        problems.append(f"image {definition.get('image')!r} is not in {spec.get('imageRepository')!r}")
    if spec.get("imagePinnedByDigest") is not True or not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        problems.append(f"image {definition.get('image')!r} is not pinned by digest")
    for key in set(spec) - spec_only - {"environment", "secrets"}:
        if definition.get(key) != spec[key]:
            problems.append(f"{key}: spec {spec[key]!r} vs definition {definition.get(key)!r}")
    declared_env, rendered_env = spec.get("environment", []), definition.get("environment", [])
    if [e["name"] for e in declared_env] != [e["name"] for e in rendered_env]:
        problems.append("environment names differ")
    for declared, rendered in zip(declared_env, rendered_env, strict=False):
        if declared["value"] == COMPUTED:
            if not isinstance(rendered["value"], str) or not rendered["value"]:
                problems.append(f"environment {declared['name']}: computed value did not resolve")
        elif declared["value"] != rendered["value"]:
            problems.append(f"environment {declared['name']}: values differ")
    declared_secrets, rendered_secrets = spec.get("secrets", []), definition.get("secrets", [])
    if [s["name"] for s in declared_secrets] != [s["name"] for s in rendered_secrets]:
        problems.append("secret names differ")
    for declared, rendered in zip(declared_secrets, rendered_secrets, strict=False):
        value_from = str(rendered["valueFrom"])
        if f":{declared['source']}:" not in value_from.split("/", 1)[0]:
            problems.append(f"secret {declared['name']}: {value_from} is not from {declared['source']}")
        if "jsonKey" in declared and not value_from.endswith(f":{declared['jsonKey']}::"):
            problems.append(f"secret {declared['name']}: {value_from} does not select {declared['jsonKey']}")
    return problems


@pytest.mark.parametrize("stack", STACKS)
def test_during_the_update_task_definitions_are_checked_mandatory_on_known_values_matching_the_spec(
    policy_pack: PolicyPackProcess, stack: str
) -> None:
    """What preview checks on the component, `up` checks again on the task definition it rendered."""
    run = cached_run(stack)
    tasks = run.of_type(TASK_DEFINITION)
    assert tasks
    for task in tasks:
        assert unknown_paths(task.wire_inputs) == [], task.name
    report = policy_pack.analyze(run, config=ALL_MANDATORY)
    assert all(report.levels[p] == "mandatory" for p in COMPONENT_CONTAINER_POLICIES)
    assert report.unknown_notes() == []
    checked = [
        f"{v.policy} on {v.resource}: {v.detail}" for v in report.violations if v.policy in COMPONENT_CONTAINER_POLICIES
    ]
    assert checked == []

    for service in run.of_type(FARGATE_SERVICE_TYPE):
        (task,) = [r for r in run.children(service.urn) if r.type == TASK_DEFINITION]
        (definition,) = json.loads(task.inputs["containerDefinitions"])
        spec = service.inputs[CONTAINER_SPEC]
        # Stack policies read a component's registered outputs (its state), not its inputs.
        assert service.registered_outputs is not None
        assert CONTAINER_SPEC in service.registered_outputs.fields
        assert _agreement(spec, definition) == [], f"{service.name}: the task definition drifted from its spec"
