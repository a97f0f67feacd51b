"""Private Redis, Memcached and PostgreSQL servers for tests that stop, pause or break them (never the shared ones)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is valid and free too.

    A cluster-enabled redis-server refuses to start when port + 10000 is above 65535, which an
    ephemeral port from the kernel often is.
    """
    for _ in range(200):
        port = free_port()
        if port > 55535:
            port -= 20000
        if _port_is_free(port) and _port_is_free(port + 10000):
            return port
    raise RuntimeError("no free port pair (port, port + 10000) for a cluster-enabled redis-server")


def make_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost: (certificate, key, CA)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=test-ca",
        "-days",
        "1",
    )
    openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"
    )
    (directory / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "1", "-extfile", "san.cnf",
    )  # fmt: skip
    return directory / "server.pem", directory / "server.key", directory / "ca.pem"


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


class RedisServer:
    """A redis-server child process on a free port: start, stop, pause (SIGSTOP) and resume.

    `tls` is (certificate, key, CA): the server then speaks TLS only, on the same port.
    """

    def __init__(
        self, *, password: str | None = None, tls: tuple[Path, Path, Path] | None = None, cluster: bool = False
    ) -> None:
        self.port = free_cluster_port() if cluster else free_port()
        self.password = password
        self.tls = tls
        self.cluster = cluster
        self.process: subprocess.Popen[bytes] | None = None
        self.workdir = Path(tempfile.mkdtemp(prefix="catalog-redis-"))

    def _args(self) -> list[str]:
        args = ["redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        args += ["--daemonize", "no", "--dir", str(self.workdir)]
        if self.tls:
            cert, key, ca = self.tls
            args += ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(cert)]
            args += ["--tls-key-file", str(key), "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "no"]
        else:
            args += ["--port", str(self.port)]
        if self.password:
            args += ["--requirepass", self.password]
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-config-file", str(self.workdir / "nodes.conf")]
        return args

    def start(self) -> RedisServer:
        """Start (again, on the same port) and wait until it accepts connections."""
        self.process = subprocess.Popen(self._args(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        if self.cluster:
            # A one-node cluster: this node serves all 16384 slots.
            subprocess.run(
                ["redis-cli", "-p", str(self.port), "cluster", "addslotsrange", "0", "16383"],
                check=True,
                capture_output=True,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                info = subprocess.run(
                    ["redis-cli", "-p", str(self.port), "cluster", "info"], capture_output=True, text=True, check=True
                ).stdout
                if "cluster_state:ok" in info:
                    break
                time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Terminate the server (its data is gone: it keeps nothing on disk)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def pause(self) -> None:
        """SIGSTOP: connections stay open but nothing answers (a slow or hung Redis)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after `pause`."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def close(self) -> None:
        """Stop and remove the working directory."""
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


class PostgresServer:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl) on a free port, run as the `postgres` OS user when root."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="catalog-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.running = False
        self._tls: tuple[Path, Path] | None = None
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses to run as root: hand the directory to the postgres user and run as it.
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run([*self._as_user, *args], check=True, capture_output=True, timeout=timeout)

    def init(self) -> PostgresServer:
        """Create the cluster (trust auth, superuser postgres)."""
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"
        )
        return self

    def enable_tls(self) -> Path:
        """Serve TLS too (a throwaway CA's certificate for 127.0.0.1) from the next `start`; returns the CA file."""
        directory = self.root / "tls"
        directory.mkdir()
        cert, key, ca = make_tls_files(directory)
        key.chmod(0o600)  # PostgreSQL refuses a key others can read
        if self._as_user:
            entry = pwd.getpwnam("postgres")
            for path in (directory, cert, key):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._tls = (cert, key)
        return ca

    def require_password(self, role: str, *, tls_only: bool = False) -> None:
        """Make `role` log in over TCP with its SCRAM password (everyone else stays on trust); before `start`.

        `tls_only`: and only over TLS, as RDS takes IAM tokens (a plain connection of the role is rejected).
        """
        hba = self.data / "pg_hba.conf"
        lines = [f"{'hostssl' if tls_only else 'host'} all {role} 127.0.0.1/32 scram-sha-256"]
        if tls_only:
            lines.append(f"hostnossl all {role} 127.0.0.1/32 reject")
        hba.write_text("\n".join(lines) + "\n" + hba.read_text())

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        if self._tls:
            cert, key = self._tls
            options += f" -c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "30", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop it: `fast` rolls back open transactions and disconnects; `immediate` is a crash."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")
        self.running = False

    def close(self) -> None:
        """Stop and delete the cluster."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


REPO = Path(__file__).resolve().parents[2]


def ensure_packages(*packages: str) -> None:
    """Install missing Debian packages through the repository's one installer (a fresh CI machine has none)."""
    subprocess.run([str(REPO / "tools" / "apt-install"), *packages], check=True, timeout=600)


class MemcachedServer:
    """A memcached child process on a free port (Debian's `memcached`): start, stop, pause and resume.

    `tls` is (certificate, key, CA): the server then speaks TLS only, on the same port.
    """

    def __init__(self, *, tls: tuple[Path, Path, Path] | None = None, memory_mb: int = 64) -> None:
        self.port = free_port()
        self.tls = tls
        self.memory_mb = memory_mb
        self.process: subprocess.Popen[bytes] | None = None

    def _args(self) -> list[str]:
        args = ["memcached", "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", str(self.memory_mb)]
        if os.geteuid() == 0:
            args += ["-u", "nobody"]  # memcached refuses to run as root without -u
        if self.tls:
            cert, key, _ = self.tls
            args += ["-Z", "-o", f"ssl_chain_cert={cert},ssl_key={key}"]
        return args

    def start(self) -> MemcachedServer:
        """Start (again, on the same port; empty: memcached keeps nothing) and wait for connections."""
        self.process = subprocess.Popen(self._args(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        """Terminate the server; its data is gone."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def pause(self) -> None:
        """SIGSTOP: connections stay open but nothing answers (a hung node)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after `pause`."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def _ask(self, command: bytes) -> bytes:
        # The plain text protocol, no client library: what the server really holds.
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(command + b"\r\n")
            data = b""
            while not data.endswith(b"END\r\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        return data

    def get(self, key: str) -> bytes | None:
        """The value stored under `key`, or None."""
        data = self._ask(b"get " + key.encode())
        if data == b"END\r\n":
            return None
        header, rest = data.split(b"\r\n", 1)
        length = int(header.split()[3])
        return rest[:length]

    def stats(self) -> dict[str, str]:
        """The server's `stats`."""
        data = self._ask(b"stats")
        stats = {}
        for line in data.decode().splitlines():
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[0] == "STAT":
                stats[parts[1]] = parts[2]
        return stats

    def items(self) -> int:
        """Items stored right now."""
        return int(self.stats()["curr_items"])


class ConfigEndpoint:
    """What an ElastiCache for Memcached configuration endpoint answers to `config get cluster`.

    Memcached itself has no such command (it is ElastiCache's); this small server answers it in the
    documented format with the nodes it is given, so auto discovery is exercised against real nodes.
    """

    def __init__(self, nodes: list[int]) -> None:
        self.nodes = nodes
        self.version = 1
        self.port = free_port()
        self.requests = 0
        self._server: Any = None

    def set_nodes(self, nodes: list[int]) -> None:
        """Change the cluster (a node added, removed or replaced): a new configuration version."""
        self.nodes = nodes
        self.version += 1

    def _reply(self) -> bytes:
        listed = " ".join(f"127.0.0.1|127.0.0.1|{port}" for port in self.nodes)
        body = f"{self.version}\n{listed}\n".encode()
        return b"CONFIG cluster 0 %d\r\n%s\r\nEND\r\n" % (len(body), body)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                if line.strip() == b"config get cluster":
                    self.requests += 1
                    writer.write(self._reply())
                else:
                    writer.write(b"ERROR\r\n")
                await writer.drain()
        finally:
            writer.close()

    async def start(self) -> ConfigEndpoint:
        """Listen on 127.0.0.1:port in the running event loop."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def close(self) -> None:
        """Stop listening."""
        self._server.close()
        await self._server.wait_closed()
