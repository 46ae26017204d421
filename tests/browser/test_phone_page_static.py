"""The phone page in a real headless Chromium at a phone's viewport.

The page is the output of ``render_phone_page`` served with ``SECURITY_HEADERS`` by a tiny
local HTTP server on 127.0.0.1 that records what the page POSTs. Every request the page makes
goes through a route that aborts (and records) anything for another origin.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from jiuzhutong.documents import current_notice
from jiuzhutong.server.phone.render import (
    MAX_SIGNATURE_CHARS,
    MAX_SIGNATURE_STROKES,
    SECURITY_HEADERS,
    SIGNATURE_HEIGHT,
    SIGNATURE_WIDTH,
    render_invalid_page,
    render_phone_page,
    signature_path_problem,
)

pytestmark = pytest.mark.browser

TOKEN = "Zm9vYmFyLWJhei1xdXV4XQ"
NONCE = "n-7f3a9c2e41d8b6a0"
CSP_NONCE = "Q2hyb21pdW1UZXN0Tm9uY2U"
PAGE_PATH = f"/r/{TOKEN}"
POST_PATH = f"/r/{TOKEN}/sign"
NAME = "张*明"
ID_MASKED = "420106********1234"
PAGE_LIMIT = 100_000
PATH_RE = re.compile(r"M \d+ \d+( L \d+ \d+)+( M \d+ \d+( L \d+ \d+)+)*")
MOBILE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}


def _page_html(**overrides: Any) -> str:
    kwargs: dict[str, Any] = {
        "person_name_masked": NAME,
        "id_masked": ID_MASKED,
        "document": current_notice(),
        "nonce": NONCE,
        "csp_nonce": CSP_NONCE,
        "post_url": POST_PATH,
        "face_provider_label": "模拟人脸核验",
    }
    kwargs.update(overrides)
    return render_phone_page(**kwargs)


@dataclass
class Site:
    """What the local server serves and what it received."""

    origin: str = ""
    page: bytes = b""
    posts: list[dict[str, Any]] = field(default_factory=list)
    post_headers: list[dict[str, str]] = field(default_factory=list)
    reply_status: int = 200
    reply_body: dict[str, Any] = field(default_factory=lambda: {"status": "已授权"})

    def reset(self) -> None:
        self.page = _page_html().encode("utf-8")
        self.posts.clear()
        self.post_headers.clear()
        self.reply_status = 200
        self.reply_body = {"status": "已授权"}


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            headers = SECURITY_HEADERS(CSP_NONCE)
            if self.path == PAGE_PATH:
                self._send(200, site.page, "text/html; charset=utf-8", headers)
            else:
                body = render_invalid_page().encode("utf-8")
                self._send(404, body, "text/html; charset=utf-8", headers)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if self.path != POST_PATH:
                self._send(404, b"{}", "application/json", {})
                return
            site.posts.append(json.loads(raw))
            site.post_headers.append({k.lower(): v for k, v in self.headers.items()})
            body = json.dumps(site.reply_body, ensure_ascii=False).encode("utf-8")
            self._send(site.reply_status, body, "application/json", {"Cache-Control": "no-store"})

    return Handler


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    site.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Phone:
    page: Any
    context: Any
    requests: list[str]
    foreign: list[str]
    console_errors: list[str]
    page_bytes: int


@pytest.fixture
def phone(browser: Any, site: Site) -> Iterator[Phone]:
    site.reset()
    context = browser.new_context(**MOBILE)
    requests: list[str] = []
    foreign: list[str] = []
    console_errors: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        requests.append(url)
        parts = urlsplit(url)
        if parts.scheme == "data":
            route.continue_()
        elif f"{parts.scheme}://{parts.netloc}" != site.origin:
            foreign.append(url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    response = page.goto(site.origin + PAGE_PATH)
    assert response is not None and response.status == 200
    body = response.body()
    assert body == site.page
    try:
        yield Phone(page, context, requests, foreign, console_errors, len(body))
    finally:
        context.close()
    assert foreign == [], f"requests left for another origin: {foreign}"
    assert console_errors == [], console_errors


def _pass_face(page: Any) -> None:
    page.check("#face-consent")
    page.click("#face-pass")
    page.wait_for_selector("#pad", state="visible")


def _draw(page: Any, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw with the mouse; points are fractions of the pad's width and height."""
    box = page.locator("#pad").bounding_box()
    assert box and box["width"] > 100 and box["height"] > 40
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=4)
        page.mouse.up()


