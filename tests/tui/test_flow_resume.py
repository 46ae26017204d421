"""A dropped session loses nothing: counter-tui as a real process in a pty (16 colours, 80x24)
against the shared test server, through a TCP relay that can be cut like a network cable.

Type into 基本信息, wait for 已保存, cut the network, type more (banner; outbox file), kill -9
the process, restore the network, start again, log in, continue the draft: every field is
back at the same step, the offline edit included, and it has reached the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import socket
import stat
import sys
import threading
import time
from pathlib import Path

import pytest

from counter_tui.client import ApiClient
from counter_tui.embedded import DemoCredentials, EmbeddedBackend, free_port
from jiuzhutong.domain.idnumber import mask_id_number

from .conftest import synthetic_id
from .test_flow_support import quick_autosave, tui_data_dir  # noqa: F401

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty")

_ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[\]P_^][^\x07\x1b]*(\x07|\x1b\\)|\x1b.")
F6, F10, TAB, ENTER, CTRL_Q = "\x1b[17~", "\x1b[21~", "\t", "\r", "\x11"


class Relay:
    """127.0.0.1:port → the backend; ``cut`` refuses and drops every connection."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self._listener is not None:
            # shutdown first: a bare close leaves the thread blocked in accept() listening.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for s in self._open:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._open.clear()


class Terminal:
    """counter-tui in a pty; ``expect`` waits for text on the screen (escapes stripped)."""

    def __init__(self, backend_url: str, xdg: Path) -> None:
        import fcntl
        import pty
        import struct
        import termios

        pid, fd = pty.fork()
        if pid == 0:  # child: the real entry point, 16 colours, 80x24, this test's data dir
            os.environ.update(
                {"TERM": "xterm", "COLUMNS": "80", "LINES": "24", "XDG_DATA_HOME": str(xdg)}
            )
            os.environ.pop("COLORTERM", None)
            os.execv(
                sys.executable, [sys.executable, "-m", "counter_tui", "--backend", backend_url]
            )
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.pid, self.fd = pid, fd
        self._raw = b""
        self._seen = 0  # text before this offset was matched already

    def _text(self) -> str:
        return _ANSI.sub(b"", self._raw).decode(errors="replace")

    def expect(self, *needles: str, timeout: float = 30.0, settle: float = 0.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self._text()[self._seen :]
            if all(n in text for n in needles):
                self._seen += max(text.index(n) + len(n) for n in needles)
                # A new screen is drawn before its focus is set: let it settle.
                time.sleep(settle)
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {needles!r}; screen ended with:\n{text[-1500:]}")
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"counter-tui ended; last screen:\n{text[-1500:]}")
                self._raw += chunk

    def send(self, *keys: str, pause: float = 0.08) -> None:
        for key in keys:
            os.write(self.fd, key.encode())
            time.sleep(pause)

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())
        time.sleep(0.15)

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)

    def quit(self) -> int:
        self.send(CTRL_Q)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            with contextlib.suppress(OSError):
                select.select([self.fd], [], [], 0.1)
                os.read(self.fd, 65536)
        self.kill()
        return -9


def _log_in_and_continue(term: Terminal, demo: DemoCredentials, name: str, number: str) -> None:
    term.expect("柜台登录", "服务已连接", settle=0.3)
    term.type(demo.username)
    term.send(TAB)
    term.type(demo.password)
    term.send(ENTER)
    term.expect("最低生活保障申请", settle=0.3)
    term.send(ENTER)  # the entry is focused: 告知书
    term.expect("我已阅读并承诺", settle=0.3)
    term.send(F6, F10)  # read aloud at the counter
    term.expect("为谁申请", settle=0.5)
    term.type(name)
    term.send(TAB)
    term.type(number)


async def _wait_for(check, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    import asyncio

    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


async def test_kill_9_offline_then_restart_continues_with_every_field(
    backend: EmbeddedBackend,
    demo: DemoCredentials,
    api: ApiClient,
    tui_data_dir: Path,  # noqa: F811
) -> None:
    name, number = "测试断电", synthetic_id()
    relay = Relay(backend.port or 0)
    relay.start()
    url = f"http://127.0.0.1:{relay.port}"
    xdg = tui_data_dir.parent
    outbox = tui_data_dir / "outbox.json"

    first = Terminal(url, xdg)
    try:
        _log_in_and_continue(first, demo, name, number)
        first.send(ENTER)  # Enter in the last field: create the draft
        first.expect("[基本信息]", "已保存", settle=0.3)
        first.type("汉族")  # the cursor waits in 民族, the first field needing input
        first.send(TAB)

        async def saved_ethnicity() -> bool:
            found = await api.lookup_drafts(number)
            if not found:
                return False
            return (await api.get_draft(found[0].id)).applicant.details.ethnicity == "汉族"

        assert await _wait_for(saved_ethnicity)
        first.expect("已保存")

        relay.cut()  # the network goes; the clerk goes on typing
        first.type("13700001234")
        first.send(TAB)
        first.expect("无法连接服务，修改已保留，恢复后自动提交")
        kept = json.loads(outbox.read_text(encoding="utf-8"))["entries"]
        assert kept[0]["body"]["details"]["phone"] == "13700001234"
        assert stat.S_IMODE(os.stat(outbox).st_mode) == 0o600
    finally:
        first.kill()  # kill -9: no cleanup, no last save
    draft_id = (await api.lookup_drafts(number))[0].id
    assert (await api.get_draft(draft_id)).applicant.details.phone is None

    relay.start()  # the network is back
    second = Terminal(url, xdg)
    try:
        _log_in_and_continue(second, demo, name, number)
        second.send(TAB)  # leaving the ID number finds the unfinished draft
        second.expect("该申请人有未完成的申请", "继续填写", settle=0.3)
        second.send(ENTER)  # 继续填写
        screen = second.expect("[基本信息]", "已保存", "13700001234", "汉族")
        assert mask_id_number(number) in screen and name in screen
        assert "湖北省武汉市武昌区" in screen  # 户籍所在地 kept from the first run
        assert second.quit() == 0
    finally:
        if second.pid:
            with contextlib.suppress(ChildProcessError, OSError):
                second.kill()
        relay.cut()

    draft = await api.get_draft(draft_id)
    d = draft.applicant.details
    assert (d.ethnicity, d.phone, d.hukou_division) == ("汉族", "13700001234", "420106")
    assert draft.step == "basic_info" and draft.notice_version is not None
    assert not outbox.exists()
