"""`counter-tui [--backend URL] [--data-dir DIR] [--counter-id ID]`.

With --backend the app talks to that jiuzhutong service. Without it, it starts a local one
(see ``embedded``) on a SQLite file in the data directory and stops it on exit.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from counter_tui import __version__

if TYPE_CHECKING:
    from counter_tui.client import ApiClient
    from counter_tui.embedded import DemoCredentials

EMBEDDED_LABEL = "本机内置服务"
# Textual's built-in themes, named here so --help needs no Textual import.
THEMES = ("textual-dark", "textual-light", "textual-ansi")


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("counter-tui"))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="counter-tui",
        description="湖北救助通柜台终端：为来窗口的居民办理最低生活保障申请。",
    )
    parser.add_argument(
        "--backend",
        metavar="URL",
        help="jiuzhutong 服务地址，例如 http://10.0.0.5:8000；不给出时启动本机内置服务",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        help=f"内置服务的数据目录（默认 {default_data_dir()}）",
    )
    parser.add_argument(
        "--counter-id", metavar="ID", default="counter-1", help="本窗口编号（默认 counter-1）"
    )
    parser.add_argument(
        "--theme",
        choices=THEMES,
        help="界面主题：textual-dark（默认）、textual-light、textual-ansi（跟随终端配色）",
    )
    parser.add_argument("--version", action="version", version=f"counter-tui {__version__}")
    return parser.parse_args(argv)


def _run(
    base_url: str,
    args: argparse.Namespace,
    *,
    demo: DemoCredentials | None = None,
    backend_label: str = "",
) -> None:
    # Textual is imported only now: --help and a failing embedded start stay fast.
    from counter_tui.app import CounterApp

    def make_client() -> ApiClient:
        # httpx and the contract load at the first request, after the login screen is drawn
        from counter_tui.client import ApiClient

        return ApiClient(base_url)

    app = CounterApp(
        make_client,
        data_dir=args.data_dir or default_data_dir(),
        counter_id=args.counter_id,
        theme=args.theme,
        demo=demo,
        backend_label=backend_label or base_url,
        handle_signals=True,
    )
    app.run()


def _import_app() -> None:
    import counter_tui.app
    import counter_tui.client
    import counter_tui.screens.login  # noqa: F401


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.backend:
        _run(args.backend, args)
        return 0

    from counter_tui.embedded import EmbeddedBackend, EmbeddedError

    data_dir = args.data_dir or default_data_dir()
    print(f"正在启动本机内置服务（数据目录 {data_dir}）…", file=sys.stderr, flush=True)
    # The TUI's imports (~0.3 s of CPU) run while the server child boots on another core.
    backend = EmbeddedBackend(data_dir, while_starting=_import_app)
    try:
        backend.start()
    except EmbeddedError as exc:
        print(f"counter-tui: {exc}", file=sys.stderr)
        return 1
    try:
        _run(backend.base_url, args, demo=backend.demo, backend_label=EMBEDDED_LABEL)
    finally:
        # Also on exceptions and Ctrl+C: the server never outlives the terminal.
        backend.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