SIGNATURE = [
    [(0.1, 0.3), (0.2, 0.7), (0.3, 0.3), (0.4, 0.7)],
    [(0.5, 0.2), (0.55, 0.8), (0.7, 0.5), (0.85, 0.6)],
]


def _assert_posted(site: Site) -> str:
    assert len(site.posts) == 1
    body = site.posts[0]
    assert set(body) == {"nonce", "face_consent", "face_result", "signature_svg_path"}
    assert body["nonce"] == NONCE
    assert body["face_consent"] is True
    assert body["face_result"] == "pass"
    path = body["signature_svg_path"]
    assert isinstance(path, str) and 0 < len(path) <= MAX_SIGNATURE_CHARS
    assert PATH_RE.fullmatch(path), path[:200]
    assert path.count("M") <= MAX_SIGNATURE_STROKES
    assert signature_path_problem(path) is None
    assert site.post_headers[0]["content-type"].startswith("application/json")
    return path


def test_rendered_page_is_small_and_self_contained():
    html = _page_html()
    size = len(html.encode("utf-8"))
    assert size < PAGE_LIMIT, size
    # No external resource of any kind: no URL outside the page's own origin.
    assert not re.search(r"(?i)\b(?:src|href)\s*=\s*[\"'](?!data:)", html)
    assert not re.search(r"(?i)https?://", html)
    assert "@import" not in html and "url(" not in html
    assert not re.search(r"(?i)<(?:link|img|iframe|object|embed)\b(?![^>]*data:)", html)
    assert html.count(f'nonce="{CSP_NONCE}"') == 2  # the one <style> and the one <script>
    assert not re.search(r"(?i)\sstyle\s*=", html)  # inline style attributes break the CSP
    assert not re.search(r"(?i)\son[a-z]+\s*=", html)  # no inline event handlers
    for text in (
        NAME,
        ID_MASKED,
        "模拟人脸核验",
        "通过",
        "不通过",
        "清除",
        "提交",
        "签名业务已完成",
    ):
        assert text in html


def test_every_value_is_escaped():
    evil = "\"><script>alert(1)</script><x a='"
    html = _page_html(
        person_name_masked=evil,
        id_masked=evil,
        nonce=evil,
        post_url=evil,
        face_provider_label=evil,
    )
    assert "<script>alert(1)" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 5
    assert html.count("<script") == 1
    # Placeholder-looking input is not substituted a second time.
    html = _page_html(person_name_masked="{{js}}")
    assert "{{js}}" in html and html.count("use strict") == 1


@pytest.mark.parametrize("bad", ["", "short", "a'b" * 8, "abc; script-src *  ", "x" * 200])
def test_csp_nonce_is_checked(bad):
    with pytest.raises(ValueError):
        SECURITY_HEADERS(bad)
    with pytest.raises(ValueError):
        _page_html(csp_nonce=bad)


def test_security_headers():
    headers = SECURITY_HEADERS(CSP_NONCE)
    csp = [d.strip() for d in headers["Content-Security-Policy"].split(";")]
    for directive in (
        "default-src 'none'",
        f"script-src 'nonce-{CSP_NONCE}'",
        f"style-src 'nonce-{CSP_NONCE}'",
        "img-src data:",
        "form-action 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_invalid_page_reveals_nothing():
    html = render_invalid_page()
    assert html == render_invalid_page()
    assert "链接无效或已失效" in html
    assert "<script" not in html and "<style" not in html
    assert len(html.encode("utf-8")) < 2_000


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("M 1 2 L 3 4", None),
        ("M 0 0 L 600 240 M 5 6 L 5 6", None),
        ("", "请先签名"),
        ("M 1 2", "签名数据格式错误"),
        ("M 1 2 L 3 4 ", "签名数据格式错误"),
        ("M 1.5 2 L 3 4", "签名数据格式错误"),
        ("M 1 2 L 3 4 Z", "签名数据格式错误"),
        ("M 1 2 L 601 4", "签名坐标超出范围"),
        (" M 1 2 L 3 4", "签名数据格式错误"),
        ("M 1 2 L 3 4" + " M 1 2 L 3 4" * MAX_SIGNATURE_STROKES, "签名笔画过多（最多200笔）"),
        ("M 1 2" + " L 100 200" * 2100, "签名数据过长（最多20000个字符）"),
    ],
)
def test_signature_path_problem(path, problem):
    assert signature_path_problem(path) == problem


