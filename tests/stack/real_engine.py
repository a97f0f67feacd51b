"""Run the program the way `pulumi preview` / `pulumi up` start it: a resource monitor and an engine
reached over gRPC, not the SDK's mock runtime.

    python -m tests.stack.real_engine STACK [--preview] [-c KEY=VALUE ...]

The Pulumi CLI's language host runs ``pulumi-language-python-exec`` (pulumi/pulumi,
sdk/python/cmd/pulumi-language-python-exec), which reads the config from ``PULUMI_CONFIG``, calls
``pulumi.runtime.configure(pulumi.runtime.Settings(monitor=<address>, engine=<address>, project=,
stack=, parallel=, dry_run=))`` (the SDK then connects a ``ResourceMonitorStub``; runtime/settings.py)
and runs ``__main__.py`` inside ``pulumi.runtime.run_in_stack``; a failure is logged through the
engine's ``Log`` and the process exits 1. This module does exactly that, against a gRPC server in the
same process whose ResourceMonitor and Engine services answer from the mock cloud (the recording
monitor behind the offline plan). The program cannot tell it from a real engine by anything but the
answers: its monitor is a gRPC stub, as under the CLI. No AWS account or Pulumi CLI is needed.

Prints one JSON object: ``exit_code``, ``errors`` (the engine log at error severity), ``types`` (the
resource types registered, in order).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import os
import runpy
import sys
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
import pulumi
import pulumi.runtime
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, resource_pb2, resource_pb2_grpc

from mockcloud.mocks import AwsMocks
from mockcloud.monitor import RecordingMonitor
from mockcloud.runner import PROJECT_DIR, load_stack_config

_FORWARDED = (
    "Invoke",
    "Call",
    "ReadResource",
    "RegisterResource",
    "RegisterResourceOutputs",
    "RegisterStackTransform",
    "RegisterStackInvokeTransform",
    "RegisterResourceHook",
    "RegisterErrorHook",
    "RegisterPackage",
    "SignalAndWaitForShutdown",
    "GetDeploymentInfo",
)


class _Monitor(resource_pb2_grpc.ResourceMonitorServicer):
    """The ResourceMonitor gRPC service, answered by the mock cloud's recording monitor."""

    def __init__(self, recording: RecordingMonitor, context: contextvars.Context) -> None:
        self._recording = recording
        self._context = context
        for name in _FORWARDED:
            if hasattr(recording, name):  # the others stay UNIMPLEMENTED, as the servicer base has them
                setattr(self, name, self._forward(getattr(recording, name)))

    def _forward(self, method: Callable[[Any], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
        def handler(request: Any, _context: grpc.ServicerContext) -> Any:
            # gRPC's worker threads start with an empty context; the monitor reads the stack and
            # project from the SDK's settings (URNs), which live in the configuring thread's context.
            return self._context.copy().run(method, request)

        return handler

    def SupportsFeature(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802 (gRPC name)
        answer = self._context.copy().run(self._recording.SupportsFeature, request)
        return resource_pb2.SupportsFeatureResponse(hasSupport=bool(answer.hasSupport))


class _Engine(engine_pb2_grpc.EngineServicer):
    """The Engine gRPC service: keeps the log and the root resource, as the CLI's engine does."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.root = ""

    def Log(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802 (gRPC name)
        if request.severity == engine_pb2.ERROR:
            self.errors.append(request.message)
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        return engine_pb2.GetRootResourceResponse(urn=self.root)

    def SetRootResource(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self.root = request.urn
        return engine_pb2.SetRootResourceResponse()


def run(stack: str, *, preview: bool, overrides: dict[str, str]) -> dict[str, Any]:
    config = load_stack_config(stack, overrides=overrides)
    project = _project_name()
    # What pulumi-language-python-exec does first: the config arrives as the PULUMI_CONFIG JSON.
    os.environ["PULUMI_CONFIG"] = json.dumps(config.values)
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(sorted(config.secret_keys))
    pulumi.runtime.set_all_config(pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env())

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    port = server.add_insecure_port("127.0.0.1:0")
    address = f"127.0.0.1:{port}"
    pulumi.runtime.configure(
        pulumi.runtime.Settings(
            monitor=address, engine=address, project=project, stack=stack, parallel=8, dry_run=preview
        )
    )
    recording = RecordingMonitor(AwsMocks(config.region), preview=preview)
    engine = _Engine()
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(_Monitor(recording, contextvars.copy_context()), server)
    engine_pb2_grpc.add_EngineServicer_to_server(engine, server)
    server.start()
    exit_code = 1
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(_program))
        exit_code = 0
    except pulumi.RunError as error:
        pulumi.log.error(str(error))
    except Exception:
        import traceback

        pulumi.log.error(traceback.format_exc())
    finally:
        server.stop(grace=None)
    return {"exit_code": exit_code, "errors": engine.errors, "types": [r.type for r in recording.captured]}


def _program() -> None:
    runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__")


def _project_name() -> str:
    from stack.settings import project_name

    return project_name()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.stack.real_engine")
    parser.add_argument("stack")
    parser.add_argument("--preview", action="store_true")
    parser.add_argument("-c", "--config", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    overrides = dict(item.split("=", 1) for item in args.config)
    result = run(args.stack, preview=args.preview, overrides=overrides)
    print(json.dumps(result))
    return int(result["exit_code"])


if __name__ == "__main__":
    sys.exit(main())
