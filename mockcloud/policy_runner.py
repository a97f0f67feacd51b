"""Run a policy pack the way the Pulumi CLI does, fed with what the mock cloud captured.

For ``pulumi preview --policy-pack policies/guardrails --policy-pack-config policies/guardrails/dev.json``
the CLI starts the pack as its own process (``<virtualenv>/bin/python -u -m pulumi.policy
<engine-address> .`` in the pack directory), reads the gRPC port the pack prints, and speaks the
Analyzer protocol:

1. ``ConfigureStack`` (stack, project, config, dry run), ``GetAnalyzerInfo`` (policies and their
   default levels), then ``Configure`` with the config file reconciled against each policy's
   defaults exactly like the engine does (``"all"`` first, then per policy, schema defaults filled in);
2. ``Analyze`` for every resource as it is registered: its inputs, options and the provider resource
   (the *default* provider too: ``default_<version>`` with the stack's ``aws:`` config as inputs);
3. ``AnalyzeStack`` once with every resource's final state, parent, dependencies and property
   dependencies.

This module does the same with a ``StackRun``: ``CapturedResource.wire_inputs`` is the Struct the
SDK sent (secret and unknown markers intact) and, in preview runs, computed outputs are unknown.
Differences to a real engine, all on the engine's side: it sends inputs *after* the provider's
``Check`` (defaults and auto-names filled in); here inputs are what the program sent. Components'
state in ``AnalyzeStack`` is what they passed to ``register_outputs``, as in the engine.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import weakref
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Final, Literal, cast

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from components.fargate_service import FARGATE_SERVICE_TYPE
from mockcloud.monitor import STACK_TYPE, CapturedResource
from mockcloud.runner import PROJECT_DIR, StackRun

GUARDRAILS_DIR: Final = PROJECT_DIR / "policies" / "guardrails"
# Python packs never dial the engine; the CLI passes its address as the first argument all the same.
ENGINE_ADDRESS: Final = "127.0.0.1:0"
_MAX_MESSAGE: Final = 400 * 1024 * 1024  # the CLI and pulumi-policy raise gRPC's 4 MB limit to 400 MB

Level = Literal["advisory", "mandatory", "remediate", "disabled"]
LEVELS: Final[tuple[Level, ...]] = ("mandatory", "advisory", "remediate", "disabled")
_FROM_PROTO: Final[dict[int, Level]] = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
_TO_PROTO: Final = {level: number for number, level in _FROM_PROTO.items()}
_UNKNOWN_NOTE: Final = re.compile(r"^can't run policy '[^']+' from policy pack '[^']+' during preview: ")


class PolicyPackError(RuntimeError):
    """The pack did not start, crashed, or failed a call (the message carries its stderr)."""


class PolicyConfigError(ValueError):
    """A policy pack config file is malformed or fails a policy's config schema."""


# --------------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PolicyInfo:
    """One policy as the pack describes itself (GetAnalyzerInfo)."""

    name: str
    description: str
    default_level: Level
    kind: Literal["resource", "stack"]
    severity: str
    config_schema: dict[str, Any]


@dataclass(frozen=True)
class Violation:
    """One diagnostic, as the CLI would print it."""

    policy: str
    level: Level
    urn: str
    """The resource it is about ("" for a stack-wide finding)."""
    message: str
    """What pulumi-policy sends: the policy's description, a newline, then the details."""
    description: str
    phase: Literal["resource", "stack"]

    @property
    def detail(self) -> str:
        return self.message.removeprefix(self.description).strip() or self.description

    @property
    def resource(self) -> str:
        """``type::name`` of the resource, or ``(stack)``."""
        if not self.urn:
            return "(stack)"
        return "::".join(self.urn.split("::")[-2:]).rsplit("$", 1)[-1]

    @property
    def unknown_at_preview(self) -> bool:
        """pulumi-policy could not decide because a value it read is unknown until the update."""
        return bool(_UNKNOWN_NOTE.match(self.message))


