"""户籍所在地: 市州 → 县（市、区）→ 街道（乡镇）→ 社区（村）, or a division code typed in.

Options come from GET /divisions?parent=… and are cached per backend for the life of the
process (divisions change only by an import on the server). The picker's value is the most
specific division chosen at county level or below; a prefecture alone is not a 户籍所在地.
Codes typed in are checked with the words the server uses when it refuses one: locally for
county codes (python-stdnum, as the server does), by GET /divisions/{code} for streets and
communities, which only the server's imported list knows.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from counter_tui.errors import ClientError, NotFound
from counter_tui.widgets.fields import Field
from jiuzhutong.contract import DivisionOut
from jiuzhutong.domain.divisions import DivisionRegistry
from jiuzhutong.domain.errors import DomainError

if TYPE_CHECKING:
    from counter_tui.client import ApiClient

LEVELS = ("prefecture", "county", "street", "community")
PROMPTS = ("市州", "县（市、区）", "街道（乡镇）", "社区（村）")
CODE_LENGTHS = (4, 6, 9, 12)  # the code length of each level
TOO_COARSE = "户籍所在地请至少选到县（市、区）"
# One loading job at a time: the latest choice wins over an older, slower one.
_OPTIONS: dict[str, Any] = {"group": "division-options", "exclusive": True}

_cache: dict[tuple[str, str | None], list[DivisionOut]] = {}
_registry: DivisionRegistry | None = None


async def children(client: ApiClient, parent: str | None) -> list[DivisionOut]:
    key = (client.base_url, parent)
    if key not in _cache:
        _cache[key] = await client.list_divisions(parent)
    return _cache[key]


def chain_of(code: str) -> list[str | None]:
    """'420106001002' → ['4201', '420106', '420106001', '420106001002']."""
    return [code[:n] if len(code) >= n else None for n in CODE_LENGTHS]


def local_check(code: str) -> str | None:
    """The server's message for a code it would refuse, when that can be told here."""
    global _registry
    if len(code) in (9, 12) and code.isascii() and code.isdigit():
        return None  # only the server's imported list knows streets and communities
    _registry = _registry or DivisionRegistry()
    try:
        division = _registry.validate(code, field="details.hukou_division")
    except DomainError as exc:
        return exc.message
    if division.level in ("province", "prefecture"):
        return TOO_COARSE
    return None


NULL: Any = None  # no choice made