def test_full_flow_with_mouse(phone: Phone, site: Site):
    page = phone.page
    assert phone.page_bytes < PAGE_LIMIT
    assert page.text_content("#who-name") == NAME
    assert page.text_content("#who-id") == ID_MASKED
    doc = page.locator("#doc")
    text = doc.inner_text()
    for part in ("一、告知事项", "二、授权书", "三、承诺书", "12349", "互联网金融资产"):
        assert part in text
    # The document scrolls inside its box.
    assert doc.evaluate("e => e.scrollHeight > e.clientHeight")
    doc.evaluate("e => { e.scrollTop = e.scrollHeight; }")
    assert doc.evaluate("e => e.scrollTop > 0")
    # Face step needs the separate consent first; the pad is not shown before the face step.
    assert page.is_visible("text=模拟人脸核验")
    assert page.is_disabled("#face-pass") and page.is_disabled("#face-fail")
    assert page.is_hidden("#pad")
    page.check("#face-consent")
    assert page.is_enabled("#face-pass")
    page.click("#face-pass")
    assert page.is_visible("#face-ok")
    assert page.is_disabled("#face-consent")
    _draw(page, SIGNATURE)
    page.click("#submit")
    page.wait_for_selector("text=签名业务已完成", state="visible")
    assert page.is_hidden("#flow")
    path = _assert_posted(site)
    assert path.count("M") == len(SIGNATURE)
    coords = [int(n) for n in re.findall(r"\d+", path)]
    assert max(coords[0::2]) <= SIGNATURE_WIDTH and max(coords[1::2]) <= SIGNATURE_HEIGHT
    # Only the page itself and the POST went out (the favicon is a data: URL).
    own = [u for u in phone.requests if not u.startswith("data:")]
    assert own == [site.origin + PAGE_PATH, site.origin + POST_PATH]


def test_csp_is_enforced(phone: Phone):
    page = phone.page
    # The page's own inline script ran under the nonce ...
    assert page.is_disabled("#face-pass")
    # ... and a script or style without it is refused by the browser.
    result = page.evaluate(
        """() => new Promise((resolve) => {
            const seen = [];
            document.addEventListener("securitypolicyviolation", (e) => {
                seen.push(e.effectiveDirective);
                if (seen.length === 2) { resolve({ seen, ran: window.__injected === 1 }); }
            });
            const s = document.createElement("script");
            s.textContent = "window.__injected = 1";
            document.body.appendChild(s);
            const st = document.createElement("style");
            st.textContent = "body { display: none }";
            document.head.appendChild(st);
            setTimeout(() => resolve({ seen, ran: window.__injected === 1 }), 2000);
        })"""
    )
    assert result["ran"] is False
    assert sorted(result["seen"]) == ["script-src-elem", "style-src-elem"]
    assert page.is_visible("#face-consent")
    phone.console_errors.clear()  # the browser reports the two refusals on the console


def test_empty_pad_is_refused(phone: Phone, site: Site):
    page = phone.page
    _pass_face(page)
    page.click("#submit")
    assert page.text_content("#msg") == "请先签名"
    assert page.is_visible("#msg")
    _draw(page, SIGNATURE[:1])
    page.click("#pad-clear")
    assert page.is_hidden("#msg")
    page.click("#submit")
    assert page.text_content("#msg") == "请先签名"
    assert site.posts == []
    assert page.is_hidden("#done")
    # After the refusal, signing and submitting works.
    _draw(page, SIGNATURE)
    page.click("#submit")
    page.wait_for_selector("#done", state="visible")
    assert _assert_posted(site).count("M") == len(SIGNATURE)


def test_face_failure_then_retry(phone: Phone, site: Site):
    page = phone.page
    page.check("#face-consent")
    page.click("#face-fail")
    failed = page.locator("#face-failed")
    assert failed.is_visible()
    assert "人脸核验未通过" in failed.inner_text()
    assert page.is_hidden("#pad")
    assert page.is_hidden("#face-pass")
    page.click("#face-retry")
    assert page.is_hidden("#face-failed")
    page.click("#face-pass")
    assert page.is_visible("#face-ok")
    _draw(page, SIGNATURE)
    page.click("#submit")
    page.wait_for_selector("text=签名业务已完成", state="visible")
    _assert_posted(site)


