"""The home screen's entries: the product's four flows, each naming the screen that does it.

An entry whose ``screen`` is None is not built yet and is not shown: a clerk at the counter
must never choose something that only says "coming soon". Screens are named as
"module:Class" strings and imported only when opened, so start-up stays fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from textual.screen import Screen

from jiuzhutong.contract import Role

# Roles that process cases after the window has filed them.
CASE_WORK_ROLES = frozenset({Role.township, Role.county, Role.investigator, Role.admin})


@dataclass(frozen=True)
class Entry:
    key: str
    title: str
    # "counter_tui.screens.notice:NoticeScreen"; None = not built yet. The screen is built
    # without arguments and reaches the client and the session through its app.
    screen: str | None
    roles: frozenset[Role] | None = None  # None: every role

    def allows(self, role: Role) -> bool:
        return self.roles is None or role in self.roles


ENTRIES: tuple[Entry, ...] = (
    Entry("dibao", "最低生活保障申请", "counter_tui.screens.notice:NoticeScreen"),
    Entry("my_cases", "我的办件", None),
    Entry("help_request", "我要救助", None),
    Entry("workbench", "工作台", None, roles=CASE_WORK_ROLES),
)


def available(role: Role, registry: tuple[Entry, ...] | None = None) -> list[Entry]:
    """Entries this role may open and that exist, in registry order."""
    registry = ENTRIES if registry is None else registry
    return [e for e in registry if e.screen is not None and e.allows(role)]


def load_screen(entry: Entry) -> type[Screen]:
    """Import the entry's screen class on first use."""
    if entry.screen is None:
        raise LookupError(f"entry {entry.key!r} has no screen")
    module_name, _, class_name = entry.screen.partition(":")
    screen = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(screen, type) and issubclass(screen, Screen)):
        raise TypeError(f"{entry.screen} is not a Screen")
    return screen