class ChoiceMenu(ModalScreen[Any]):
    """The list of a ``Choice``: ↑/↓ move, Enter picks, Esc closes without a change."""

    DEFAULT_CSS = """
    ChoiceMenu {
        align: center middle;
    }
    ChoiceMenu > #choice-menu {
        width: 44;
        max-width: 100%;
        height: auto;
        max-height: 90%;
        padding: 0 1;
        border: round $primary;
        background: $panel;
    }
    ChoiceMenu #choice-title {
        text-style: bold;
    }
    ChoiceMenu OptionList, ChoiceMenu OptionList:focus {
        height: auto;
        max-height: 16;
        border: none;
        padding: 0;
    }
    ChoiceMenu #choice-hint {
        color: $text-muted;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "返回", key_display="Esc"),
    ]

    def __init__(self, title: str, options: list[tuple[str, Any]], value: Any) -> None:
        super().__init__()
        self._title = title
        self._options = options
        self._value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-menu"):
            yield Static(self._title, id="choice-title", markup=False)
            yield OptionList(*(Option(label) for label, _ in self._options), id="choice-list")
            yield Static("↑/↓ 选择，Enter 确定，Esc 返回", id="choice-hint", markup=False)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        values = [v for _, v in self._options]
        options.highlighted = values.index(self._value) if self._value in values else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self._options[event.option_index][1])

    def action_cancel(self) -> None:
        self.dismiss(_CANCELLED)


_CANCELLED = object()


class Choice(Widget, can_focus=True):
    """A one-line choice: one widget where Textual's Select is six (a form has a dozen).

    ←/→ step through the options in place, 1–9 pick the n-th, Enter (or ↓, 空格) opens the
    list. ``value`` is None while nothing is chosen; setting it shows a saved value without
    a message, and ``Changed`` is posted only for the clerk's own choices.
    """

    DEFAULT_CSS = """
    Choice {
        height: 1;
        width: 1fr;
        padding: 0 1;
    }
    Choice > .choice--prompt {
        color: $text-muted;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"choice--prompt"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,space,down", "open", "选择", show=False),
        Binding("left", "step(-1)", show=False),
        Binding("right", "step(1)", show=False),
    ]

    class Changed(Message):
        def __init__(self, choice: Choice, value: Any) -> None:
            super().__init__()
            self.choice = choice
            self.value = value

        @property
        def control(self) -> Choice:
            return self.choice

    def __init__(
        self,
        options: Iterable[tuple[str, Any]] = (),
        *,
        prompt: str = "请选择",
        title: str = "",
        value: Any = NULL,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(id=id, classes=classes, disabled=disabled)
        self._options = list(options)
        self._value = value
        self.prompt = prompt
        self.title = title or prompt

    # --- value -------------------------------------------------------------------------

    @property
    def options(self) -> list[tuple[str, Any]]:
        return list(self._options)

    @property
    def value(self) -> Any:
        return self._value

    @value.setter
    def value(self, value: Any) -> None:
        if value is not NULL and value not in {v for _, v in self._options}:
            raise ValueError(f"{value!r} is not an option of {self.id}")
        self._value = value
        self.refresh()

    @property
    def label(self) -> str | None:
        return next((text for text, v in self._options if v == self._value), None)

    def set_options(self, options: Iterable[tuple[str, Any]]) -> None:
        """New options; the value is cleared (no message)."""
        self._options = list(options)
        self._value = NULL
        self.refresh()

    def _choose(self, value: Any) -> None:
        if value is _CANCELLED or value == self._value:
            return
        self._value = value
        self.refresh()
        self.post_message(self.Changed(self, value))

    # --- keys --------------------------------------------------------------------------

    def action_open(self) -> None:
        if self._options and not self.disabled:
            self.app.push_screen(ChoiceMenu(self.title, self._options, self._value), self._choose)

    def action_step(self, delta: int) -> None:
        values = [v for _, v in self._options]
        if not values or self.disabled:
            return
        if self._value in values:
            index = (values.index(self._value) + delta) % len(values)
        else:
            index = 0 if delta > 0 else len(values) - 1
        self._choose(values[index])

    def on_key(self, event: events.Key) -> None:
        ch = event.character
        if ch and ch in "123456789" and int(ch) <= len(self._options):
            event.stop()
            self._choose(self._options[int(ch) - 1][1])

    # --- drawing -----------------------------------------------------------------------

    def render(self) -> RenderResult:
        label = self.label
        width = max(self.content_region.width, 4)
        if label is None:
            text = Text(self.prompt, style=self.get_component_rich_style("choice--prompt"))
        else:
            text = Text(label)
        text.truncate(width - 2, overflow="ellipsis")
        text.pad_right(width - 2 - text.cell_len)
        text.append(" ▼" if not self.disabled else "  ")
        return text


class DivisionPicker(Vertical):
    """Posts ``Changed`` when the clerk picks or types a division; ``Invalid`` with the
    message when a typed code is refused."""

    class Changed(Message):
        def __init__(self, picker: DivisionPicker, code: str | None) -> None:
            super().__init__()
            self.picker = picker
            self.code = code

        @property
        def control(self) -> DivisionPicker:
            return self.picker

    class Invalid(Message):
        def __init__(self, picker: DivisionPicker, message: str) -> None:
            super().__init__()
            self.picker = picker
            self.message = message

        @property
        def control(self) -> DivisionPicker:
            return self.picker

    def __init__(self, client: ApiClient, *, label: str = "户籍所在地", id: str | None = None):
        super().__init__(id=id, classes="division-picker")
        self._client = client
        self._label = label
        self._chain: list[str | None] = [None] * len(LEVELS)
        self._names: dict[str, DivisionOut] = {}
        self.full_name = ""

    def compose(self) -> ComposeResult:
        selects = [
            Choice([], prompt=p, title=f"{self._label}：{p}", id=f"div-{lvl}")
            for lvl, p in zip(LEVELS, PROMPTS, strict=True)
        ]
        with Horizontal(classes="form-row"):
            yield Label(self._label, classes="field-label")
            yield selects[0]
            yield selects[1]
        with Horizontal(classes="form-row"):
            yield Label("", classes="field-label")
            yield selects[2]
            yield selects[3]
        with Horizontal(classes="form-row"):
            yield Label("区划代码", classes="field-label")
            yield Field(id="div-code", placeholder="或输入代码", classes="div-code")
            yield Static("", id="div-name", markup=False)

    def on_mount(self) -> None:
        for select in self._selects()[1:]:
            select.disabled = True
        self.run_worker(partial(self._fill, 0, None), **_OPTIONS)

    # --- value -------------------------------------------------------------------------

    @property
    def code(self) -> str | None:
        """The most specific division chosen, at county level or below."""
        for value in reversed(self._chain[1:]):
            if value is not None:
                return value
        return None

    def _selects(self) -> list[Choice]:
        return [self.query_one(f"#div-{lvl}", Choice) for lvl in LEVELS]

    @property
    def first_select(self) -> Choice:
        return self.query_one("#div-prefecture", Choice)

    def set_code(self, code: str | None) -> None:
        """Show a saved division (no Changed message)."""
        self.run_worker(partial(self._show_code, code, announce=False), **_OPTIONS)

    def propose(self, code: str) -> None:
        """Pick ``code`` as if the clerk had (Changed is posted), when it is a current
        county or below: e.g. the county an ID number encodes, for the clerk to confirm."""
        if local_check(code) is None:
            self.run_worker(partial(self._show_code, code, announce=True), **_OPTIONS)

    async def _fill(self, level: int, parent: str | None) -> list[DivisionOut]:
        select = self._selects()[level]
        try:
            options = await children(self._client, parent)
        except ClientError:
            options = []
        for d in options:
            self._names[d.code] = d
        self._chain[level] = None
        select.set_options((d.name, d.code) for d in options)
        select.disabled = not options
        return options

    async def _show_code(self, code: str | None, *, announce: bool) -> None:
        wanted = chain_of(code) if code else [None] * len(LEVELS)
        parent: str | None = None
        for level in range(len(LEVELS)):
            if level > 0 and parent is None:
                self._clear_from(level)
                break
            options = await self._fill(level, parent)
            value = wanted[level]
            if value is None or value not in {d.code for d in options}:
                self._clear_from(level + 1)
                break
            self._chain[level] = value
            self._selects()[level].value = value
            parent = value
        self._show_name()
        if announce:
            self.post_message(self.Changed(self, self.code))

    def _clear_from(self, level: int) -> None:
        for lower in range(level, len(LEVELS)):
            self._chain[lower] = None
            select = self._selects()[lower]
            select.set_options([])
            select.disabled = True

    def _show_name(self) -> None:
        code = self.code
        division = self._names.get(code) if code else None
        self.full_name = division.full_name if division else ""
        text = self.full_name
        if division is not None and division.sample:
            text += "（示例数据）"
        self.query_one("#div-name", Static).update(text)
        self.query_one("#div-code", Field).value = code or ""

    # --- the clerk's choices -----------------------------------------------------------

    @on(Choice.Changed)
    def _picked(self, event: Choice.Changed) -> None:
        event.stop()
        level = LEVELS.index((event.choice.id or "").removeprefix("div-"))
        value = None if event.value is NULL else str(event.value)
        self._chain[level] = value
        self._clear_from(level + 1)
        if value is not None and level + 1 < len(LEVELS):
            self.run_worker(partial(self._fill, level + 1, value), **_OPTIONS)
        self._show_name()
        self.post_message(self.Changed(self, self.code))

    @on(Field.Submitted, "#div-code")
    @on(Field.Blurred, "#div-code")
    def _typed(self, event: Field.Submitted | Field.Blurred) -> None:
        event.stop()
        code = event.value.strip()
        if not code or code == (self.code or ""):
            return
        problem = local_check(code)
        if problem is not None:
            self.post_message(self.Invalid(self, problem))
            return
        self.run_worker(partial(self._lookup, code), group="division-lookup", exclusive=True)

    async def _lookup(self, code: str) -> None:
        try:
            division = await self._client.get_division(code)
        except NotFound as exc:
            self.post_message(self.Invalid(self, exc.message))
            return
        except ClientError as exc:
            self.post_message(self.Invalid(self, exc.message))
            return
        if division.level in ("province", "prefecture"):
            self.post_message(self.Invalid(self, TOO_COARSE))
            return
        self._names[division.code] = division
        await self._show_code(division.code, announce=True)
