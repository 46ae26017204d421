"""Key-only helpers for Pilot tests."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widget import Widget

from counter_tui.widgets.message_line import MessageLine
from jiuzhutong.contract import LoginResponse


async def type_text(pilot: Pilot, text: str) -> None:
    await pilot.press(*text)


async def login(pilot: Pilot, username: str, password: str) -> None:
    """Type into the focused first field, Tab to the password, Enter: as a clerk would."""
    await type_text(pilot, username)
    await pilot.press("tab")
    await type_text(pilot, password)
    await pilot.press("enter")
    await settle(pilot)


async def settle(pilot: Pilot) -> None:
    """Let HTTP workers finish and the screen update. Workers in a group ending in "-sse"
    (a live event stream) run as long as their screen does and are not waited for."""
    await pilot.pause()
    workers = [w for w in pilot.app.workers if not w.group.endswith("-sse")]
    if workers:  # an empty list would mean "all of them" to wait_for_complete
        await pilot.app.workers.wait_for_complete(workers)
    await pilot.pause()


def message(pilot: Pilot, selector: str) -> str:
    return pilot.app.screen.query_one(selector, MessageLine).text


def focused_id(pilot: Pilot) -> str | None:
    focused: Widget | None = pilot.app.focused
    return focused.id if focused else None


async def open_home(pilot: Pilot, username: str, password: str) -> None:
    """Start a session without typing, for tests about what happens after login (typing
    the credentials is covered by the login tests and costs ~70 ms a key under Pilot)."""
    app = pilot.app
    result = await app.client.login(username, password, app.counter_id)  # type: ignore[attr-defined]
    await resume_home(pilot, result)


async def resume_home(pilot: Pilot, session: LoginResponse) -> None:
    """Open the home screen on an existing session (no password check on the server)."""
    app = pilot.app
    app.client._token = session.token  # type: ignore[attr-defined]
    app.start_session(session.staff, app.counter_id, session.expires_at)  # type: ignore[attr-defined]
    await settle(pilot)
