"""授权签名, keys only, against the real embedded server: the board, 本机授权, 远程授权 with the
phone's post made directly over HTTP, the live SSE repaint, 下一步 only when all 已授权, the QR
code decoded from what the screen shows, and snapshots at 80×24 and 120×40 (fakes)."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import zxingcpp
from PIL import Image, ImageDraw
from rich.cells import cell_len
from textual.css.query import NoMatches
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Static

from counter_tui.app import CounterApp
from counter_tui.client import ApiClient
from counter_tui.embedded import EmbeddedBackend
from counter_tui.events import SseParser
from counter_tui.flow import ApplicationFlow
from counter_tui.screens.authorization import AuthorizationScreen, ChoiceScreen
from counter_tui.widgets.qr_code import QrCode
from counter_tui.widgets.status_board import StatusBoard
from jiuzhutong.contract import (
    ApplyMode,
    DraftCreate,
    DraftOut,
    DraftUpdate,
    LoginResponse,
    MemberIn,
    Relation,
)
from jiuzhutong.contract.authorization import (
    AuthorizationBoard,
    AuthorizationOut,
    AuthState,
    RemoteLinkOut,
)
from jiuzhutong.domain.idnumber import make_id_number

from .conftest import synthetic_id
from .fakes import NOW, stream_through
from .helpers import resume_home
from .test_flow_snapshots import APPLICANT, MEMBERS, SAVED_AT, _app, _draft, _home, flow_fake
from .test_flow_support import open_draft, quick_autosave, tui_data_dir  # noqa: F401

SIGNATURE = "M 10 10 L 50 40"
_member_seq = iter(range(500, 999))


async def _draft_with_member(api: ApiClient) -> DraftOut:
    draft = await api.create_draft(
        DraftCreate(name="测试授权甲", id_number=synthetic_id(), mode=ApplyMode.in_person)
    )
    spouse = MemberIn(
        name="测试授权乙",
        id_number=make_id_number("420106", date(1981, 4, 5), next(_member_seq)),
        relation=Relation.spouse,
    )
    return await api.add_member(draft.id, spouse, if_match=draft.version)


async def _open_board(pilot: Pilot, session: LoginResponse, draft: DraftOut) -> None:
    await resume_home(pilot, session)
    app: CounterApp = pilot.app  # type: ignore[assignment]
    flow = ApplicationFlow(app)
    flow.adopt(draft)
    app.push_screen(AuthorizationScreen(flow))
    await _until(pilot, lambda: _rows(app) and _screen(app).live)


def _screen(app: CounterApp) -> AuthorizationScreen:
    screen = app.screen
    assert isinstance(screen, AuthorizationScreen), screen
    return screen


def _board(app: CounterApp) -> StatusBoard:
    return app.screen.query_one("#auth-board", StatusBoard)


def _rows(app: CounterApp) -> list[list[str]]:
    if not isinstance(app.screen, AuthorizationScreen):
        return []
    try:
        board = _board(app)
    except NoMatches:
        return []
    return [[str(c) for c in board.get_row_at(i)] for i in range(board.row_count)]


async def _until(pilot: Pilot, cond: Callable[[], Any], timeout: float = 10.0) -> None:
    """Wait for the screen to show something (the SSE worker never completes, so the
    helpers' settle, which waits for all workers, cannot be used here)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"timed out; rows: {_rows(pilot.app)} {pilot.app.screen_stack}")  # type: ignore[arg-type]
        await pilot.pause(0.05)
    await pilot.pause()


async def _choose(pilot: Pilot, index: int) -> None:
    await _until(pilot, lambda: isinstance(pilot.app.screen, ChoiceScreen))
    await pilot.press(*(["down"] * index), "enter")
    await pilot.pause()


def _qr_modules(qr: QrCode) -> list[list[bool]]:
    """The code as the screen paints it: its rendered cells, two modules per cell."""
    image = qr.query_one("#qr-image", Static)
    strips = image.render_lines(Region(0, 0, image.size.width, image.size.height))
    rows: list[list[bool]] = []
    for strip in strips:
        text = strip.text
        for seg in strip:
            if seg.text:  # dark on light, whatever the theme
                style = seg.style
                assert style is not None and style.color is not None and style.bgcolor
                assert sum(style.color.get_truecolor()) < 60, style
                assert sum(style.bgcolor.get_truecolor()) > 700, style
        rows.append([ch in "█▀" for ch in text])
        rows.append([ch in "█▄" for ch in text])
    return rows


_SVG_TEXT = re.compile(
    r'<text[^>]*\bx="([0-9.]+)"[^>]*textLength="([0-9.]+)"[^>]*'
    r'clip-path="url\(#terminal-(?:\w+-)?line-(\d+)\)"[^>]*>([^<]*)</text>'
)


def _svg_modules(svg: str, region: Region) -> list[list[bool]]:
    """The QR region's cells read back from Textual's SVG export, two modules per cell."""
    cells: dict[tuple[int, int], str] = {}
    for x, length, line, raw in _SVG_TEXT.findall(svg):
        text = html.unescape(raw).replace("\xa0", " ")
        width = cell_len(text)
        if not width:
            continue
        col = round(float(x) / (float(length) / width))
        for ch in text:
            cells[(int(line), col)] = ch
            col += cell_len(ch)
    rows: list[list[bool]] = []
    for y in range(region.y, region.y + region.height):
        text = [cells.get((y, x), " ") for x in range(region.x, region.x + region.width)]
        rows.append([ch in "█▀" for ch in text])
        rows.append([ch in "█▄" for ch in text])
    return rows


def _decode(modules: list[list[bool]], scale: int = 8) -> str:
    h, w = len(modules), len(modules[0])
    img = Image.new("L", (w * scale, h * scale), 255)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle(
                    [x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1], fill=0
                )
    results = zxingcpp.read_barcodes(img)
    assert results, "no QR code found in the rendered cells"
    return results[0].text


async def _phone_authorize(backend: EmbeddedBackend, short_code: str) -> None:
    async with httpx.AsyncClient(base_url=backend.base_url) as http:
        page = await http.get(f"/r/{short_code}")
        assert page.status_code == 200, page.text
        m = re.search(r'data-nonce="([^"]+)"', page.text)
        assert m, "no nonce in the phone page"
        body = {
            "nonce": m.group(1),
            "face_consent": True,
            "face_result": "pass",
            "signature_svg_path": SIGNATURE,
        }
        r = await http.post(f"/r/{short_code}", json=body)
        assert r.status_code == 200, r.text


# --- against the real server ----------------------------------------------------------


async def test_board_local_and_remote_authorization_live(
    make_app: Callable[..., CounterApp],
    demo_session: LoginResponse,
    api: ApiClient,
    backend: EmbeddedBackend,
) -> None:
    draft = await _draft_with_member(api)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_board(pilot, demo_session, draft)
        rows = _rows(app)
        assert [r[0] for r in rows] == ["测试授权甲", "测试授权乙"]
        assert [r[1] for r in rows] == ["本人", "配偶"]
        assert all(r[3] == "… 待授权" for r in rows)
        assert app.screen.check_action("next_step", ()) is None  # 下一步 disabled
        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, AuthorizationScreen)

        # 本机授权 of the applicant: Enter → 本机授权 → 现场核验身份证; the row repaints live.
        await pilot.press("enter")
        await _choose(pilot, 0)  # 本机授权
        await _choose(pilot, 0)  # 现场核验身份证
        await _until(pilot, lambda: _rows(app)[0][3] == "✓ 已授权")
        assert _rows(app)[0][2] == "本机授权"
        assert _rows(app)[1][3] == "… 待授权"
        assert app.screen.check_action("next_step", ()) is None

        # 远程授权 of the spouse: the QR code with short code and countdown.
        await pilot.press("down", "enter")
        await _choose(pilot, 1)  # 远程授权
        screen = _screen(app)
        await _until(pilot, lambda: screen.qr.display and screen.qr.data)
        link = screen.links[_board(app).persons[1].person_id]
        caption = str(screen.qr.query_one("#qr-caption", Static).render())
        assert re.fullmatch(r"短码 ([A-Za-z0-9_-]{22}) 剩\d{2,}:\d{2}", caption), caption
        assert link.short_code in caption
        assert screen.qr.size.width == 37 and screen.qr.query_one("#qr-image").size.height == 19

        # The code as painted decodes to exactly the link; the SVG export shows the short code.
        assert _decode(_qr_modules(screen.qr)) == link.url
        svg = app.export_screenshot()
        assert link.short_code in svg
        region = screen.qr.query_one("#qr-image").region
        assert (region.width, region.height) == (37, 19)
        assert _decode(_svg_modules(svg, region)) == link.url

        # 重新生成: a new link, a new code.
        await pilot.press("r")
        await _until(pilot, lambda: screen.qr.data and screen.qr.data != link.url)
        link = screen.links[_board(app).persons[1].person_id]
        assert _decode(_qr_modules(screen.qr)) == link.url

        # The phone completes it: the board repaints from the SSE stream.
        await _phone_authorize(backend, link.short_code)
        await _until(pilot, lambda: _rows(app)[1][3] == "✓ 已授权")
        assert _rows(app)[1][2] == "远程授权"
        assert not screen.qr.display
        assert app.screen.check_action("next_step", ()) is True
        assert "全部已授权" in str(app.screen.query_one("#auth-hint", Static).render())
        await pilot.press("f10")  # on to 经济状况
        await _until(pilot, lambda: type(app.screen).__name__ == "EconomicScreen")


