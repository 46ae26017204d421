"""The `counter-tui` command: arguments, the embedded start, and a real run over a pty."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from counter_tui import __main__ as cli
from counter_tui.embedded import EmbeddedBackend, EmbeddedError


def test_defaults() -> None:
    args = cli.parse_args([])
    assert args.backend is None and args.data_dir is None and args.counter_id == "counter-1"
    assert "counter-tui" in str(cli.default_data_dir())


def test_backend_url_skips_the_embedded_server(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(cli, "_run", lambda url, args, **kw: calls.append((url, args.counter_id)))
    monkeypatch.setattr(EmbeddedBackend, "start", lambda self: pytest.fail("must not start"))
    assert cli.main(["--backend", "http://10.0.0.5:8000", "--counter-id", "w-2"]) == 0
    assert calls == [("http://10.0.0.5:8000", "w-2")]


def test_embedded_failure_is_a_clear_message_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(self: EmbeddedBackend) -> EmbeddedBackend:
        raise EmbeddedError("内置服务启动失败（退出码 3）")

    monkeypatch.setattr(EmbeddedBackend, "start", fail)
    monkeypatch.setattr(cli, "_run", lambda *a, **k: pytest.fail("must not run the app"))
    assert cli.main(["--data-dir", str(tmp_path)]) == 1
    assert "内置服务启动失败（退出码 3）" in capsys.readouterr().err


def test_app_crash_still_stops_the_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    events: list[str] = []
    monkeypatch.setattr(EmbeddedBackend, "start", lambda self: events.append("start") or self)
    monkeypatch.setattr(EmbeddedBackend, "stop", lambda self: events.append("stop"))
    monkeypatch.setattr(EmbeddedBackend, "base_url", "http://127.0.0.1:1")

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_run", crash)
    with pytest.raises(RuntimeError):
        cli.main(["--data-dir", str(tmp_path)])
    assert events == ["start", "stop"]


# --- a real run ----------------------------------------------------------------------

_ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[\]P_^][^\x07\x1b]*(\x07|\x1b\\)|\x1b.")


def _read_until(fd: int, needles: list[str], timeout: float) -> str:
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            text = _ANSI.sub(b"", out).decode(errors="replace")
            if all(n in text for n in needles):
                return text
    return _ANSI.sub(b"", out).decode(errors="replace")


def _processes_mentioning(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline and "serve" in cmdline:
                found.append(int(entry.name))
    return found


def _run_once(data_dir: Path) -> tuple[str, int]:
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # child: the real console script entry point, 16 colours, 80x24
        os.environ.update({"TERM": "xterm", "COLUMNS": "80", "LINES": "24"})
        os.environ.pop("COLORTERM", None)
        os.execv(
            sys.executable,
            [sys.executable, "-m", "counter_tui", "--data-dir", str(data_dir)],
        )
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        text = _read_until(fd, ["柜台登录", "服务已连接"], timeout=40)
        os.write(fd, b"\x11")  # Ctrl+Q
        _read_until(fd, ["\x00never"], timeout=0.5)  # drain while it exits
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    return text, os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty and /proc")
def test_counter_tui_starts_embedded_server_and_stops_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "counter-data"
    first, code = _run_once(data_dir)
    assert code == 0, first[-2000:]
    assert "柜台登录" in first and "示例账号 demo / 密码" in first
    assert _processes_mentioning(str(data_dir)) == []  # the server went with the app
    assert (data_dir / "jiuzhutong.sqlite3").exists()
    # Later starts show no hint: test_embedded and test_login check that without paying
    # for a second full start here.


def test_help_runs_without_textual() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "counter_tui", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--backend" in done.stdout
    assert "textual" not in done.stderr  # -X importtime lists every module imported