@dataclass(frozen=True)
class PolicyReport:
    """Every diagnostic of one analysis, plus each policy's effective level for the stack."""

    pack: str
    version: str
    stack: str
    preview: bool
    config: str
    """Where the enforcement levels came from: the stack's config file, or ``inline``."""
    levels: dict[str, Level]
    policies: dict[str, PolicyInfo]
    violations: tuple[Violation, ...]

    def at(self, level: Level) -> list[Violation]:
        return [v for v in self.violations if v.level == level]

    @property
    def mandatory(self) -> list[Violation]:
        return self.at("mandatory")

    @property
    def advisory(self) -> list[Violation]:
        return self.at("advisory")

    @property
    def disabled(self) -> list[str]:
        return sorted(name for name, level in self.levels.items() if level == "disabled")

    @property
    def passed(self) -> bool:
        """No mandatory violation: `pulumi preview` would succeed."""
        return not self.mandatory

    def for_policy(self, name: str) -> list[Violation]:
        if name not in self.levels:
            raise KeyError(f"no policy {name!r} in {self.pack}; known: {', '.join(sorted(self.levels))}")
        return [v for v in self.violations if v.policy == name]

    def unknown_notes(self) -> list[Violation]:
        return [v for v in self.violations if v.unknown_at_preview]


# --------------------------------------------------------------------------------------------------
# Config files, reconciled the way the engine does
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PolicyConfig:
    level: Level | None
    properties: dict[str, Any] = field(default_factory=dict)


def config_file(stack: str, pack_dir: Path = GUARDRAILS_DIR) -> Path:
    path = pack_dir / f"{stack}.json"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in pack_dir.glob("*.json"))) or "none"
        raise PolicyConfigError(f"no policy config {path.name} for stack {stack!r} in {pack_dir}; have: {known}")
    return path


def parse_config(document: Mapping[str, Any]) -> dict[str, PolicyConfig]:
    """``{"all": "mandatory", "<policy>": {"enforcementLevel": "advisory", <properties>}}`` -> configs."""
    result: dict[str, PolicyConfig] = {}
    for key, value in document.items():
        if isinstance(value, str):
            result[key] = PolicyConfig(_level(key, value))
        elif isinstance(value, Mapping):
            properties = {k: v for k, v in value.items() if k != "enforcementLevel"}
            level = _level(key, value["enforcementLevel"]) if "enforcementLevel" in value else None
            if level is not None or properties:
                result[key] = PolicyConfig(level, properties)
        else:
            raise PolicyConfigError(f"{key!r}: {value!r} is not valid; must be a string or object")
    return result


def _level(key: str, value: Any) -> Level:
    if value not in LEVELS:
        raise PolicyConfigError(f"{key!r}: enforcement level {value!r} is not one of {', '.join(LEVELS)}")
    return cast(Level, value)


def reconcile(policies: Iterable[PolicyInfo], given: Mapping[str, PolicyConfig] | None) -> dict[str, PolicyConfig]:
    """Defaults from each policy (level, schema defaults), then ``all``, then per-policy entries."""
    result = {
        p.name: PolicyConfig(
            p.default_level,
            {k: v["default"] for k, v in p.config_schema.get("properties", {}).items() if "default" in v},
        )
        for p in policies
    }
    given = given or {}
    everything = given.get("all")
    if everything is not None and everything.level is not None:
        result = {name: PolicyConfig(everything.level, c.properties) for name, c in result.items()}
    for name, config in given.items():
        current = result.get(name, PolicyConfig(None))
        result[name] = PolicyConfig(config.level or current.level, {**current.properties, **config.properties})
    for policy in policies:
        _validate_properties(policy, result[policy.name].properties)
    return result


_JSON_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "string": (str,),
    "array": (list,),
    "object": (dict,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
}


def _validate_properties(policy: PolicyInfo, properties: Mapping[str, Any]) -> None:
    """The subset of JSON Schema the pack's schemas use: type, items.type, enum, required."""
    schema = policy.config_schema.get("properties", {})
    for name in policy.config_schema.get("required", []):
        if name not in properties:
            raise PolicyConfigError(f"{policy.name}: {name} is required")
    for name, value in properties.items():
        rules = schema.get(name, {})
        expected = rules.get("type")
        if expected and not isinstance(value, _JSON_TYPES[expected]):
            raise PolicyConfigError(f"{policy.name}.{name}: {value!r} is not of type {expected}")
        item_type = rules.get("items", {}).get("type")
        if item_type and any(not isinstance(v, _JSON_TYPES[item_type]) for v in value):
            raise PolicyConfigError(f"{policy.name}.{name}: every item must be of type {item_type}")
        if "enum" in rules and value not in rules["enum"]:
            raise PolicyConfigError(f"{policy.name}.{name}: {value!r} is not one of {rules['enum']}")


