"""Never lose work: the backend goes away mid-form, the banner shows, edits wait in the
outbox (memory and a 0600 file) and arrive when it is back. A kill -9 while offline and the
replay at the next start are test_flow_resume.py's (a real process in a pty)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx

from counter_tui.app import CounterApp
from counter_tui.client import ApiClient
from counter_tui.embedded import EmbeddedBackend
from counter_tui.screens.basic_info import BasicInfoScreen
from counter_tui.widgets.offline_banner import OFFLINE_TEXT, OfflineBanner
from counter_tui.widgets.save_status import SaveStatus
from jiuzhutong.contract import ApplyMode, DraftCreate, DraftUpdate, LoginResponse

from .conftest import synthetic_id
from .fakes import fixed_clock
from .helpers import settle
from .test_flow_support import open_draft, quick_autosave, tui_data_dir, type_text  # noqa: F401


class Switch(httpx.AsyncBaseTransport):
    """The real transport, or no connection at all: a cable pulled out of the hall server."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused (test)", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _app(backend: EmbeddedBackend, switch: Switch) -> CounterApp:
    client = ApiClient(backend.base_url, transport=switch, retry_delays=(0.0, 0.0))
    return CounterApp(client, clock=fixed_clock(), backend_label="测试服务")


def _banner(app: CounterApp) -> OfflineBanner:
    return app.screen.query_one(OfflineBanner)


async def test_offline_edits_are_kept_and_sent_when_the_service_returns(
    backend: EmbeddedBackend,
    demo_session: LoginResponse,
    api: ApiClient,
    tui_data_dir: Path,  # noqa: F811
) -> None:
    draft = await api.create_draft(
        DraftCreate(name="测试断网", id_number=synthetic_id(), mode=ApplyMode.in_person)
    )
    await api.update_draft(
        draft.id, DraftUpdate(step="basic_info", notice_version="v1"), if_match=draft.version
    )
    outbox = tui_data_dir / "outbox.json"
    switch = Switch()
    app = _app(backend, switch)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draft(pilot, demo_session, draft.id)
        assert isinstance(app.screen, BasicInfoScreen)
        await settle(pilot)
        assert not _banner(app).display

        switch.down = True
        assert app.focused is not None and app.focused.id == "f-details-ethnicity"
        await type_text(pilot, "壮族")
        await pilot.press("tab")
        await type_text(pilot, "13700001234")
        await pilot.press("tab")
        await settle(pilot)
        banner = _banner(app)
        assert banner.display and OFFLINE_TEXT in banner.text
        assert str(app.screen.query_one(SaveStatus).render()).startswith("✗ 修改已保留")
        # Kept on disk for the owner only, so even a kill now loses nothing.
        assert stat.S_IMODE(os.stat(outbox).st_mode) == 0o600
        kept = json.loads(outbox.read_text(encoding="utf-8"))["entries"]
        assert [e["draft_id"] for e in kept] == [draft.id]
        assert kept[0]["body"]["details"] == {"ethnicity": "壮族", "phone": "13700001234"}
        assert kept[0]["staff_id"] == demo_session.staff.id
        # The form keeps showing what was typed.
        assert app.screen.query_one("#f-details-phone").value == "13700001234"  # type: ignore[attr-defined]
        assert (await api.get_draft(draft.id)).applicant.details.phone is None

        switch.down = False  # the service is back: the retry sends the outbox
        await pilot.pause(0.8)
        await settle(pilot)
        assert not _banner(app).display
        assert str(app.screen.query_one(SaveStatus).render()) == "✓ 已保存 10:30:15"
    saved = await api.get_draft(draft.id)
    assert saved.applicant.details.ethnicity == "壮族"
    assert saved.applicant.details.phone == "13700001234"
    assert not outbox.exists()
