"""The `jiuzhutong` command: serve, migrate, create-staff, ensure-demo-staff, import-divisions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from jiuzhutong import __version__
from jiuzhutong.contract import Role, StaffCreate
from jiuzhutong.logs import setup_logging
from jiuzhutong.settings import Settings, SettingsError

if TYPE_CHECKING:
    from jiuzhutong.service import Services

EXIT_OK, EXIT_INVALID, EXIT_CONFIG = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jiuzhutong", description="救助通服务")
    p.add_argument("--version", action="version", version=f"jiuzhutong {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_db(cmd: argparse.ArgumentParser) -> argparse.ArgumentParser:
        cmd.add_argument(
            "--db", metavar="URL", help="数据库地址（默认 JZT_DATABASE_URL 或数据目录中的 SQLite）"
        )
        return cmd

    serve = with_db(sub.add_parser("serve", help="启动 HTTP 服务"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)

    with_db(sub.add_parser("migrate", help="把数据库结构升级到当前版本"))

    staff = with_db(sub.add_parser("create-staff", help="创建工作人员账号"))
    staff.add_argument("--username", required=True)
    staff.add_argument("--role", required=True, choices=[r.value for r in Role])
    staff.add_argument("--region", required=True, help="服务区域的行政区划代码，如 420106")
    staff.add_argument("--display-name", help="姓名（默认同用户名）")
    staff.add_argument(
        "--password-stdin", action="store_true", help="从标准输入读取密码（否则随机生成并显示一次）"
    )

    demo = with_db(sub.add_parser("ensure-demo-staff", help="没有任何账号时创建示例经办人 demo"))
    demo.add_argument("--json", action="store_true", help="以 JSON 输出结果")

    divisions = with_db(sub.add_parser("import-divisions", help="导入街道、社区区划（CSV）"))
    divisions.add_argument("file", type=Path, metavar="FILE")
    return p


def _settings(db: str | None) -> Settings:
    settings = Settings()
    if db:
        settings = settings.model_copy(update={"database_url": db})
    return settings


def _services(settings: Settings) -> Services:
    from jiuzhutong.service import build_services

    services = build_services(settings)
    services.prepare()  # SQLite migrates itself; PostgreSQL must already be at head
    return services


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def cmd_serve(args: argparse.Namespace) -> int:
    from jiuzhutong.server import create_app
    from jiuzhutong.server.run import serve

    settings = _settings(args.db)
    setup_logging(settings.log_level)
    app = create_app(settings)
    serve(app, args.host, args.port)
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace) -> int:
    from jiuzhutong.store import Database
    from jiuzhutong.store import migrate as migrations

    settings = _settings(args.db)
    setup_logging(settings.log_level)
    database = Database(settings.resolved_database_url)
    try:
        before = migrations.current_revision(database)
        after = migrations.upgrade(database)
    finally:
        database.dispose()
    if before == after:
        print(f"数据库已是最新版本（{after}）")
    else:
        print(f"数据库已从 {before or '空库'} 升级到 {after}")
    return EXIT_OK


def _default_display_name(username: str) -> str:
    # display names are person names (letters only); a username like "li.wei2" is not one
    try:
        StaffCreate.model_validate(
            {
                "username": "x" * 3,
                "password": "x" * 10,
                "display_name": username,
                "role": "clerk",
                "region": "42",
            }
        )
        return username
    except ValidationError:
        return "工作人员"


def cmd_create_staff(args: argparse.Namespace) -> int:
    from jiuzhutong.security import generate_password
    from jiuzhutong.service.errors import ServiceError

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        generated = False
    else:
        password = generate_password()
        generated = True
    try:
        data = StaffCreate(
            username=args.username,
            password=password,
            display_name=args.display_name or _default_display_name(args.username),
            role=Role(args.role),
            region=args.region,
        )
    except ValidationError as exc:
        from jiuzhutong.server.validation import translate

        for item in translate(exc.errors()):
            _err(f"{item.field or '参数'}：{item.message}")
        return EXIT_INVALID
    services = _services(_settings(args.db))
    try:
        out = services.staff.create_unchecked(data)
    except ServiceError as exc:
        for p in exc.problems:
            _err(f"{p.field or '参数'}：{p.message}")
        return EXIT_INVALID
    finally:
        services.close()
    print(f"已创建工作人员 {out.username}（{out.role.value}，{out.region_name} {out.region}）")
    if generated:
        print(f"初始密码（只显示这一次）：{password}")
    return EXIT_OK


def cmd_ensure_demo_staff(args: argparse.Namespace) -> int:
    services = _services(_settings(args.db))
    try:
        demo = services.staff.ensure_demo()
    finally:
        services.close()
    if args.json:
        out = {"created": True, "username": demo.username, "password": demo.password}
        print(json.dumps(out if demo.created else {"created": False}, ensure_ascii=False))
    elif demo.created:
        print(f"已创建示例经办人 {demo.username}，密码（只显示这一次）：{demo.password}")
    else:
        print("已有工作人员账号，未创建示例账号")
    return EXIT_OK


def cmd_import_divisions(args: argparse.Namespace) -> int:
    from jiuzhutong.service.errors import Invalid

    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        _err(f"无法读取文件 {args.file}：{exc}")
        return EXIT_INVALID
    services = _services(_settings(args.db))
    try:
        count = services.divisions.import_text(text)
    except Invalid as exc:
        _err(f"{args.file} 有 {len(exc.problems)} 处错误，未导入任何数据：")
        for p in exc.problems:
            _err(f"  {p.message}")
        return EXIT_INVALID
    finally:
        services.close()
    print(f"已导入 {count} 条街道、社区区划（正在运行的服务重启后生效）")
    return EXIT_OK


COMMANDS = {
    "serve": cmd_serve,
    "migrate": cmd_migrate,
    "create-staff": cmd_create_staff,
    "ensure-demo-staff": cmd_ensure_demo_staff,
    "import-divisions": cmd_import_divisions,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from jiuzhutong.store.errors import DatabaseUnavailable, SchemaNotAtHead

    try:
        return COMMANDS[args.command](args)
    except SchemaNotAtHead as exc:
        _err(
            f"数据库结构版本为 {exc.current or '空库'}，本程序需要 {exc.head}，拒绝启动。"
            "请先运行：jiuzhutong migrate --db URL"
        )
        return EXIT_CONFIG
    except DatabaseUnavailable as exc:
        _err(f"无法使用数据库：{exc}")
        return EXIT_CONFIG
    except SettingsError as exc:
        _err(f"配置错误：{exc}")
        return EXIT_CONFIG


if __name__ == "__main__":
    raise SystemExit(main())
