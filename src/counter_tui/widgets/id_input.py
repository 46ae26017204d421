"""Fields for numbers shown masked outside the field being edited (UX.md, "Forms").

``MaskedField`` shows ``420106********1234`` whenever it does not have focus, and can hold a
value the server sent masked (the counter never sees the full number of a saved draft): on
focus such a field is empty with the masked number as its placeholder, the clerk retypes the
whole number to change it, and leaving it empty keeps the saved number. ``wire_value`` is
what a save may send: None while the field still holds the server's masked number.

``IdInput`` is the ID number field: it also says what the number encodes (birth date,
gender, region) so the clerk confirms rather than retypes.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Blur, Focus

from counter_tui.widgets.fields import Field
from jiuzhutong.domain.idnumber import IdInfo, IdNumberError, mask_id_number, parse_id_number

RETYPE_HINT = "（重新输入以修改）"


def masked(number: str) -> str:
    """A number for display: masked unless it already is (the server's own masking)."""
    return number if "*" in number else mask_id_number(number)


class MaskedField(Field):
    """A one-line field whose value is masked while it does not have focus."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._server_masked: str | None = None
        self._placeholder = self.placeholder

    # --- value -------------------------------------------------------------------------

    def set_server_masked(self, value: str | None) -> None:
        """Show what the server holds (already masked); None or "" → empty field."""
        self._server_masked = value or None
        self.placeholder = self._placeholder
        self.value = value or ""

    def set_known(self, value: str) -> None:
        """A full value typed in this run (e.g. restored from the outbox)."""
        self._server_masked = None
        self.placeholder = self._placeholder
        self.value = value

    @property
    def holds_server_value(self) -> bool:
        return self._server_masked is not None and self.value in ("", self._server_masked)

    @property
    def wire_value(self) -> str | None:
        """What to send: the typed value, or None when the saved value is untouched."""
        if self.holds_server_value:
            return None
        return self.value

    @property
    def display_value(self) -> str:
        """What the field shows when not focused."""
        if self.holds_server_value:
            return self._server_masked or ""
        return masked(self.value) if self.value.strip() else ""

    @property
    def is_empty(self) -> bool:
        return not self.holds_server_value and not self.value.strip()

    # --- focus -------------------------------------------------------------------------

    def _on_focus(self, event: Focus) -> None:
        if self._server_masked is not None and self.value == self._server_masked:
            self.placeholder = f"{self._server_masked}{RETYPE_HINT}"
            self.value = ""
        super()._on_focus(event)
        self.refresh()

    def _on_blur(self, event: Blur) -> None:
        if self._server_masked is not None and self.value == "":
            self.placeholder = self._placeholder
            self.value = self._server_masked
        super()._on_blur(event)
        self.refresh()

    # --- rendering ---------------------------------------------------------------------

    @property
    def _value(self) -> Text:
        if self.has_focus or not self.value:
            return super()._value
        return Text(self.display_value, no_wrap=True, overflow="ignore", end="")


class ClearableMaskedField(MaskedField):
    """An optional masked field (the bank account): leaving it empty keeps the saved value,
    so emptying it needs a key of its own, F8 清空."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f8", "clear_saved", "清空", key_display="F8"),
    ]

    def action_clear_saved(self) -> None:
        """Forget the saved value: the field is empty, and leaving it saves it as empty."""
        self._server_masked = None
        self.placeholder = self._placeholder
        self.value = ""


class IdInput(MaskedField):
    """The 18-character ID number field."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("placeholder", "18位身份证号")
        super().__init__(*args, **kwargs)

    def parse(self, today: date) -> IdInfo | None:
        """What the typed number encodes; None when untouched, empty or invalid."""
        value = self.wire_value
        if not value or not value.strip():
            return None
        try:
            return parse_id_number(value, today=today)
        except IdNumberError:
            return None


def describe(info: IdInfo) -> str:
    """'1950-02-02 男 湖北省武汉市武昌区': what the number encodes, to confirm."""
    return describe_parts(info.birth_date, info.gender.value, info.division_name)


def describe_parts(birth: date, gender: str, division_name: str) -> str:
    return f"{birth.isoformat()} {gender} {division_name}"
