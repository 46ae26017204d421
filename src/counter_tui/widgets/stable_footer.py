"""A Footer that rebuilds only when what it shows changes (a light module: the login
screen uses it before anything of the flow is imported)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class StableFooter(Footer):
    """A Footer that rebuilds only when what it shows changes.

    Textual's Footer recomposes on every focus change (each widget brings its own hidden
    bindings), which re-lays out the screen and repaints the bottom line for every Tab. On a
    form the legend is the same from field to field, so a thin client is spared all that.
    """

    _shown: tuple[tuple[str, str, str, str, bool], ...] | None = None

    def _legend(self) -> tuple[tuple[str, str, str, str, bool], ...]:
        return tuple(
            (b.key, self.app.get_key_display(b), b.description, b.action, enabled)
            for (_, b, enabled, _tooltip) in self.screen.active_bindings.values()
            if b.show
        )

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self._legend()
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        ready = self._bindings_ready and self.is_attached and screen is self.screen
        if ready and self._legend() == self._shown:
            return
        super().bindings_changed(screen)
