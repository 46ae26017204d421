"""The remote authorization end to end: a real server (uvicorn on 127.0.0.1, SQLite and
PostgreSQL), Debian's headless Chromium on the link, and an SSE client of the counter
listening meanwhile; expired, used and superseded links; the link's QR code decodes to it.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from api.conftest import (  # the API suite's backends, staff and synthetic people
    _shared_staff,
    backend,
    clerk,
    create_draft,
    people,
)
from api.live import live_server, sse
from counter_tui.qr import qr_png_bytes
from jiuzhutong.store.models import remote_links_t

pytestmark = pytest.mark.browser

__all__ = ["_shared_staff", "backend", "clerk", "people"]  # fixtures, used by name

MOBILE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
SIGNATURE = [
    [(0.1, 0.3), (0.2, 0.7), (0.3, 0.3), (0.4, 0.7)],
    [(0.5, 0.2), (0.55, 0.8), (0.7, 0.5), (0.85, 0.6)],
]


@pytest.fixture
def server(backend) -> Iterator[str]:
    settings = backend.settings
    old = settings.public_base_url
    with live_server(settings, backend.services) as url:
        settings.public_base_url = url  # links point at this server
        try:
            yield url
        finally:
            settings.public_base_url = old


@pytest.fixture
def draft(backend, clerk, people):
    return create_draft(backend, clerk, people.adult(), name="孙建国")


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(**MOBILE)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], errors


def new_link(backend, clerk, d) -> dict:
    r = backend.client.post(
        f"/applications/{d['id']}/persons/{d['applicant']['id']}/link", headers=clerk.h
    )
    assert r.status_code == 201, r.text
    return r.json()


def draw(page: Any) -> None:
    box = page.locator("#pad").bounding_box()
    assert box and box["width"] > 100
    for stroke in SIGNATURE:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=4)
        page.mouse.up()


def test_phone_flow_reaches_the_counter_within_a_second(backend, server, clerk, draft, phone):
    link = new_link(backend, clerk, draft)
    assert link["url"] == f"{server}/r/{link['short_code']}"
    with sse(f"{server}/applications/{draft['id']}/events", clerk.h) as stream:
        response = phone.goto(link["url"])
        assert response is not None and response.status == 200
        assert len(response.body()) < 100_000
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert phone.text_content("#who-name") == "孙*国"
        assert "*" in phone.text_content("#who-id")
        phone.check("#face-consent")
        phone.click("#face-pass")
        phone.wait_for_selector("#pad", state="visible")
        draw(phone)
        t0 = time.perf_counter()
        phone.click("#submit")
        done = stream.wait_for(lambda e: e.data["data"].get("state") == "已授权", 2.0)
        assert done.at - t0 < 1.0, f"已授权 after {done.at - t0:.3f}s"
        phone.wait_for_selector("text=签名业务已完成", state="visible")
    board = backend.client.get(f"/applications/{draft['id']}/authorizations", headers=clerk.h)
    person = board.json()["persons"][0]
    assert person["state"] == "已授权" and person["method"] == "远程授权"
    doc = backend.client.get(
        f"/applications/{draft['id']}/persons/{draft['applicant']['id']}/signed-document",
        headers=clerk.h,
    ).json()
    assert doc["signature_svg_path"].count("M") == len(SIGNATURE)
    assert doc["sha256"] == person["document_sha256"]

    # used: the same link again shows the plain page
    again = phone.goto(link["url"])
    assert again is not None and again.status == 410
    assert phone.is_visible("text=链接无效或已失效") and "孙" not in phone.content()


def test_expired_and_superseded_links(backend, server, clerk, draft, phone):
    first = new_link(backend, clerk, draft)
    second = new_link(backend, clerk, draft)
    r = phone.goto(first["url"])
    assert r is not None and r.status == 410 and phone.is_visible("text=链接无效或已失效")
    plain = phone.content()
    r = phone.goto(second["url"])
    assert r is not None and r.status == 200 and phone.is_visible("#face-consent")
    with backend.engine.begin() as conn:
        conn.execute(
            sa.update(remote_links_t)
            .where(remote_links_t.c.person_id == draft["applicant"]["id"])
            .values(expires_at=backend.clock.now())
        )
    r = phone.goto(second["url"])
    assert r is not None and r.status == 410 and phone.content() == plain
    board = backend.client.get(f"/applications/{draft['id']}/authorizations", headers=clerk.h)
    assert board.json()["persons"][0]["state"] == "已过期"


def test_link_qr_code_decodes_to_the_link(backend, server, clerk, draft):
    link = new_link(backend, clerk, draft)
    image = Image.open(io.BytesIO(qr_png_bytes(link["url"])))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [link["url"]]
