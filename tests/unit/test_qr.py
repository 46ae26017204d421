"""The remote-authorization QR code: drawn as half blocks, it must decode to exactly the link."""

from __future__ import annotations

import base64
import io
import random
import subprocess
import sys

import pytest
import segno
import zxingcpp
from PIL import Image, ImageDraw

from counter_tui.qr import (
    QUIET_ZONE,
    qr_error_level,
    qr_half_blocks,
    qr_matrix,
    qr_png_bytes,
    qr_version,
)

BASE = "http://127.0.0.1:8765/r/"
SCALE = 6  # pixels per module


def _token(seed: int) -> str:
    """22 base64url characters, as secrets.token_urlsafe(16) makes them."""
    raw = random.Random(seed).randbytes(16)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


LINKS = [
    BASE + "AAAAAAAAAAAAAAAAAAAAAA",
    BASE + "__________------------",
    BASE + "Zm9vYmFyLWJhei1xdXV4XQ",
    *(BASE + _token(seed) for seed in range(6)),
]


def _paint(lines: list[str], scale: int = SCALE) -> Image.Image:
    """Paint each text cell as two square modules, black (the glyph) on white (the cell)."""
    width, height = len(lines[0]), len(lines) * 2
    img = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(img)
    halves = {" ": (False, False), "▀": (True, False), "▄": (False, True), "█": (True, True)}
    for row, line in enumerate(lines):
        assert len(line) == width
        for col, ch in enumerate(line):
            top, bottom = halves[ch]
            x0, y0 = col * scale, row * 2 * scale
            if top:
                draw.rectangle([x0, y0, x0 + scale - 1, y0 + scale - 1], fill=0)
            if bottom:
                draw.rectangle([x0, y0 + scale, x0 + scale - 1, y0 + 2 * scale - 1], fill=0)
    return img


def _decode(img: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(img)]


def test_links_have_the_real_shape():
    for link in LINKS:
        token = link.removeprefix(BASE)
        assert len(token) == 22
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(set(LINKS)) == len(LINKS)


@pytest.mark.parametrize("link", LINKS)
def test_half_blocks_decode_to_exactly_the_link(link):
    lines = qr_half_blocks(qr_matrix(link))
    assert set("".join(lines)) <= {" ", "▀", "▄", "█"}
    assert _decode(_paint(lines)) == [link]


@pytest.mark.parametrize("link", LINKS)
def test_short_link_fits_version_3(link):
    assert qr_version(link) <= 3
    matrix = qr_matrix(link)
    size = 17 + 4 * qr_version(link) + 2 * QUIET_ZONE
    assert len(matrix) == size
    assert all(len(row) == size for row in matrix)
    lines = qr_half_blocks(matrix)
    # 37×19 cells for version 3: fits 80×24 beside a status list.
    assert len(lines) == (size + 1) // 2 <= 19
    assert all(len(line) == size <= 37 for line in lines)


@pytest.mark.parametrize("link", LINKS)
def test_quiet_zone_is_four_light_modules(link):
    matrix = qr_matrix(link)
    n = len(matrix)
    assert QUIET_ZONE == 4
    for i in range(n):
        for j in range(n):
            if min(i, j, n - 1 - i, n - 1 - j) < QUIET_ZONE:
                assert matrix[i][j] is False, (i, j)
    # The symbol starts right after the quiet zone: the finder pattern's dark corner.
    assert matrix[4][4] is True and matrix[4][n - 5] is True and matrix[n - 5][4] is True
    lines = qr_half_blocks(matrix)
    assert lines[0].strip() == "" and lines[1].strip() == ""
    assert lines[-2].strip() == "" and lines[-1].strip() == ""
    for line in lines:
        assert line[:QUIET_ZONE] == " " * QUIET_ZONE
        assert line[-QUIET_ZONE:] == " " * QUIET_ZONE


def test_error_correction_is_the_strongest_that_keeps_the_size():
    assert qr_error_level(LINKS[0]) == "L"  # 46 bytes: M would need version 4
    levels = "LMQH"
    for n in range(1, 120, 7):
        data = (BASE + "abcdefghijklmnopqrstuvwxyz0123456789" * 4)[:n]
        version, level = qr_version(data), qr_error_level(data)
        assert version == segno.make(data, error="L", boost_error=False, micro=False).version
        for stronger in levels[levels.index(level) + 1 :]:
            assert segno.make(data, error=stronger, micro=False).version > version
    assert qr_error_level("http://127.0.0.1/r/a") in ("M", "Q", "H")


def test_half_blocks_assume_dark_on_light():
    matrix = [[True, False, True], [True, True, False], [False, True, True]]
    # The odd last row is paired with a light row.
    assert qr_half_blocks(matrix) == ["█▄▀", " ▀▀"]
    assert qr_half_blocks([]) == []
    with pytest.raises(ValueError):
        qr_half_blocks([[True], [True, False]])


def test_empty_data_is_refused():
    with pytest.raises(ValueError):
        qr_matrix("")


@pytest.mark.parametrize("scale", [1, 4, 8])
def test_png_for_printing(scale):
    link = LINKS[3]
    data = qr_png_bytes(link, scale)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    img = Image.open(io.BytesIO(data))
    size = len(qr_matrix(link)) * scale
    assert img.size == (size, size)
    if scale >= 4:
        assert _decode(img.convert("L")) == [link]
    with pytest.raises(ValueError):
        qr_png_bytes(link, 0)


def test_qr_module_does_not_import_textual():
    code = "import sys, counter_tui.qr; print('textual' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