async def test_members_next_step_opens_the_board(
    make_app: Callable[..., CounterApp],
    demo_session: LoginResponse,
    api: ApiClient,
) -> None:
    """家庭成员's 下一步 opens this board, live."""
    draft = await _draft_with_member(api)
    draft = await api.update_draft(
        draft.id, DraftUpdate(step="members", notice_version="v1"), if_match=draft.version
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draft(pilot, demo_session, draft.id)
        assert type(app.screen).__name__ == "MembersScreen"
        await pilot.press("f10")
        await _until(pilot, lambda: len(_rows(app)) == 2 and _screen(app).live)
        assert [r[3] for r in _rows(app)] == ["… 待授权", "… 待授权"]
        await pilot.press("escape")  # back to 家庭成员
        await _until(pilot, lambda: type(app.screen).__name__ == "MembersScreen")


class _Line(httpx.AsyncBaseTransport):
    """Real HTTP to the test server, with a line that can be cut and refused on demand."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.down = asyncio.Event()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down.is_set():
            raise httpx.ConnectError("line down", request=request)
        response = await self.inner.handle_async_request(request)
        line = self

        class Cut(httpx.AsyncByteStream):
            async def __aiter__(self) -> AsyncIterator[bytes]:
                body = response.stream.__aiter__()  # type: ignore[union-attr]
                while True:
                    chunk = asyncio.ensure_future(body.__anext__())
                    cut = asyncio.ensure_future(line.down.wait())
                    done, _ = await asyncio.wait({chunk, cut}, return_when="FIRST_COMPLETED")
                    if cut in done:
                        chunk.cancel()
                        raise httpx.ReadError("line cut", request=request)
                    cut.cancel()
                    try:
                        yield chunk.result()
                    except StopAsyncIteration:
                        return

            async def aclose(self) -> None:
                await response.aclose()

        return httpx.Response(
            response.status_code, headers=response.headers, stream=Cut(), request=request
        )


async def test_board_repaints_after_the_stream_drops(
    make_app: Callable[..., CounterApp],
    demo_session: LoginResponse,
    api: ApiClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The line drops, someone is authorized meanwhile, the line returns: the stream resumes
    with Last-Event-ID, the board is read again, and the row shows ✓ 已授权."""
    from counter_tui import events
    from counter_tui.screens.authorization import LIVE_LOST
    from jiuzhutong.contract.authorization import IdentityCheck, LocalIdentityIn

    line = _Line()
    real = events.subscribe

    def subscribe(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        kwargs["transport"] = line
        kwargs["backoff"] = (0.1, 0.2)
        return real(*args, **kwargs)

    monkeypatch.setattr(events, "subscribe", subscribe)
    draft = await _draft_with_member(api)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_board(pilot, demo_session, draft)
        screen = _screen(app)
        line.down.set()
        await _until(pilot, lambda: not screen.live)
        assert screen.message.text == LIVE_LOST
        pid = _board(app).persons[1].person_id
        await api.local_identity(draft.id, pid, LocalIdentityIn(check=IdentityCheck.id_card))
        await api.local_signature(draft.id, pid)
        await pilot.pause(0.3)
        assert _rows(app)[1][3] == "… 待授权"  # nothing reaches the screen while down
        line.down.clear()
        await _until(pilot, lambda: _rows(app)[1][3] == "✓ 已授权")
        assert screen.live
        resumed = [r for r in line.requests if r.headers.get("Last-Event-ID")]
        assert resumed, "the reconnect must carry Last-Event-ID"


async def test_subscribe_reconnects_with_last_event_id() -> None:
    """The SSE client over a stream that drops: the second request carries Last-Event-ID."""
    from counter_tui import events

    seen: list[str | None] = []
    row = AuthorizationOut(
        person_id="p-0",
        name="测试",
        relation=Relation.applicant,
        method=None,
        state=AuthState.pending,
        identity_check=None,
        reason=None,
        signer_person_id=None,
        signer_name=None,
        verified_by_staff_id=None,
        link_expires_at=None,
        document_sha256=None,
        updated_at=NOW,
    )

    def frame(seq: int) -> bytes:
        data = (
            f'{{"seq":{seq},"type":"authorization","application_id":"d",'
            f'"at":"2025-03-05T02:30:15Z","data":{row.model_dump_json()}}}'
        )
        return f": keep-alive\nid: {seq}\nevent: authorization\ndata: {data}\n\n".encode()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Last-Event-ID"))
        start = int(seen[-1] or 0)
        return httpx.Response(200, content=frame(start + 1))  # one event, then the line drops

    reconnects = 0

    def on_reconnect() -> None:
        nonlocal reconnects
        reconnects += 1

    client = ApiClient("http://jiuzhutong.test", token="t")
    got = []
    stream = events.subscribe(
        client,
        "d",
        last_event_id=3,
        on_reconnect=on_reconnect,
        backoff=(0.0,),
        transport=httpx.MockTransport(handler),
    )
    async for event in stream:
        got.append(event.seq)
        if len(got) == 3:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    await client.aclose()
    assert got == [4, 5, 6]
    assert seen == ["3", "4", "5"]
    assert reconnects == 2


def test_sse_parser() -> None:
    p = SseParser()
    assert p.feed(": comment") is None
    assert p.feed("retry: 2000") is None and p.retry_ms == 2000
    assert p.feed("id: 7") is None
    assert p.feed("event: draft") is None
    assert p.feed("data: {") is None
    assert p.feed("data:}") is None
    msg = p.feed("")
    assert msg is not None and (msg.id, msg.event, msg.data) == ("7", "draft", ["{", "}"])
    assert p.feed("") is None


# --- snapshots (fixed data behind MockTransport) --------------------------------------


class _Hang(httpx.AsyncByteStream):
    """An SSE stream that stays open and says nothing (a quiet application)."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n"
        await asyncio.Event().wait()


def _auth_row(pid: str, name: str, relation: Relation, state: AuthState, method=None):  # type: ignore[no-untyped-def]
    return AuthorizationOut(
        person_id=pid,
        name=name,
        relation=relation,
        method=method,
        state=state,
        identity_check=None,
        reason=None,
        signer_person_id=None,
        signer_name=None,
        verified_by_staff_id=None,
        link_expires_at=None,
        document_sha256=None,
        updated_at=SAVED_AT,
    )


def _auth_fake():  # type: ignore[no-untyped-def]
    from jiuzhutong.contract.authorization import AuthMethod

    draft = _draft("authorization", MEMBERS)
    fake = flow_fake(draft)
    board = AuthorizationBoard(
        application_id="d-9",
        version=draft.version,
        last_event_seq=3,
        persons=[
            _auth_row(
                "p-0", APPLICANT.name, Relation.applicant, AuthState.authorized, AuthMethod.local
            ),
            _auth_row("p-1", MEMBERS[0].name, Relation.spouse, AuthState.pending),
            _auth_row("p-2", MEMBERS[1].name, Relation.child, AuthState.failed, AuthMethod.remote),
        ],
        all_authorized=False,
    )
    link = RemoteLinkOut(
        person_id="p-1",
        url="http://127.0.0.1:8765/r/AbCdEfGhIjKlMnOpQrStUv",
        short_code="AbCdEfGhIjKlMnOpQrStUv",
        expires_at=NOW + timedelta(minutes=30),
    )
    fake.override.update(
        {
            "/applications/d-9/authorizations": lambda r: httpx.Response(
                200, content=board.model_dump_json()
            ),
            "/applications/d-9/persons/p-1/link": lambda r: httpx.Response(
                201, content=link.model_dump_json()
            ),
            "/applications/d-9/events": lambda r: httpx.Response(
                200, headers={"content-type": "text/event-stream"}, stream=_Hang()
            ),
        }
    )
    return fake, draft


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_authorization_board_snapshot(
    snap_compare: Callable[..., bool], size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, draft = _auth_fake()

    # The fake's event stream goes through the same MockTransport.
    stream_through(fake, monkeypatch)

    async def run(pilot: Pilot) -> None:
        await _home(pilot)
        app: CounterApp = pilot.app  # type: ignore[assignment]
        flow = ApplicationFlow(app)
        flow.adopt(draft)
        app.push_screen(AuthorizationScreen(flow))
        await _until(pilot, lambda: len(_rows(app)) == 3)
        await pilot.press("down", "enter")
        await _choose(pilot, 1)  # 远程授权
        await _until(pilot, lambda: _screen(app).qr.display and _screen(app).qr.data)
        await pilot.pause()

    app = _app(fake)
    assert snap_compare(app, terminal_size=size, run_before=run)


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light", "ansi-dark", "ansi-light"])
async def test_qr_code_scans_from_the_rendered_screen_in_every_theme(
    theme: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dark modules on light, whatever the theme: the screenshot rendered to PNG by Chromium
    holds exactly one QR code, and zxing-cpp reads the link from it."""

    from .svg_png import qr_codes_in

    fake, draft = _auth_fake()
    stream_through(fake, monkeypatch)
    app = _app(fake, theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        await _home(pilot)
        flow = ApplicationFlow(app)
        flow.adopt(draft)
        app.push_screen(AuthorizationScreen(flow))
        await _until(pilot, lambda: len(_rows(app)) == 3)
        await pilot.press("down", "enter")
        await _choose(pilot, 1)  # 远程授权
        await _until(pilot, lambda: _screen(app).qr.display and _screen(app).qr.data)
        svg = app.export_screenshot()
        assert await qr_codes_in(svg) == [_screen(app).qr.data]
