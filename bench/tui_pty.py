"""A process on a real pseudo-terminal, with every byte it writes recorded and time-stamped.

``PtyProcess(argv, env, cols, rows)`` forks on a new pty (``pty.fork``: the child gets a new
session with the pty as its controlling terminal), sets the window size with TIOCSWINSZ
before the program starts, and reads the master side on a thread, so the program never
blocks on a full pty buffer. Helpers wait for text in the output and for the output to go
quiet; ``mark()``/``since()`` count the bytes of one action.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import signal
import struct
import termios
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

# What a terminal sends for the keys the benchmark presses (xterm, normal cursor mode).
KEYS: dict[str, bytes] = {
    "tab": b"\t",
    "shift+tab": b"\x1b[Z",
    "enter": b"\r",
    "escape": b"\x1b",
    "down": b"\x1b[B",
    "up": b"\x1b[A",
    "left": b"\x1b[D",
    "right": b"\x1b[C",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
    "f1": b"\x1bOP",
    "f2": b"\x1bOQ",
    "f5": b"\x1b[15~",
    "f6": b"\x1b[17~",
    "f9": b"\x1b[20~",
    "f10": b"\x1b[21~",
    "ctrl+q": b"\x11",
}

_ESCAPES = re.compile(
    rb"\x1b(\[[0-9;?<=>$ ]*[ -/]*[@-~]"  # CSI
    rb"|\][^\x07\x1b]*(\x07|\x1b\\)"  # OSC
    rb"|P[^\x1b]*\x1b\\"  # DCS
    rb"|[()][0-9A-Za-z]|[=>78DEHMNOZc])"
)


def plain(data: bytes) -> str:
    """The text of terminal output with the escape sequences removed (for markers, debugging)."""
    return _ESCAPES.sub(b"", data).decode("utf-8", "replace")


class Timeout(RuntimeError):
    pass


@dataclass
class Chunk:
    t: float
    end: int  # offset in the stream after this chunk


class PtyProcess:
    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str],
        cols: int = 80,
        rows: int = 24,
        cwd: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self.cols, self.rows = cols, rows
        self._buf = bytearray()
        self._chunks: list[Chunk] = []
        self._lock = threading.Condition()
        self._eof = False
        self.t_start = time.monotonic()
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                size = struct.pack("HHHH", rows, cols, 0, 0)
                fcntl.ioctl(0, termios.TIOCSWINSZ, size)
                if cwd:
                    os.chdir(cwd)
                os.execve(self.argv[0], self.argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    # --- reading -------------------------------------------------------------------

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # EIO: the child closed the pty
                data = b""
            now = time.monotonic()
            with self._lock:
                if not data:
                    self._eof = True
                    self._lock.notify_all()
                    return
                self._buf += data
                self._chunks.append(Chunk(now, len(self._buf)))
                self._lock.notify_all()

    @property
    def size(self) -> int:
        with self._lock:
            return len(self._buf)

    def mark(self) -> int:
        return self.size

    def since(self, offset: int) -> bytes:
        with self._lock:
            return bytes(self._buf[offset:])

    def last_output_time(self) -> float | None:
        with self._lock:
            return self._chunks[-1].t if self._chunks else None

    def wait_text(self, text: str, *, start: int = 0, timeout: float = 15.0) -> float:
        """Until ``text`` shows in the plain output after ``start``; returns the time it came."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                if text in plain(bytes(self._buf[start:])):
                    return self._chunks[-1].t
                if self._eof:
                    raise Timeout(f"process ended before {text!r}: {self.tail()!r}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout(f"no {text!r} after {timeout}s: {self.tail()!r}")
                self._lock.wait(min(left, 0.05))

    def wait_quiet(
        self, quiet: float = 0.1, *, after: float | None = None, timeout: float = 15.0
    ) -> float:
        """Until nothing has been written for ``quiet`` s (counted from ``after`` at the
        earliest, e.g. the time a key was sent); returns the last write's time."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                last = self._chunks[-1].t if self._chunks else self.t_start
                if after is not None:
                    last = max(last, after)
                now = time.monotonic()
                if now - last >= quiet or self._eof:
                    return last
                if now > deadline:
                    raise Timeout(f"output not quiet for {quiet}s within {timeout}s")
                self._lock.wait(quiet - (now - last) + 0.001)

    def timeline(self, start: int, t0: float) -> list[tuple[float, int]]:
        """(ms after ``t0``, bytes) of every read since offset ``start``."""
        with self._lock:
            out, prev = [], start
            for c in self._chunks:
                if c.end > start:
                    out.append((round((c.t - t0) * 1000, 1), c.end - max(prev, start)))
                prev = c.end
            return out

    def tail(self, n: int = 600) -> str:
        with self._lock:
            return plain(bytes(self._buf[-4 * n :]))[-n:]

    # --- writing -------------------------------------------------------------------

    def send(self, data: bytes | str) -> float:
        if isinstance(data, str):
            data = data.encode()
        t = time.monotonic()
        os.write(self.fd, data)
        return t

    def key(self, name: str) -> float:
        return self.send(KEYS[name])

    # --- the process ---------------------------------------------------------------

    def rss_kb(self) -> int | None:
        """VmRSS of the process itself (not its children), from /proc."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def poll(self) -> int | None:
        with contextlib.suppress(ChildProcessError):
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self._status = os.waitstatus_to_exitcode(status)
        return getattr(self, "_status", None)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM (the app exits the normal way), then SIGKILL; closes the pty."""
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            if self.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and self.poll() is None:
                time.sleep(0.02)
        self._reader.join(timeout=2.0)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        return self.poll()

    def __enter__(self) -> PtyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
