"""Textual's SVG screenshot → PNG (rendered by Debian's Chromium) → zxing-cpp: the QR code as
a phone camera would see the screen, colours and theme included."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


async def svg_to_png(svg: str) -> Image.Image:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = await browser.new_page(
                viewport={"width": 1600, "height": 1200}, device_scale_factor=2
            )
            await page.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
            png = await page.locator("svg").first.screenshot()
        finally:
            await browser.close()
    return Image.open(io.BytesIO(png))


async def qr_codes_in(svg: str) -> list[str]:
    """The text of every QR code zxing-cpp finds in the rendered screenshot, read as a plain
    scanner would: dark on light only (no inverted codes)."""
    image = await svg_to_png(svg)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, try_invert=False)
    return [r.text for r in found]
