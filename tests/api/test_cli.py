"""The `jiuzhutong` command: migrate, create-staff, ensure-demo-staff, import-divisions, serve."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest

from jiuzhutong.cli import main
from jiuzhutong.contract import LoginRequest
from jiuzhutong.service import build_services
from jiuzhutong.settings import Settings
from jiuzhutong.store import migrate as migrations

from .conftest import _create_pg_database, _drop_pg_database


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """Run main(argv) in this process against a fresh SQLite file; returns (code, out, err)."""
    for key in list(__import__("os").environ):
        if key.startswith("JZT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("JZT_DATA_DIR", str(tmp_path))
    db = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    # serve and migrate set up logging; put the suite's DEBUG capture back afterwards
    names = ["", "sqlalchemy.engine", "uvicorn", "uvicorn.error", "uvicorn.access"]
    saved = {
        n: (lg.level, list(lg.handlers), lg.propagate)
        for n in names
        for lg in [logging.getLogger(n)]
    }

    def run(*argv: str, stdin: str | None = None, db_url: str | None = db):
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        args = [*argv, "--db", db_url] if db_url else list(argv)
        code = main(args)
        out = capsys.readouterr()
        return code, out.out, out.err

    run.db = db  # type: ignore[attr-defined]
    run.data_dir = tmp_path  # type: ignore[attr-defined]
    yield run
    for name, (level, handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate


def can_log_in(data_dir, db, username, password) -> bool:
    services = build_services(Settings(data_dir=data_dir, database_url=db))
    try:
        services.prepare()
        services.auth.login(LoginRequest(username=username, password=password))
        return True
    except Exception:
        return False
    finally:
        services.close()


def test_migrate(cli):
    code, out, _ = cli("migrate")
    head = migrations.head_revision()  # the newest migration, whichever issue added it
    assert code == 0 and out.strip() == f"数据库已从 空库 升级到 {head}"
    code, out, _ = cli("migrate")
    assert code == 0 and out.strip() == f"数据库已是最新版本（{head}）"


def test_create_staff_with_password_from_stdin(cli):
    code, out, err = cli(
        "create-staff", "--username", "admin.li", "--role", "admin", "--region", "42",
        "--display-name", "李管理", "--password-stdin", stdin="a-very-long-secret\n",
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == "已创建工作人员 admin.li（admin，湖北省 42）"
    assert "a-very-long-secret" not in out
    assert can_log_in(cli.data_dir, cli.db, "admin.li", "a-very-long-secret")
    code, _, err = cli(
        "create-staff", "--username", "admin.li", "--role", "admin", "--region", "42",
        "--password-stdin", stdin="a-very-long-secret\n",
    )  # fmt: skip
    assert code == 1 and err.strip() == "username：该用户名已被使用，请换一个"


def test_create_staff_generates_a_password_once(cli):
    code, out, _ = cli("create-staff", "--username", "clerk.wang", "--role", "clerk",
                       "--region", "420106")  # fmt: skip
    assert code == 0
    first, second = out.strip().splitlines()
    assert first == "已创建工作人员 clerk.wang（clerk，湖北省武汉市武昌区 420106）"
    assert second.startswith("初始密码（只显示这一次）：")
    password = second.split("：", 1)[1]
    assert len(password) >= 16
    assert can_log_in(cli.data_dir, cli.db, "clerk.wang", password)


def test_create_staff_refuses_bad_input(cli):
    code, _, err = cli("create-staff", "--username", "x.y", "--role", "clerk",
                       "--region", "429999")  # fmt: skip
    assert code == 1 and err.strip() == "region：行政区划代码不存在：429999"
    code, _, err = cli("create-staff", "--username", "Bad Name", "--role", "clerk",
                       "--region", "42")  # fmt: skip
    assert code == 1 and "用户名只能包含小写字母、数字" in err
    code, _, err = cli("create-staff", "--username", "short.pw", "--role", "clerk",
                       "--region", "42", "--password-stdin", stdin="short\n")  # fmt: skip
    assert code == 1 and err.strip() == "password：至少需要10个字符"


def test_ensure_demo_staff(cli):
    code, out, _ = cli("ensure-demo-staff", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["created"] is True and data["username"] == "demo" and len(data["password"]) >= 16
    assert can_log_in(cli.data_dir, cli.db, "demo", data["password"])
    code, out, _ = cli("ensure-demo-staff", "--json")
    assert code == 0 and json.loads(out) == {"created": False}


def test_ensure_demo_staff_only_when_there_is_no_staff_at_all(cli):
    cli("create-staff", "--username", "first.one", "--role", "admin", "--region", "42")
    _, out, _ = cli("ensure-demo-staff", "--json")
    assert json.loads(out) == {"created": False}


GOOD_CSV = """# 本县街道社区名单
code,name
420106901,测试街道
420106901001,测试一社区
420106901002,测试二社区
"""

BAD_CSV = """code,name
420106902,好街道
42010690,坏代码
420106902001,
420106999001,孤儿社区
"""


def test_import_divisions(cli, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    code, out, err = cli("import-divisions", str(good))
    assert code == 0, err
    assert out.strip() == "已导入 3 条街道、社区区划（正在运行的服务重启后生效）"
    services = build_services(Settings(data_dir=cli.data_dir, database_url=cli.db))
    try:
        services.prepare()
        names = [d.name for d in services.divisions.children("420106901")]
        assert names == ["测试一社区", "测试二社区"]
        # importing a real list replaced the demo (示例) rows of development
        assert all(not d.sample for d in services.divisions.children("420106"))
    finally:
        services.close()


def test_import_divisions_all_or_nothing(cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    code, out, err = cli("import-divisions", str(bad))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[0] == f"{bad} 有 3 处错误，未导入任何数据："
    assert lines[1:] == [
        "  第3行：代码应为9位（街道）或12位（社区）数字：42010690",
        "  第4行：名称不能为空",
        "  第5行：所属街道（乡镇）420106999不在本文件中",
    ]
    services = build_services(Settings(data_dir=cli.data_dir, database_url=cli.db))
    try:
        services.prepare()
        assert services.divisions.registry.get("420106902") is None  # the good line too
    finally:
        services.close()


def test_import_divisions_missing_file(cli, tmp_path):
    code, _, err = cli("import-divisions", str(tmp_path / "nope.csv"))
    assert code == 1 and err.startswith("无法读取文件")


@pytest.mark.postgres
def test_postgres_is_migrated_deliberately(cli):
    name, url = _create_pg_database()
    try:
        # serve refuses an unmigrated PostgreSQL database instead of migrating it
        code, _, err = cli("serve", "--port", "1", db_url=url)
        assert code == 2
        # (the suite's DEBUG logging also reaches stderr here; the message is the last line)
        head = migrations.head_revision()
        assert err.strip().splitlines()[-1] == (
            f"数据库结构版本为 空库，本程序需要 {head}，拒绝启动。"
            "请先运行：jiuzhutong migrate --db URL"
        )
        code, out, _ = cli("migrate", db_url=url)
        assert code == 0 and out.strip() == f"数据库已从 空库 升级到 {head}"
        code, out, _ = cli("ensure-demo-staff", "--json", db_url=url)
        assert json.loads(out)["created"] is True
    finally:
        _drop_pg_database(name)


def test_unreachable_database_is_a_clear_error(cli):
    code, _, err = cli("migrate", db_url="postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert code == 2 and err.strip().splitlines()[-1].startswith("无法使用数据库：")


def test_python_dash_m(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "jiuzhutong", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0 and r.stdout.strip().startswith("jiuzhutong ")
