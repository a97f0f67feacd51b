"""A captured run as the engine's Analyzer requests, and the pack's answers back into the report model.

``CapturedResource.wire_inputs`` is the Struct the SDK sent (secret and unknown markers intact) and,
in preview runs, computed outputs are unknown, so the pack sees what it would see from the engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Final, Literal

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2

from mockcloud.monitor import STACK_TYPE, CapturedResource
from mockcloud.runner import StackRun
from offline.policy.config import PolicyConfig
from offline.policy.report import Level, PolicyInfo, Violation

LEVEL_FROM_PROTO: Final[dict[int, Level]] = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
LEVEL_TO_PROTO: Final = {level: number for number, level in LEVEL_FROM_PROTO.items()}


# --------------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------------
def _secret(value: Any) -> dict[str, Any]:
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def _package_version(package: str) -> str:
    try:
        return metadata.version(f"pulumi-{package}")
    except metadata.PackageNotFoundError:
        return "0.0.0"


@dataclass(frozen=True)
class ProviderResource:
    """A provider as the analyzer sees it (explicit, or the engine's default provider for a package)."""

    urn: str
    type: str
    name: str
    inputs: struct_pb2.Struct

    def message(self) -> analyzer_pb2.AnalyzerProviderResource:
        return analyzer_pb2.AnalyzerProviderResource(
            urn=self.urn, type=self.type, name=self.name, properties=self.inputs
        )


def default_provider(run: StackRun, package: str) -> ProviderResource:
    """What the engine registers for a package's resources that name no provider.

    URN ``...::pulumi:providers:<pkg>::default_<version>``; inputs are the stack's ``<pkg>:`` config
    values as the engine holds them (strings; objects such as ``aws:defaultTags`` JSON-encoded;
    secrets marked) plus ``version``.
    """
    version = _package_version(package)
    name = f"default_{version.replace('.', '_')}"
    inputs: dict[str, Any] = {}
    for key, value in run.config.values.items():
        namespace, _, short = key.partition(":")
        if namespace == package:
            inputs[short] = _secret(value) if key in run.config.secret_keys else value
    inputs["version"] = version
    struct = struct_pb2.Struct()
    struct.update(inputs)
    return ProviderResource(
        urn=f"urn:pulumi:{run.stack}::{run.project}::pulumi:providers:{package}::{name}",
        type=f"pulumi:providers:{package}",
        name=name,
        inputs=struct,
    )


_DURATION: Final = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_SECONDS: Final = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def duration_seconds(text: str) -> float:
    """Go duration strings the SDK sends for custom timeouts (``"10m"``, ``"1h30m"``) -> seconds."""
    return sum(float(amount) * _SECONDS[unit] for amount, unit in _DURATION.findall(text or ""))


def _options(resource: CapturedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    options = resource.options
    timeouts = options.get("customTimeouts", {})
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(options.get("protect")),
        ignoreChanges=list(options.get("ignoreChanges", [])),
        deleteBeforeReplace=bool(options.get("deleteBeforeReplace")),
        deleteBeforeReplaceDefined=bool(options.get("deleteBeforeReplace")),
        additionalSecretOutputs=list(options.get("additionalSecretOutputs", [])),
        aliases=list(options.get("aliases", [])),
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=duration_seconds(timeouts.get("create", "")),
            update=duration_seconds(timeouts.get("update", "")),
            delete=duration_seconds(timeouts.get("delete", "")),
        ),
        parent=resource.parent,
    )


@dataclass(frozen=True)
class AnalysisInput:
    """Everything the engine would send about a run: providers and resources, in registration order."""

    providers: list[ProviderResource]
    resources: list[CapturedResource]
    provider_of: dict[str, ProviderResource]
    """Resource URN -> its provider (custom resources only, like the engine)."""

    def analyze_requests(self) -> list[analyzer_pb2.AnalyzeRequest]:
        requests = [
            analyzer_pb2.AnalyzeRequest(urn=p.urn, type=p.type, name=p.name, properties=p.inputs)
            for p in self.providers
        ]
        for r in self.resources:
            request = analyzer_pb2.AnalyzeRequest(
                urn=r.urn, type=r.type, name=r.name, properties=r.wire_inputs, options=_options(r)
            )
            if r.urn in self.provider_of:
                request.provider.CopyFrom(self.provider_of[r.urn].message())
            requests.append(request)
        return requests

    def stack_request(self) -> analyzer_pb2.AnalyzeStackRequest:
        resources = [
            analyzer_pb2.AnalyzerResource(urn=p.urn, type=p.type, name=p.name, properties=p.inputs)
            for p in self.providers
        ]
        for r in self.resources:
            resource = analyzer_pb2.AnalyzerResource(
                urn=r.urn,
                type=r.type,
                name=r.name,
                properties=_state(r),
                options=_options(r),
                parent=r.parent,
                dependencies=r.dependencies,
                propertyDependencies={
                    k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v)
                    for k, v in r.property_dependencies.items()
                    if v
                },
            )
            if r.urn in self.provider_of:
                resource.provider.CopyFrom(self.provider_of[r.urn].message())
            resources.append(resource)
        return analyzer_pb2.AnalyzeStackRequest(resources=resources)


