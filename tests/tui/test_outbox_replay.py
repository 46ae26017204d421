"""What a killed run left in the outbox goes out at the next login, once, from the data dir
the app was started with."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from counter_tui.app import CounterApp
from counter_tui.autosave import OUTBOX_FILE, Entry, saver_for
from counter_tui.client import ApiClient
from jiuzhutong.contract import DraftOut, ErrorItem, LoginResponse, MemberIn, Relation
from jiuzhutong.domain.idnumber import make_id_number

from .conftest import seed_draft
from .helpers import resume_home, settle


class Heard:
    """A save listener that keeps what the autosave says about one draft."""

    def __init__(self) -> None:
        self.saved: list[DraftOut] = []
        self.rejected: list[str] = []

    def draft_saved(self, draft: DraftOut) -> None:
        self.saved.append(draft)

    def save_rejected(self, op: str, items: list[ErrorItem]) -> None:
        self.rejected += [i.message for i in items]


def _write_outbox(data_dir: Path, *entries: Entry) -> Path:
    path = data_dir / OUTBOX_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"version": 1, "entries": [e.to_json() for e in entries]}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


async def test_a_member_post_that_landed_before_the_kill_is_not_added_twice(
    make_app: Callable[..., CounterApp],
    demo_session: LoginResponse,
    api: ApiClient,
    tmp_path: Path,
) -> None:
    draft = await seed_draft(api, "测试重放")
    member = MemberIn(
        name="测试𠮷䶮",
        id_number=make_id_number("420106", date(1983, 3, 4), 517),
        relation=Relation.spouse,
    )
    entry = Entry(
        staff_id=demo_session.staff.id,
        draft_id=draft.id,
        op="add_member",
        body=member.model_dump(mode="json", exclude_unset=True),
    )
    # The previous run's POST reached the server, and the TUI died before the answer came
    # back: the entry is still in the outbox, with the key that POST carried.
    landed = await api.add_member(
        draft.id, member, if_match=draft.version, idempotency_key=entry.id
    )
    assert len(landed.members) == 1
    data_dir = tmp_path / "counter-data"  # not the XDG default: the app's own data dir
    outbox = _write_outbox(data_dir, entry)

    app = make_app(data_dir=data_dir)
    heard = Heard()
    saver_for(app).listen(draft.id, heard)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await resume_home(pilot, demo_session)  # login: the outbox is sent now
        for _ in range(50):
            if not outbox.exists():
                break
            await pilot.pause(0.1)
        await settle(pilot)

    assert not outbox.exists()
    # Answered as the first time (the key's stored reply), not re-applied on a newer
    # version and refused as a duplicate ID number in the household.
    assert heard.rejected == []
    assert [len(d.members) for d in heard.saved] == [1]
    after = await api.get_draft(draft.id)
    assert [m.name for m in after.members] == ["测试𠮷䶮"]  # once, not twice
