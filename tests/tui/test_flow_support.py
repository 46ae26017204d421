"""Helpers and fixtures of the dibao flow tests, and unit tests of the parts without a screen
(step order, step bar, the outbox file).

Other test_flow_* modules import the helpers and fixtures from here. Every person is
synthetic (valid check digits from make_id_number); nothing here is a real resident.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from counter_tui import flow
from counter_tui.autosave import Entry, Outbox, drop_field, merge_update
from counter_tui.screens.basic_info import FieldSpec
from counter_tui.widgets.message_line import MessageLine
from counter_tui.widgets.step_bar import step_bar_text
from jiuzhutong.contract import LoginResponse
from jiuzhutong.domain.idnumber import make_id_number

from .helpers import resume_home, settle

# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def tui_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The TUI data dir (outbox) of this test: never the real user's."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "counter-tui"


@pytest.fixture(autouse=True)
def quick_autosave(monkeypatch: pytest.MonkeyPatch) -> None:
    """The debounce and retry delays, shortened so tests wait less (the logic is the same)."""
    from counter_tui import autosave

    monkeypatch.setattr(autosave, "DEBOUNCE_SECONDS", 0.2)
    monkeypatch.setattr(autosave, "RETRY_SECONDS", 0.5)


# --- people ------------------------------------------------------------------------------

_member_seq = iter(range(1, 999))


def member_id(birth: date = date(1980, 5, 6), division: str = "420106") -> str:
    """A synthetic member ID number, different each call."""
    return make_id_number(division, birth, next(_member_seq))


def impossible_date_id() -> str:
    """A number with a valid check digit whose birth date (1990-02-30) does not exist."""
    from stdnum.cn import ric

    body = "42010619900230123"
    return body + ric.calc_check_digit(body + "0")


# --- driving the app -------------------------------------------------------------------


async def open_flow(pilot: Pilot, session: LoginResponse) -> None:
    """Home on an existing session, then 最低生活保障申请 chosen by keys."""
    await resume_home(pilot, session)
    app = pilot.app
    entries = app.screen.query("#entries")
    if entries:
        entries.first().focus()
        await pilot.press("home", "enter")
    else:  # the entry is not switched on in this tree: open the first screen directly
        from counter_tui.screens.notice import NoticeScreen

        app.push_screen(NoticeScreen())
    await settle(pilot)


async def accept_notice(pilot: Pilot) -> None:
    await pilot.press("end")
    await pilot.pause()
    await pilot.press("f10")
    await settle(pilot)


async def open_draft(pilot: Pilot, session: LoginResponse, draft_id: str) -> None:
    """Home, then a draft continued at its saved step (as 继续填写 does)."""
    await resume_home(pilot, session)
    await flow.open_draft(pilot.app, draft_id)  # type: ignore[arg-type]
    await settle(pilot)
    await pilot.pause()


async def type_text(pilot: Pilot, text: str) -> None:
    """Type characters into the focused field: the same Key events pilot.press sends, sent
    in one go and settled once (pilot.press waits for idle after every key, ~50 ms each)."""
    from textual import events
    from textual.keys import _character_to_key

    app = pilot.app
    driver = app._driver
    assert driver is not None
    target = app.focused
    for ch in text:
        key = ch if ch.isalnum() else _character_to_key(ch)
        event = events.Key(key, ch)
        event.set_sender(app)
        driver.send_message(event)
    await pilot.pause()
    # Until the field has taken every key: the next key (Tab) must not overtake them.
    for _ in range(100):
        value = getattr(target, "value", None)
        if not isinstance(value, str) or value.endswith(text):
            break
        await pilot.pause(0.02)


async def paste(pilot: Pilot, text: str) -> None:
    """What a terminal sends for a bracketed paste (how control characters arrive)."""
    from textual import events

    focused = pilot.app.focused
    assert focused is not None
    focused.post_message(events.Paste(text))
    await pilot.pause()


async def wait_saved(pilot: Pilot, timeout: float = 5.0) -> str:
    """Until the save status says 已保存 (a debounce timer is no worker: settle won't wait)."""
    import time

    from counter_tui.widgets.save_status import SaveStatus

    deadline = time.monotonic() + timeout
    while True:
        await settle(pilot)
        text = pilot.app.screen.query_one(SaveStatus).text
        if text.startswith("已保存") or time.monotonic() > deadline:
            return text
        await pilot.pause(0.1)


def error_at(pilot: Pilot, spec: FieldSpec | str) -> str:
    key = spec if isinstance(spec, str) else spec.key
    wid = "e-" + key.replace(".", "-")
    return pilot.app.screen.query_one(f"#{wid}", MessageLine).text


def flow_message(pilot: Pilot) -> str:
    return pilot.app.screen.query_one("#flow-message", MessageLine).text


# --- unit tests -------------------------------------------------------------------------


def test_step_order_and_resume_step() -> None:
    assert flow.ORDER[:4] == ("notice", "applicant", "basic_info", "members")
    assert flow.next_step("members") == "authorization"
    assert flow.resume_step(None) == "basic_info"
    assert flow.resume_step("members") == "members"
    assert flow.resume_step("authorization") == "authorization"


def test_step_bar_marks_done_and_current_without_colour() -> None:
    assert step_bar_text("members") == (
        "✓告知书 › ✓基本信息 › [家庭成员] › 授权签名 › 经济状况 › 提交"
    )
    assert step_bar_text("notice").startswith("[告知书] › 基本信息")


def test_outbox_file_is_0600_merges_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "data" / "outbox.json"
    box = Outbox(path)
    box.put_update("s1", "d1", {"details": {"phone": "13800138000"}})
    box.put_update("s1", "d1", {"details": {"ethnicity": "汉族"}, "step": "basic_info"})
    box.append(Entry("s1", "d1", "add_member", {"name": "测试"}))
    box.put_update("s1", "d1", {"name": "测试甲"})  # after a member op: a new entry, in order
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    again = Outbox(path)
    assert [e.op for e in again.entries] == ["update", "add_member", "update"]
    assert again.entries[0].body == {
        "details": {"phone": "13800138000", "ethnicity": "汉族"},
        "step": "basic_info",
    }
    assert again.pending_update("d1", "s1") == {
        "details": {"phone": "13800138000", "ethnicity": "汉族"},
        "step": "basic_info",
        "name": "测试甲",
    }
    assert again.pending_update("d1", "someone-else") == {}
    for e in list(again.entries):
        again.remove(e)
    assert not path.exists()  # nothing pending: no file with personal data lying around


def test_outbox_keeps_an_unreadable_file_aside(tmp_path: Path) -> None:
    path = tmp_path / "outbox.json"
    path.write_text("{not json", encoding="utf-8")
    box = Outbox(path)
    assert box.entries == []
    assert [p.name.startswith("outbox.json.unreadable-") for p in tmp_path.iterdir()] == [True]


def test_refused_fields_are_taken_out_of_an_update() -> None:
    body: dict[str, Any] = {"name": "甲", "details": {"phone": "1", "ethnicity": "汉族"}}
    assert drop_field(body, "details.phone")
    assert body == {"name": "甲", "details": {"ethnicity": "汉族"}}
    assert not drop_field(body, "members[0].id_number")
    assert drop_field(body, "details.ethnicity") and body == {"name": "甲"}
    merged: dict[str, Any] = {}
    merge_update(merged, {"details": {"a": 1}})
    merge_update(merged, {"details": {"b": None}, "step": "members"})
    assert merged == {"details": {"a": 1, "b": None}, "step": "members"}
    assert json.loads(json.dumps(merged)) == merged
