"""QR codes for remote authorization (远程授权): module matrix, half-block text, PNG.

Pure: imports segno only (no textual), so it is cheap to import and easy to test.

The code is the smallest QR version that holds the data, with the strongest error correction
that still fits that version (segno's ``boost_error``). The short link of a remote
authorization (``http://127.0.0.1:8765/r/<22-character token>``, 46 bytes) comes out at
version 3 (29 modules, 37 with the quiet zone: 37×19 text cells), correction level L; a
shorter link gets M or better at the same size. A terminal draws the code without blur or
damage, so the smaller code that fits 80×24 beside the status list wins over a stronger level
at version 4.

``qr_half_blocks`` assumes DARK foreground on a LIGHT background: a full block paints two dark
modules, a space two light ones. The widget must style the text dark-on-light whatever the
terminal theme (inverted codes fail many phone scanners).
"""

from __future__ import annotations

import io

import segno

QUIET_ZONE = 4  # modules of light border on every side (ISO/IEC 18004)

# (top module dark, bottom module dark) -> character; the glyph is the dark foreground.
_HALF_BLOCKS = {
    (False, False): " ",
    (True, False): "▀",
    (False, True): "▄",
    (True, True): "█",
}


def _make(data: str) -> segno.QRCode:
    if not data:
        raise ValueError("QR data must not be empty")
    return segno.make(data, error="L", boost_error=True, micro=False)


def qr_version(data: str) -> int:
    """The QR version ``qr_matrix`` uses for ``data`` (1–40)."""
    return int(_make(data).version)


def qr_error_level(data: str) -> str:
    """The error correction level ("L", "M", "Q" or "H") used for ``data``."""
    return str(_make(data).error).upper()


def qr_matrix(data: str) -> list[list[bool]]:
    """Rows of modules, True = dark, including a light quiet zone of 4 modules on each side."""
    code = _make(data)
    return [[bool(m) for m in row] for row in code.matrix_iter(scale=1, border=QUIET_ZONE)]


def qr_half_blocks(matrix: list[list[bool]]) -> list[str]:
    """Text lines drawing two module rows per line with ▀ ▄ █ and space (dark on light).

    A terminal cell is about twice as tall as wide, so one cell per module column and two
    module rows per line keep the modules square. An odd last row is paired with a light row.
    """
    if not matrix:
        return []
    width = len(matrix[0])
    if any(len(row) != width for row in matrix):
        raise ValueError("QR matrix rows must all have the same length")
    light = [False] * width
    lines: list[str] = []
    for y in range(0, len(matrix), 2):
        top = matrix[y]
        bottom = matrix[y + 1] if y + 1 < len(matrix) else light
        lines.append("".join(_HALF_BLOCKS[(t, b)] for t, b in zip(top, bottom, strict=True)))
    return lines


def qr_png_bytes(data: str, scale: int = 8) -> bytes:
    """A black-on-white PNG of the same code (quiet zone included) for printing."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    buf = io.BytesIO()
    _make(data).save(
        buf, kind="png", scale=scale, border=QUIET_ZONE, dark="#000000", light="#ffffff"
    )
    return buf.getvalue()