def test_server_error_message_is_shown(phone: Phone, site: Site):
    page = phone.page
    site.reply_status = 410
    site.reply_body = {
        "detail": [
            {
                "code": "link_used",
                "message": "该二维码已使用，请向窗口工作人员重新获取",
                "field": None,
            }
        ]
    }
    _pass_face(page)
    _draw(page, SIGNATURE)
    page.click("#submit")
    page.wait_for_selector("#msg", state="visible")
    assert page.text_content("#msg") == "该二维码已使用，请向窗口工作人员重新获取"
    assert page.is_hidden("#done")
    assert page.is_enabled("#submit")
    # The browser logs the failed response itself; that is not a page error.
    phone.console_errors[:] = [e for e in phone.console_errors if "410" not in e]
    # A later success still completes.
    site.reply_status, site.reply_body = 200, {"status": "已授权"}
    page.click("#submit")
    page.wait_for_selector("text=签名业务已完成", state="visible")
    assert len(site.posts) == 2 and site.posts[0] == site.posts[1]


def test_touch_signature(phone: Phone, site: Site):
    page = phone.page
    _pass_face(page)
    page.locator("#pad").scroll_into_view_if_needed()
    box = page.locator("#pad").bounding_box()
    assert box
    cdp = phone.context.new_cdp_session(page)

    def touch(kind: str, fx: float | None = None, fy: float | None = None) -> None:
        points = (
            []
            if fx is None
            else [{"x": box["x"] + fx * box["width"], "y": box["y"] + fy * box["height"]}]
        )
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", 0.2, 0.5)
    for i in range(1, 11):
        touch("touchMove", 0.2 + i * 0.05, 0.5 + (0.2 if i % 2 else -0.2))
    touch("touchEnd")
    page.click("#submit")
    page.wait_for_selector("text=签名业务已完成", state="visible")
    path = _assert_posted(site)
    assert path.count("M") == 1 and path.count("L") >= 5


def _synthetic(page: Any, strokes: int, points: int) -> None:
    """Many pointer events at once, dispatched in the page (fast, same handlers)."""
    page.evaluate(
        """([strokes, points]) => {
            const pad = document.getElementById("pad");
            const r = pad.getBoundingClientRect();
            const fire = (type, x, y) => pad.dispatchEvent(new PointerEvent(type, {
                pointerId: 7, pointerType: "touch", isPrimary: true, bubbles: true,
                cancelable: true, clientX: r.left + x * r.width, clientY: r.top + y * r.height,
            }));
            for (let s = 0; s < strokes; s++) {
                const y0 = ((s % 10) + 0.5) / 10;
                fire("pointerdown", 0.02, y0);
                for (let i = 1; i < points; i++) {
                    fire("pointermove", 0.02 + (0.96 * i) / points, i % 2 ? y0 * 0.5 : 0.98);
                }
                fire("pointerup", 0.98, y0);
            }
        }""",
        [strokes, points],
    )


def test_stroke_count_is_bounded(phone: Phone, site: Site):
    page = phone.page
    _pass_face(page)
    _synthetic(page, MAX_SIGNATURE_STROKES + 5, 2)
    assert "笔画过多" in page.text_content("#msg")
    page.click("#submit")
    page.wait_for_selector("#done", state="visible")
    path = _assert_posted(site)
    assert path.count("M") == MAX_SIGNATURE_STROKES


def test_path_length_is_bounded(phone: Phone, site: Site):
    page = phone.page
    _pass_face(page)
    _synthetic(page, 30, 200)
    assert "签名过长" in page.text_content("#msg")
    page.click("#submit")
    page.wait_for_selector("#done", state="visible")
    path = _assert_posted(site)
    assert MAX_SIGNATURE_CHARS - 20 < len(path) <= MAX_SIGNATURE_CHARS


def test_unknown_link_shows_the_invalid_page(browser: Any, site: Site):
    context = browser.new_context(**MOBILE)
    try:
        page = context.new_page()
        response = page.goto(site.origin + "/r/AAAAAAAAAAAAAAAAAAAAAA")
        assert response is not None and response.status == 404
        assert page.inner_text("h1") == "链接无效或已失效"
        assert TOKEN not in page.content()
    finally:
        context.close()
