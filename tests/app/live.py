"""The real entrypoint (`python -m catalog serve`) in a child process, for tests that need a socket."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.app.servers import free_port


class LiveServer:
    """uvicorn serving the app on a free port; stderr (the JSON log) goes to a file."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.mkstemp(prefix="catalog-live-", suffix=".log")[1])
        self.env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port), **env}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> LiveServer:
        """Start and wait for /healthz."""
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "catalog", "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise TimeoutError(f"server did not answer in {timeout} s: {self.log()}")

    def log(self) -> str:
        """Everything the server logged so far."""
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, as ECS sends it; return the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def close(self) -> None:
        """Kill it if still running and remove the log."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.log_path.unlink(missing_ok=True)