# --------------------------------------------------------------------------------------------------
# Requests built from a captured run
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


# --------------------------------------------------------------------------------------------------
# The pack process
# --------------------------------------------------------------------------------------------------
_LIVE: weakref.WeakSet[PolicyPackProcess] = weakref.WeakSet()


@atexit.register
def _close_leftovers() -> None:
    for pack in list(_LIVE):
        pack.close()


def pack_python(pack_dir: Path) -> str:
    """The interpreter the CLI would use: the pack's ``virtualenv`` if it exists, else this one."""
    project = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8")) or {}
    runtime = project.get("runtime")  # `runtime: python`, or a mapping with name and options
    venv = ((runtime.get("options") or {}) if isinstance(runtime, dict) else {}).get("virtualenv")
    if venv:
        python = (pack_dir / venv / "bin" / "python").resolve()
        if python.exists():
            return str(python)
    return sys.executable


class PolicyPackProcess:
    """One running policy pack, started and spoken to like the Pulumi CLI does.

    Use as a context manager (or call ``close()``): the process is always terminated, also at
    interpreter exit.
    """

    def __init__(
        self,
        pack_dir: Path = GUARDRAILS_DIR,
        *,
        python: str | None = None,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
        call_timeout: float = 120.0,
    ) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.python = python or pack_python(self.pack_dir)
        self._env = {**os.environ, **(env or {})}
        self._startup_timeout = startup_timeout
        self._call_timeout = call_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stderr: deque[str] = deque(maxlen=200)
        self._lock = threading.Lock()
        self._info: tuple[str, str, dict[str, PolicyInfo]] | None = None

    # -- lifecycle ------------------------------------------------------------------------------------
    def __enter__(self) -> PolicyPackProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self._process is not None:
            return
        command = [self.python, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, "."]
        self._process = subprocess.Popen(  # noqa: S603 (our own interpreter and the pack directory)
            command, cwd=self.pack_dir, env=self._env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        _LIVE.add(self)
        port_line: list[str] = []
        ready = threading.Event()
        threading.Thread(target=self._read_stdout, args=(port_line, ready), daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        if not ready.wait(self._startup_timeout) or not port_line or not port_line[0].isdigit():
            self.close()
            raise PolicyPackError(
                f"policy pack {self.pack_dir} did not print its port within {self._startup_timeout:.0f} s "
                f"(got {port_line!r}); stderr:\n{self.stderr}"
            )
        options = [("grpc.max_receive_message_length", _MAX_MESSAGE), ("grpc.max_send_message_length", _MAX_MESSAGE)]
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port_line[0]}", options=options)
        grpc.channel_ready_future(self._channel).result(timeout=self._startup_timeout)
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)

    def _read_stdout(self, port_line: list[str], ready: threading.Event) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for raw in self._process.stdout:  # keep draining: a full pipe would block the pack
            if not ready.is_set():
                port_line.append(raw.decode(errors="replace").strip())
                ready.set()
        ready.set()

    def _read_stderr(self) -> None:
        assert self._process is not None
        assert self._process.stderr is not None
        for raw in self._process.stderr:
            self._stderr.append(raw.decode(errors="replace").rstrip())

    @property
    def stderr(self) -> str:
        return "\n".join(self._stderr)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        _LIVE.discard(self)

    # -- protocol -----------------------------------------------------------------------------------
    def _call(self, method: str, request: Any) -> Any:
        if self._stub is None:
            self.start()
        assert self._stub is not None
        try:
            return getattr(self._stub, method)(request, timeout=self._call_timeout)
        except grpc.RpcError as error:
            describe = getattr(error, "details", None)  # a failed call carries the server's message
            details = describe() if callable(describe) else str(error)
            raise PolicyPackError(f"{method} failed: {details}\npack stderr:\n{self.stderr}") from error

    def info(self) -> tuple[str, str, dict[str, PolicyInfo]]:
        """Pack name, version (PulumiPolicy.yaml's wins, as in the CLI) and its policies."""
        if self._info is None:
            response = self._call("GetAnalyzerInfo", empty_pb2.Empty())
            policies = {
                p.name: PolicyInfo(
                    name=p.name,
                    description=p.description,
                    default_level=_FROM_PROTO[p.enforcementLevel],
                    kind="stack" if p.policy_type == analyzer_pb2.POLICY_TYPE_STACK else "resource",
                    severity=analyzer_pb2.PolicySeverity.Name(p.severity).removeprefix("POLICY_SEVERITY_").lower(),
                    config_schema=json_format.MessageToDict(p.configSchema, preserving_proto_field_name=True),
                )
                for p in response.policies
            }
            project = yaml.safe_load((self.pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8")) or {}
            self._info = (response.name, str(project.get("version") or response.version), policies)
        return self._info

    def analyze(
        self,
        run: StackRun,
        *,
        stack: str | None = None,
        config: Mapping[str, Any] | Path | None = None,
    ) -> PolicyReport:
        """Analyze a captured run with a stack's config file (``<stack>.json``) or an explicit config."""
        stack = stack or run.stack
        if config is None:
            config = config_file(stack, self.pack_dir)
        if isinstance(config, Path):
            try:
                document = json.loads(config.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise PolicyConfigError(f"{config}: not valid JSON ({error})") from error
        else:
            document = dict(config)
        source = config.name if isinstance(config, Path) else "inline"
        with self._lock:  # Configure sets pack-wide state; one analysis at a time
            return self._analyze(run, stack, parse_config(document), source)

    def _analyze(self, run: StackRun, stack: str, given: Mapping[str, PolicyConfig], source: str) -> PolicyReport:
        self._call(
            "ConfigureStack",
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=stack,
                project=run.project,
                organization="organization",
                dry_run=run.preview,
                config=dict(run.config.values),
                config_secret_keys=sorted(run.config.secret_keys),
                tags={"pulumi:project": run.project, "pulumi:runtime": "python"},
            ),
        )
        name, version, policies = self.info()
        effective = reconcile(policies.values(), given)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for policy_name, config in effective.items():
            entry = request.policyConfig[policy_name]
            entry.enforcementLevel = _TO_PROTO[config.level or "advisory"]
            entry.properties.update(config.properties)
        self._call("Configure", request)

        inputs = analysis_input(run)
        violations: list[Violation] = []
        for analyze in inputs.analyze_requests():
            response = self._call("Analyze", analyze)
            violations.extend(_violations(response, "resource", default_urn=analyze.urn))
        response = self._call("AnalyzeStack", inputs.stack_request())
        violations.extend(_violations(response, "stack", default_urn=""))
        levels = {p: effective[p].level or "advisory" for p in policies}
        return PolicyReport(
            pack=name,
            version=version,
            stack=stack,
            preview=run.preview,
            config=source,
            levels=levels,
            policies=policies,
            violations=tuple(violations),
        )


def _violations(response: Any, phase: Literal["resource", "stack"], *, default_urn: str) -> list[Violation]:
    found = []
    for d in response.diagnostics:
        level = _FROM_PROTO[d.enforcementLevel]
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


def analyze_stack_run(
    run: StackRun,
    stack: str | None = None,
    *,
    pack_dir: Path = GUARDRAILS_DIR,
    config: Mapping[str, Any] | Path | None = None,
) -> PolicyReport:
    """Start the pack (with the stack's environment, like the CLI), analyze ``run``, stop the pack."""
    env = {
        "PULUMI_PROJECT": run.project,
        "PULUMI_STACK": stack or run.stack,
        "PULUMI_DRY_RUN": "true" if run.preview else "false",
        "PULUMI_CONFIG": json.dumps(run.config.values),
        "PULUMI_CONFIG_SECRET_KEYS": json.dumps(sorted(run.config.secret_keys)),
    }
    with PolicyPackProcess(pack_dir, env=env) as pack:
        return pack.analyze(run, stack=stack, config=config)


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------
def _grouped(violations: Sequence[Violation]) -> dict[str, list[Violation]]:
    by_policy: dict[str, list[Violation]] = {}
    for v in violations:
        by_policy.setdefault(v.policy, []).append(v)
    return by_policy


def _unknown_path(v: Violation) -> str:
    """``string value at .containerDefinitions`` from pulumi-policy's preview note."""
    return _UNKNOWN_NOTE.sub("", v.message).replace(" can't be known during preview", "")


def _built_by_fargate_service(violation: Violation) -> bool:
    # A URN's type part is the chain of parent types: "platform:ecs:FargateService$aws:ecs/...".
    return f"{FARGATE_SERVICE_TYPE}$aws:ecs/taskDefinition:TaskDefinition::" in violation.urn


def format_report(report: PolicyReport) -> str:
    """The policy report as text: by enforcement level, then policy, then resource.

    Checks pulumi-policy could not run at preview (a value they read is unknown until the update) are
    listed on their own, with the level the policy has in this stack, since pulumi-policy reports them
    as advisory even for a mandatory policy.
    """
    mode = "preview" if report.preview else "update"
    lines = [
        f"Policy pack {report.pack}@v{report.version}, stack '{report.stack}' ({mode}), "
        f"config {report.config}: {len(report.levels)} policies",
    ]
    titles: dict[Level, str] = {
        "mandatory": "Mandatory violations (block the deployment)",
        "advisory": "Advisory violations",
    }
    for level, title in titles.items():
        found = [v for v in report.at(level) if not v.unknown_at_preview]
        lines += ["", f"{title}: {len(found)}"]
        for policy, violations in sorted(_grouped(found).items()):
            lines.append(f"  {policy} ({len(violations)})")
            for v in violations:
                lines.append(f"    - {v.resource}: {v.detail.splitlines()[0]}")
    notes = report.unknown_notes()
    if notes:
        weakened = sum(1 for v in notes if report.levels.get(v.policy) == "mandatory")
        lines += ["", f"Not checked at preview, values unknown until the update: {len(notes)} ({weakened} mandatory)"]
        for policy, violations in sorted(_grouped(notes).items()):
            lines.append(f"  {policy} ({report.levels.get(policy, 'advisory')} in this stack)")
            for v in violations:
                covered = " [spec checked at preview on its FargateService]" if _built_by_fargate_service(v) else ""
                lines.append(f"    - {v.resource}: {_unknown_path(v)}{covered}")
        lines += [
            "  Every one of these runs again with known values during `pulumi up`, where a mandatory violation",
            "  stops the resource before it is created. Task definitions built by FargateService are also covered",
            "  at preview: the same policies check the component's declared container spec (docs/policies.md).",
        ]
    lines += ["", f"Disabled policies: {len(report.disabled)}"]
    lines += [f"  {name}" for name in report.disabled]
    counts = {level: sum(1 for lvl in report.levels.values() if lvl == level) for level in LEVELS}
    lines += [
        "",
        "Enforcement for this stack: " + ", ".join(f"{n} {level}" for level, n in counts.items() if n),
        "Result: "
        + ("PASSED (no mandatory violation)" if report.passed else f"FAILED ({len(report.mandatory)} mandatory)"),
    ]
    return "\n".join(lines)


def markdown_report(report: PolicyReport) -> str:
    """The same report as a Markdown section (for a CI job summary)."""
    status = "passed" if report.passed else f"**failed: {len(report.mandatory)} mandatory violation(s)**"
    lines = [
        f"### Policy report: `{report.pack}` on `{report.stack}` — {status}",
        "",
        "| Level | Policy | Resource | Finding |",
        "|---|---|---|---|",
    ]
    for v in sorted(report.violations, key=lambda v: (LEVELS.index(v.level), v.policy, v.resource)):
        if v.unknown_at_preview:
            level, detail = f"not checked ({report.levels.get(v.policy)})", f"unknown at preview: {_unknown_path(v)}"
        else:
            level, detail = v.level, v.detail.splitlines()[0]
        lines.append(f"| {level} | `{v.policy}` | `{v.resource}` | {detail.replace('|', chr(92) + '|')} |")
    if report.disabled:
        lines += ["", "Disabled: " + ", ".join(f"`{name}`" for name in report.disabled)]
    return "\n".join(lines) + "\n"