def _state(r: CapturedResource) -> struct_pb2.Struct:
    """What AnalyzeStack sees as a resource's final state: for custom resources their outputs (at
    preview, computed ones unknown); for components (and the stack) what they registered with
    ``register_outputs``, which the engine makes their state."""
    if r.custom and r.type != STACK_TYPE:
        return r.wire_outputs
    if r.registered_outputs is not None:
        return r.registered_outputs
    return r.wire_inputs


def analysis_input(run: StackRun) -> AnalysisInput:
    """Resolve each custom resource's provider: its explicit provider reference, or the package default."""
    explicit = {
        r.urn: ProviderResource(urn=r.urn, type=r.type, name=r.name, inputs=r.wire_inputs)
        for r in run.resources
        if r.type.startswith("pulumi:providers:")
    }
    defaults: dict[str, ProviderResource] = {}
    provider_of: dict[str, ProviderResource] = {}
    for r in run.resources:
        if not r.custom or r.type == STACK_TYPE or r.type.startswith("pulumi:providers:"):
            continue
        if r.provider:
            urn = r.provider.rsplit("::", 1)[0]  # a provider reference is "<urn>::<id>"
            if urn in explicit:
                provider_of[r.urn] = explicit[urn]
            continue
        package = r.type.split(":", 1)[0]
        if package not in defaults:
            defaults[package] = default_provider(run, package)
        provider_of[r.urn] = defaults[package]
    return AnalysisInput(providers=list(defaults.values()), resources=list(run.resources), provider_of=provider_of)


def stack_configure_request(run: StackRun, stack: str) -> analyzer_pb2.AnalyzerStackConfigureRequest:
    """``ConfigureStack``: the stack, its config (and which keys are secret) and whether this is a preview."""
    return analyzer_pb2.AnalyzerStackConfigureRequest(
        stack=stack,
        project=run.project,
        organization="organization",
        dry_run=run.preview,
        config=dict(run.config.values),
        config_secret_keys=sorted(run.config.secret_keys),
        tags={"pulumi:project": run.project, "pulumi:runtime": "python"},
    )


def configure_request(effective: Mapping[str, PolicyConfig]) -> analyzer_pb2.ConfigureAnalyzerRequest:
    """``Configure``: each policy's reconciled level and properties."""
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for policy_name, config in effective.items():
        entry = request.policyConfig[policy_name]
        entry.enforcementLevel = LEVEL_TO_PROTO[config.level or "advisory"]
        entry.properties.update(config.properties)
    return request


# --------------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------------
def policy_infos(response: analyzer_pb2.AnalyzerInfo) -> dict[str, PolicyInfo]:
    """``GetAnalyzerInfo``'s policies, by name."""
    return {
        p.name: PolicyInfo(
            name=p.name,
            description=p.description,
            default_level=LEVEL_FROM_PROTO[p.enforcementLevel],
            kind="stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
            severity=analyzer_pb2.PolicySeverity.Name(p.severity).removeprefix("POLICY_SEVERITY_").lower(),
            config_schema=json_format.MessageToDict(p.configSchema, preserving_proto_field_name=True),
        )
        for p in response.policies
    }


def violations(response: Any, phase: Literal["resource", "stack"], *, default_urn: str) -> list[Violation]:
    """The diagnostics of an ``Analyze`` / ``AnalyzeStack`` response."""
    found = []
    for d in response.diagnostics:
        level = LEVEL_FROM_PROTO[d.enforcementLevel]
        found.append(
            Violation(
                policy=d.policyName,
                # The engine treats a remediation that still violates as mandatory.
                level="mandatory" if level == "remediate" else level,
                # The engine attributes a resource policy's diagnostic to the resource analyzed.
                urn=d.urn or default_urn,
                message=d.message,
                description=d.description,
                phase=phase,
            )
        )
    return found
