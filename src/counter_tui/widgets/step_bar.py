"""The step bar on top of every flow screen, mirroring the mini-program (UX.md, "Screens").

告知书 › 基本信息 › 家庭成员 › 授权签名 › 经济状况 › 提交. Colour carries nothing alone: done
steps carry ✓, the current one is bracketed and bold, later ones are plain.
"""

from __future__ import annotations

from textual.widgets import Static

from counter_tui.labels import STEPS

SEPARATOR = " › "


def step_bar_text(current: str) -> str:
    """The bar as plain text: '✓告知书 › [基本信息] › 家庭成员 › …'."""
    keys = list(STEPS)
    index = keys.index(current) if current in keys else -1
    parts = []
    for i, (key, name) in enumerate(STEPS.items()):
        if i < index:
            parts.append(f"✓{name}")
        elif key == current:
            parts.append(f"[{name}]")
        else:
            parts.append(name)
    return SEPARATOR.join(parts)


class StepBar(Static):
    """One line; ``step`` is a key of ``labels.STEPS``."""

    def __init__(self, step: str, *, id: str | None = "step-bar") -> None:
        super().__init__(step_bar_text(step), id=id, markup=False)
        self.step = step

    def show(self, step: str) -> None:
        self.step = step
        self.update(step_bar_text(step))
