"""The policy pack as its own process, started and spoken to the way the Pulumi CLI does.

The CLI runs ``<interpreter> -u -m pulumi.policy <engine-address> .`` in the pack directory, reads the
gRPC port from the first line the pack prints, then calls ``ConfigureStack``, ``GetAnalyzerInfo``,
``Configure``, ``Analyze`` per resource and ``AnalyzeStack`` once.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import subprocess
import sys
import threading
import weakref
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import grpc
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc

from mockcloud.runner import StackRun
from offline.policy import GUARDRAILS_DIR
from offline.policy.config import PolicyConfig, PolicyConfigError, config_file, parse_config, reconcile
from offline.policy.report import PolicyInfo, PolicyReport, Violation
from offline.policy.wire import (
    analysis_input,
    configure_request,
    policy_infos,
    stack_configure_request,
    violations,
)

# Python packs never dial the engine; the CLI passes its address as the first argument all the same.
ENGINE_ADDRESS: Final = "127.0.0.1:0"
_MAX_MESSAGE: Final = 400 * 1024 * 1024  # the CLI and pulumi-policy raise gRPC's 4 MB limit to 400 MB


class PolicyPackError(RuntimeError):
    """The pack did not start, crashed, or failed a call (the message carries its stderr)."""


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
            project = yaml.safe_load((self.pack_dir / "PulumiPolicy.yaml").read_text(encoding="utf-8")) or {}
            self._info = (response.name, str(project.get("version") or response.version), policy_infos(response))
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
        self._call("ConfigureStack", stack_configure_request(run, stack))
        name, version, policies = self.info()
        effective = reconcile(policies.values(), given)
        self._call("Configure", configure_request(effective))

        inputs = analysis_input(run)
        found: list[Violation] = []
        for analyze in inputs.analyze_requests():
            response = self._call("Analyze", analyze)
            found.extend(violations(response, "resource", default_urn=analyze.urn))
        response = self._call("AnalyzeStack", inputs.stack_request())
        found.extend(violations(response, "stack", default_urn=""))
        levels = {p: effective[p].level or "advisory" for p in policies}
        return PolicyReport(
            pack=name,
            version=version,
            stack=stack,
            preview=run.preview,
            config=source,
            levels=levels,
            policies=policies,
            violations=tuple(found),
        )


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
