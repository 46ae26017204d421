"""A local jiuzhutong server for a counter that has no --backend: one SQLite file, one process.

The server runs as a child process (``python -m jiuzhutong serve``) and is reached over real
HTTP on 127.0.0.1 like any remote backend, so the TUI never imports the server or the store
and SSE will work the same way later. The child is always stopped: by ``stop``/the context
manager on a normal exit or an exception, and on Linux by the kernel if this process dies
without cleaning up (PR_SET_PDEATHSIG), so a dropped SSH session leaves no stray server.

This module is synchronous on purpose: it runs before the Textual app starts and after it
ends, when no event loop is running.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

DB_FILE = "jiuzhutong.sqlite3"
LOG_FILE = "jiuzhutong-server.log"
HOST = "127.0.0.1"


class EmbeddedError(RuntimeError):
    """The local server could not be prepared or started; the message says why, in Chinese."""


@dataclass(frozen=True)
class DemoCredentials:
    """The demo account made on the very first start; shown once on the login screen."""

    username: str
    password: str


def database_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir.resolve() / DB_FILE}"


def free_port(host: str = HOST) -> int:
    """A port free right now (the server binds it a moment later; start() retries a clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # Linux only: the kernel sends SIGTERM to the server when the thread that started it
    # dies, even by SIGKILL, so no server outlives the counter session. start() runs on the
    # main thread before Textual starts any thread, which also keeps preexec_fn safe.
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 == PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class EmbeddedBackend:
    """Start with ``with EmbeddedBackend(data_dir) as backend:``; ``backend.base_url`` is live."""

    def __init__(
        self,
        data_dir: Path,
        *,
        python: str = sys.executable,
        startup_timeout: float = 30.0,
        stop_timeout: float = 5.0,
        setup_timeout: float = 120.0,
        extra_env: dict[str, str] | None = None,
        while_starting: Callable[[], object] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.db_url = database_url(self.data_dir)
        self.log_path = self.data_dir / LOG_FILE
        self.python = python
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.setup_timeout = setup_timeout
        self.extra_env = dict(extra_env or {})
        # Run by start() while the server boots (see serve): e.g. the TUI's own imports.
        self.while_starting = while_starting
        self.demo: DemoCredentials | None = None
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise EmbeddedError("内置服务尚未启动")
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["JZT_DATA_DIR"] = str(self.data_dir)
        if self.port is not None:
            # Remote-authorization links must open this server, not the default port; a hall
            # whose phones reach it under another address sets JZT_PUBLIC_BASE_URL itself.
            env.setdefault("JZT_PUBLIC_BASE_URL", self.base_url)
        env.update(self.extra_env)
        return env

    def _command(self, *args: str) -> list[str]:
        return [self.python, "-m", "jiuzhutong", *args]

    # --- steps -----------------------------------------------------------------------

    def prepare(self) -> DemoCredentials | None:
        """Create the data dir and the demo staff (first start only); returns the credentials
        exactly once, when the account was just created. The TUI never stores the password."""
        # The directory holds residents' data and the development keys: owner only.
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        cmd = self._command("ensure-demo-staff", "--db", self.db_url, "--json")
        try:
            done = subprocess.run(
                cmd,
                env=self._env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self.setup_timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise EmbeddedError(f"内置服务初始化超时（{self.setup_timeout:.0f} 秒）") from exc
        except OSError as exc:
            raise EmbeddedError(f"无法运行内置服务：{exc}") from exc
        stdout = done.stdout.decode(errors="replace")
        stderr = done.stderr.decode(errors="replace")
        if done.returncode != 0:
            raise EmbeddedError(
                f"内置服务初始化失败（退出码 {done.returncode}）：\n{_tail(stderr or stdout)}"
            )
        self.demo = self._parse_demo(stdout, stderr)
        return self.demo

    @staticmethod
    def _parse_demo(stdout: str, stderr: str) -> DemoCredentials | None:
        # The JSON object is the last line: anything a migration prints comes before it.
        lines = [line for line in stdout.strip().splitlines() if line.strip()]
        try:
            data = json.loads(lines[-1])
            created = bool(data["created"])
            if not created:
                return None
            return DemoCredentials(username=str(data["username"]), password=str(data["password"]))
        except (IndexError, KeyError, TypeError, ValueError) as exc:
            raise EmbeddedError(
                f"内置服务初始化输出无法识别：\n{_tail(stdout)}\n{_tail(stderr)}"
            ) from exc

    def serve(self, attempts: int = 3, while_starting: Callable[[], object] | None = None) -> str:
        """Start the server on a free port and wait until /healthz answers; returns base_url.

        ``while_starting`` runs once, right after the first spawn and before the wait: the
        caller's own start-up work (importing the TUI) overlaps the server's."""
        last: EmbeddedError | None = None
        for _ in range(attempts):
            try:
                self._spawn(free_port())
                if while_starting is not None:
                    while_starting()
                    while_starting = None
                self._wait_ready()
                return self.base_url
            except _PortTaken as exc:
                # Another process took the port between free_port() and bind: pick another.
                last = exc
                self._reap()
        raise last or EmbeddedError("内置服务无法启动")

    def start(self) -> EmbeddedBackend:
        try:
            self.prepare()
            self.serve(while_starting=self.while_starting)
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, port: int) -> None:
        self.port = port
        # The child writes to a log file, never to the terminal the TUI draws on, and a pipe
        # nobody reads could fill and stall the server.
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed in _reap
        try:
            self._proc = subprocess.Popen(
                self._command("serve", "--host", HOST, "--port", str(port), "--db", self.db_url),
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        except OSError as exc:
            log.close()
            raise EmbeddedError(f"无法运行内置服务：{exc}") from exc
        self._log = log

    def _log_tail(self) -> str:
        try:
            return _tail(self.log_path.read_text(errors="replace"))
        except OSError:
            return ""

    def _wait_ready(self) -> None:
        # httpx only here: importing this module (for DemoCredentials) stays cheap.
        import httpx

        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        url = f"{self.base_url}/healthz"
        with httpx.Client(timeout=1.0) as http:
            while True:
                code = self._proc.poll()
                if code is not None:
                    tail = self._log_tail()
                    if "address already in use" in tail.lower() or "errno 98" in tail.lower():
                        raise _PortTaken(tail)
                    raise EmbeddedError(
                        f"内置服务启动失败（退出码 {code}）。日志 {self.log_path} 末尾：\n{tail}"
                    )
                try:
                    if http.get(url).status_code == 200:
                        return
                except httpx.TransportError:
                    pass  # not listening yet
                if time.monotonic() > deadline:
                    tail = self._log_tail()
                    self.stop()
                    raise EmbeddedError(
                        f"内置服务在 {self.startup_timeout:.0f} 秒内未就绪。"
                        f"日志 {self.log_path} 末尾：\n{tail}"
                    )
                time.sleep(0.1)

    # --- shutdown --------------------------------------------------------------------

    def stop(self) -> None:
        """Terminate the server, kill it if it does not stop in time. Safe to call twice."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=self.stop_timeout)
        self._reap()

    def _reap(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> EmbeddedBackend:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _PortTaken(EmbeddedError):
    pass
