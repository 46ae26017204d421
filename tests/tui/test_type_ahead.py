"""Type-ahead: keys that arrive in one burst (a laggy SSH link, a paste) land where typed.

A slow link delivers "demo<Tab>abc" as one read; the App posts every key before any of
them is handled. Tab must move focus before the next character is routed, or "abc" would
land in the field that was just left.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events

from counter_tui.app import CounterApp

from .helpers import settle


def _burst(app: CounterApp, text: str) -> None:
    """Post every key at once, without waiting for any to be handled."""
    for ch in text:
        if ch == "\t":
            app.post_message(events.Key("tab", None))
        else:
            app.post_message(events.Key(ch, ch))


async def test_burst_with_tabs_fills_each_field_in_turn(
    make_app: Callable[..., CounterApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        counter = app.screen.query_one("#counter")
        counter.value = ""  # type: ignore[attr-defined]
        _burst(app, "demo\tsecret\tw3")
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#username").value == "demo"  # type: ignore[attr-defined]
        assert screen.query_one("#password").value == "secret"  # type: ignore[attr-defined]
        assert screen.query_one("#counter").value == "w3"  # type: ignore[attr-defined]
