"""A MockMonitor that records every registration the program makes, in the engine's own wire form."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks, _resolve_callbacks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class CapturedResource:
    """One registration as the engine would have received it, plus what the mock cloud answered."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    provider: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    """Inputs, deserialized (camelCase keys; secrets unwrapped; unknowns as None)."""
    wire_inputs: struct_pb2.Struct
    """Inputs exactly as sent over gRPC (secret and unknown markers intact)."""
    options: dict[str, Any]
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    wire_outputs: struct_pb2.Struct = field(default_factory=struct_pb2.Struct)
    """State returned to the program (in preview: computed properties are the unknown marker)."""
    registered_outputs: struct_pb2.Struct | None = None
    """What a component (or the stack) passed to ``register_outputs``, in wire form. The engine makes
    that a component's state, replacing whatever it had: stack policies see these values."""

    @property
    def is_component(self) -> bool:
        return not self.custom and self.type != STACK_TYPE

    @property
    def unknown_outputs(self) -> list[str]:
        return sorted(k for k, v in self.wire_outputs.fields.items() if v.string_value == rpc.UNKNOWN)


class RecordingMonitor(MockMonitor):
    """Records type, name, URN, parent, dependencies, property dependencies, inputs and options.

    In preview mode it answers like the engine does during ``pulumi preview``: the provider echoes
    the inputs and every property it would compute (IDs, ARNs, DNS names) is *unknown*. Code that
    only works when those are known, and policies that read them, show up as such.
    """

    def __init__(self, mocks: Mocks, *, preview: bool = False) -> None:
        super().__init__(mocks)
        self.preview = preview
        self.captured: list[CapturedResource] = []
        self._lock = threading.Lock()

    # The engine registers the root stack too; keep it so the tree has its root.
    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        urn = self.make_urn(request.parent, request.type, request.name)
        _ensure_event_loop()  # type: ignore[no-untyped-call]
        inputs = rpc.deserialize_properties(request.object)
        wire = struct_pb2.Struct()
        wire.CopyFrom(request.object)
        captured = CapturedResource(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            provider=request.provider,
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            inputs=inputs,
            wire_inputs=wire,
            options={
                "protect": request.protect,
                "ignoreChanges": list(request.ignoreChanges),
                "deleteBeforeReplace": request.deleteBeforeReplace,
                "additionalSecretOutputs": list(request.additionalSecretOutputs),
                "replaceOnChanges": list(request.replaceOnChanges),
                "retainOnDelete": request.retainOnDelete,
                # Old engines get alias URNs; current SDKs send alias specs (the engine resolves them).
                "aliases": [str(a) for a in request.aliasURNs] + [_alias(a) for a in request.aliases],
                "customTimeouts": {
                    "create": request.customTimeouts.create,
                    "update": request.customTimeouts.update,
                    "delete": request.customTimeouts.delete,
                },
            },
        )
        with self._lock:
            self.captured.append(captured)

        if request.type == STACK_TYPE:
            return resource_pb2.RegisterResourceResponse(urn=urn)

        resource_args = MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=inputs,
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
            transforms=_resolve_callbacks(request.transforms),
        )
        id_, state = self.mocks.new_resource(resource_args)
        id_ = id_ or ""
        state = state or {}
        obj_proto = _sync_await(rpc.serialize_properties(state, {}))
        if self.preview and request.custom:
            # Computed outputs (and the ID) are not known until the resource exists.
            for key in state:
                if key not in inputs:
                    obj_proto.fields[key].string_value = rpc.UNKNOWN
            id_ = ""
        captured.id = id_
        captured.outputs = dict(state)
        captured.wire_outputs = obj_proto
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj_proto)

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        outputs = struct_pb2.Struct()
        outputs.CopyFrom(request.outputs)
        with self._lock:
            for captured in self.captured:
                if captured.urn == request.urn:
                    captured.registered_outputs = outputs
        return empty_pb2.Empty()

    def by_type(self, type_: str) -> list[CapturedResource]:
        return [r for r in self.captured if r.type == type_]


def _alias(alias: Any) -> str:
    """An alias spec as one readable string: its URN, or ``type=... name=...`` of the fields it sets."""
    if alias.WhichOneof("alias") == "urn":
        return str(alias.urn)
    spec = alias.spec
    fields = {name: getattr(spec, name) for name in ("type", "name", "stack", "project", "parentUrn")}
    return " ".join(f"{name}={value}" for name, value in fields.items() if value) + (
        " noParent" if spec.noParent else ""
    )
