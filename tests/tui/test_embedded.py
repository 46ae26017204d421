"""counter_tui.embedded: first-start credentials, readiness, failures, and always stopping.

The happy path runs for real in the session fixture; failure modes use a stand-in
"python" (a small shell script) so they are quick and exact.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from counter_tui.embedded import EmbeddedBackend, EmbeddedError, database_url


def test_database_url_is_an_absolute_sqlite_file(tmp_path: Path) -> None:
    assert database_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/jiuzhutong.sqlite3"


def test_credentials_only_on_the_very_first_start(backend: EmbeddedBackend) -> None:
    assert backend.demo is not None  # the session fixture's data dir started empty
    again = EmbeddedBackend(backend.data_dir)
    assert again.prepare() is None  # {"created": false}: nothing to show any more
    assert backend.running
    assert stat.S_IMODE(backend.data_dir.stat().st_mode) == 0o700


def _fake_python(tmp_path: Path, ensure: str, serve: str) -> str:
    """A script answering `<it> -m jiuzhutong <command> ...` with the given shell snippets."""
    script = tmp_path / "fake-python"
    script.write_text(
        f'#!/bin/sh\ncase "$3" in\n  ensure-demo-staff) {ensure} ;;\n  serve) {serve} ;;\nesac\n'
    )
    script.chmod(0o755)
    return str(script)


CREATED_FALSE = "echo 'INFO upgrade'; echo '{\"created\": false}'"


def test_server_that_dies_reports_exit_code_and_log_tail(tmp_path: Path) -> None:
    python = _fake_python(tmp_path, CREATED_FALSE, "echo 'boom: no such table' >&2; exit 3")
    backend = EmbeddedBackend(tmp_path / "data", python=python)
    with pytest.raises(EmbeddedError) as info:
        backend.start()
    assert "退出码 3" in str(info.value) and "boom: no such table" in str(info.value)
    assert not backend.running


def test_server_that_never_answers_times_out_and_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    # Ignores SIGTERM, so stop() has to kill it.
    serve = f"trap '' TERM; echo $$ > {pid_file}; echo 'still starting' >&2; exec sleep 30"
    python = _fake_python(tmp_path, CREATED_FALSE, serve)
    backend = EmbeddedBackend(
        tmp_path / "data", python=python, startup_timeout=1.0, stop_timeout=0.5
    )
    started = time.monotonic()
    with pytest.raises(EmbeddedError) as info:
        backend.start()
    assert time.monotonic() - started < 5
    assert "未就绪" in str(info.value) and "still starting" in str(info.value)
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_setup_failure_shows_its_stderr(tmp_path: Path) -> None:
    python = _fake_python(tmp_path, "echo 'database is locked' >&2; exit 2", "exit 0")
    with pytest.raises(EmbeddedError) as info:
        EmbeddedBackend(tmp_path / "data", python=python).start()
    assert "退出码 2" in str(info.value) and "database is locked" in str(info.value)


def test_unreadable_setup_output(tmp_path: Path) -> None:
    python = _fake_python(tmp_path, "echo 'not json'", "exit 0")
    with pytest.raises(EmbeddedError, match="无法识别"):
        EmbeddedBackend(tmp_path / "data", python=python).prepare()


def test_first_start_credentials_are_parsed(tmp_path: Path) -> None:
    created = 'echo \'{"created": true, "username": "demo", "password": "s3cret-pw"}\''
    python = _fake_python(tmp_path, created, "exit 0")
    demo = EmbeddedBackend(tmp_path / "data", python=python).prepare()
    assert demo is not None and (demo.username, demo.password) == ("demo", "s3cret-pw")


def test_context_manager_stops_the_server_on_exceptions(tmp_path: Path) -> None:
    # A stand-in server that answers /healthz with python's own http.server.
    import sys

    serve = (
        f'shift 3; port=$4; exec {sys.executable} -c "'
        "import http.server,sys;"
        "h=type('H',(http.server.BaseHTTPRequestHandler,),"
        "{'do_GET':lambda s:(s.send_response(200),s.end_headers()),"
        "'log_message':lambda *a:None});"
        "http.server.HTTPServer(('127.0.0.1',int(sys.argv[1])),h).serve_forever()"
        '" $port'
    )
    python = _fake_python(tmp_path, CREATED_FALSE, serve)
    backend = EmbeddedBackend(tmp_path / "data", python=python)
    with pytest.raises(RuntimeError, match="screen crashed"), backend:
        assert backend.running
        proc = backend._proc
        assert proc is not None
        raise RuntimeError("screen crashed")
    assert not backend.running
    assert proc.returncode is not None
    backend.stop()  # twice is fine


def test_child_output_goes_to_the_log_not_the_terminal(tmp_path: Path) -> None:
    python = _fake_python(tmp_path, CREATED_FALSE, "echo 'uvicorn says hi'; exit 1")
    result = subprocess.run(
        [
            os.sys.executable,  # type: ignore[attr-defined]
            "-c",
            "from pathlib import Path; from counter_tui.embedded import EmbeddedBackend as E\n"
            "try:\n"
            f"    E(Path({str(tmp_path / 'data')!r}), python={python!r}).start()\n"
            "except Exception: pass",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "uvicorn says hi" not in result.stdout + result.stderr
    assert "uvicorn says hi" in (tmp_path / "data" / "jiuzhutong-server.log").read_text()
