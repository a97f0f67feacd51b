"""Processes the benchmarks own: private redis-server instances, the catalog app under uvicorn, the bench database.

Every process here is started by us and stopped by its own PID; nothing touches the shared Redis on
6379, and the only database changed is the benchmark's own (`catalog_bench` by default).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import asyncpg
import redis

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
SHARED_REDIS_PORT = 6379


class BenchSetupError(RuntimeError):
    """Something the suite needs is missing (a binary, a server); the message says what to do."""


def require_binary(name: str, hint: str) -> str:
    """Path of `name` on PATH, or a `BenchSetupError` with `hint`."""
    path = shutil.which(name)
    if path is None:
        raise BenchSetupError(f"{name} not found on PATH: {hint}")
    return path


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    if port == SHARED_REDIS_PORT:  # vanishingly unlikely, but never ours to use
        return free_port()
    return port


def _stop_process(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


@dataclass
class PrivateRedis:
    """A throwaway redis-server on its own port: no persistence, optional maxmemory and eviction policy."""

    port: int = field(default_factory=free_port)
    maxmemory: int | None = None
    policy: str | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _dir: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        binary = require_binary("redis-server", "install Debian's redis-server (the machine normally has it)")
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="bench-redis-")
        args = [binary, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        args += ["--dir", self._dir.name, "--loglevel", "warning"]
        if self.maxmemory is not None:
            args += ["--maxmemory", str(self.maxmemory)]
        if self.policy is not None:
            args += ["--maxmemory-policy", self.policy]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        deadline = time.monotonic() + timeout
        client = self.client()
        try:
            while True:
                if self._proc.poll() is not None:
                    raise BenchSetupError(f"redis-server on port {self.port} exited with {self._proc.returncode}")
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise BenchSetupError(f"redis-server on port {self.port} did not answer within {timeout} s")
                time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        """Stop our server (SIGTERM to its PID, SIGKILL if it lingers); its data is gone."""
        if self._proc is not None:
            _stop_process(self._proc)
            self._proc = None

    def close(self) -> None:
        """Stop and remove the working directory."""
        self.stop()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    @property
    def running(self) -> bool:
        """True while our process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def pause(self) -> None:
        """SIGSTOP our server: connections stay open and nothing answers (a hung cache)."""
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after `pause`."""
        assert self._proc is not None
        os.kill(self._proc.pid, signal.SIGCONT)

    def client(self) -> redis.Redis:
        """A synchronous client for setup and measurements (bytes replies)."""
        return redis.Redis(host=HOST, port=self.port, socket_timeout=30)

    def info(self) -> dict[str, object]:
        """INFO, all sections."""
        client = self.client()
        try:
            info: dict[str, object] = client.info("all")
            return info
        finally:
            client.close()

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# ---------------------------------------------------------------- the benchmark database


async def _recreate_database(name: str) -> None:
    conn = await asyncpg.connect(host=HOST, port=PG_PORT, user=PG_USER, database="postgres", timeout=10)
    try:
        # Identifiers cannot be bound parameters; `name` is ours and checked by `prepare_database`.
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@dataclass(frozen=True)
class SeedReport:
    """How the benchmark database was made."""

    database: str
    products: int
    seconds: float
    rows: dict[str, int]


def app_env(**overrides: str | int | float | bool) -> dict[str, str]:
    """Environment for a catalog process: this machine's PostgreSQL and the given overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "CACHE_"))}
    env.update({"APP_ENV": "dev", "DATABASE_HOST": HOST, "DATABASE_PORT": str(PG_PORT), "DATABASE_USER": PG_USER})
    env.update(
        {key.upper(): str(value).lower() if isinstance(value, bool) else str(value) for key, value in overrides.items()}
    )
    return env


def prepare_database(name: str, products: int) -> SeedReport:
    """Drop and recreate `name`, then seed it with the app's own seed command (migrations included)."""
    if not name.replace("_", "").isalnum() or not name.startswith("catalog_bench"):
        raise BenchSetupError(f"refusing to recreate database {name!r}: the benchmark only owns catalog_bench*")
    started = time.perf_counter()
    asyncio.run(_recreate_database(name))
    done = subprocess.run(  # noqa: S603 - our interpreter, the app's seed module
        [sys.executable, "-m", "catalog.seed", "--products", str(products)],
        env=app_env(database_name=name),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise BenchSetupError(f"catalog.seed failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    rows = json.loads(done.stdout.strip().splitlines()[-1])
    seconds = time.perf_counter() - started
    counts = {k: int(v) for k, v in rows.items() if k != "seconds"}
    return SeedReport(database=name, products=products, seconds=round(seconds, 2), rows=counts)


# ---------------------------------------------------------------- the app under uvicorn


@dataclass
class AppServer:
    """`python -m catalog serve` (uvicorn, one worker) on its own port, stopped by PID."""

    database: str
    redis_port: int
    strategy: str = "cache-aside"
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait until /healthz answers."""
        env = app_env(
            host=HOST,
            port=self.port,
            database_name=self.database,
            redis_port=self.redis_port,
            cache_strategy=self.strategy,
            # Longer than any run, so entries expire only when the benchmark says so.
            cache_ttl_seconds=3600,
            bench_routes=True,
            log_level="WARNING",
            shutdown_timeout_seconds=3,
        )
        env.update(self.extra_env)
        self._log = tempfile.NamedTemporaryFile(prefix="bench-app-", suffix=".log")  # noqa: SIM115 - kept open while the server runs
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "catalog", "serve"], env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise BenchSetupError(f"catalog serve exited with {self._proc.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as response:  # noqa: S310 - our loopback URL
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise BenchSetupError(f"catalog serve did not answer /healthz within {timeout} s: {self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the server's output."""
        if self._log is None:
            return ""
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")[-chars:]

    def get(self, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
        """One GET (setup and warm-up only; load comes from wrk)."""
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=timeout) as response:  # noqa: S310
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as exc:
            return int(exc.code), bytes(exc.read())

    def json(self, path: str) -> object:
        """GET and decode JSON."""
        status, body = self.get(path)
        if status != 200:
            raise BenchSetupError(f"GET {path} answered {status}: {body[:200]!r}")
        return json.loads(body)

    def kill(self) -> None:
        """SIGKILL our server: a task that dies with no shutdown at all (OOM, a lost host)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM to our server (graceful shutdown), SIGKILL if it lingers."""
        if self._proc is not None:
            _stop_process(self._proc)
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> AppServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
