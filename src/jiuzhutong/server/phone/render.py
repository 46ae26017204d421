"""The phone page a remote-authorization QR code opens (远程授权), rendered as one HTML string.

Pure functions, standard library only: the route handler decides what to show and sends the
string with ``SECURITY_HEADERS``. The page is self-contained: CSS and JS are inlined under a
CSP nonce, there are no external resources (no CDN, fonts or images; the one icon is inline
SVG), and every interpolated value is HTML-escaped. Values the script needs travel in
``data-`` attributes, never inside the script text.

The page posts ``{"nonce", "face_consent": true, "face_result": "pass",
"signature_svg_path"}`` as JSON to ``post_url`` and shows 签名业务已完成 on a 2xx, otherwise
the ``message`` of each ``ErrorBody.detail`` item. The signature is SVG path data in a
``SIGNATURE_WIDTH`` × ``SIGNATURE_HEIGHT`` box: ``M x y L x y … M x y L x y …`` with integer
coordinates, at most ``MAX_SIGNATURE_CHARS`` characters and ``MAX_SIGNATURE_STROKES`` strokes;
``signature_path_problem`` checks a posted path against exactly these rules.
"""

from __future__ import annotations

import html
import re
from functools import cache
from importlib import resources

from jiuzhutong.documents import Document

MAX_SIGNATURE_CHARS = 20_000
MAX_SIGNATURE_STROKES = 200
SIGNATURE_WIDTH = 600
SIGNATURE_HEIGHT = 240

_NONCE_RE = re.compile(r"[A-Za-z0-9+/_-]{16,128}={0,2}")
_PLACEHOLDER_RE = re.compile(r"\{\{([a-z_]+)\}\}")
_NUM = r"(0|[1-9][0-9]{0,3})"
_STROKE = rf"M {_NUM} {_NUM}( L {_NUM} {_NUM})+"
_SIGNATURE_RE = re.compile(rf"{_STROKE}( {_STROKE})*")
_COORD_RE = re.compile(r"[ML] (\d+) (\d+)")

# Section headings of the documents: "一、告知事项" and "（一）申请条件".
_H1_RE = re.compile(r"^[一二三四五六七八九十]+、")
_H2_RE = re.compile(r"^（[一二三四五六七八九十]+）")


@cache
def _asset(name: str) -> str:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    for closing in ("</style", "</script", "<!--"):
        if name != "template.html" and closing in text.lower():
            raise RuntimeError(f"{name} must not contain {closing!r}")
    return text


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _check_csp_nonce(csp_nonce: str) -> str:
    if not isinstance(csp_nonce, str) or not _NONCE_RE.fullmatch(csp_nonce):
        raise ValueError("csp_nonce must be 16–128 base64 characters")
    return csp_nonce


def document_html(document: Document) -> str:
    """The document's text as escaped HTML: headings for 一、 and （一）, a paragraph per line.

    The first line (the title) is left out: the page shows it as its heading.
    """
    out: list[str] = []
    for line in document.text.split("\n")[1:]:
        line = line.strip()
        if not line:
            continue
        if _H1_RE.match(line):
            out.append(f"<h3>{_esc(line)}</h3>")
        elif _H2_RE.match(line):
            out.append(f"<h4>{_esc(line)}</h4>")
        else:
            out.append(f"<p>{_esc(line)}</p>")
    return "".join(out)


def _fill(template: str, values: dict[str, str]) -> str:
    # One pass, so a value that happens to contain "{{x}}" is never substituted again.
    return _PLACEHOLDER_RE.sub(lambda m: values[m.group(1)], template)


def render_phone_page(
    *,
    person_name_masked: str,
    id_masked: str,
    document: Document,
    nonce: str,
    csp_nonce: str,
    post_url: str,
    face_provider_label: str,
) -> str:
    """The signing page for one person: document, face step, signature pad, submit."""
    csp_nonce = _check_csp_nonce(csp_nonce)
    values = {
        "css": _asset("page.css"),
        "js": _asset("page.js"),
        "csp_nonce": _esc(csp_nonce),
        "title": _esc(document.title),
        "person_name": _esc(person_name_masked),
        "id_masked": _esc(id_masked),
        "doc_html": document_html(document),
        "doc_version": _esc(document.version),
        "doc_sha": _esc(document.sha256[:16]),
        "nonce": _esc(nonce),
        "post_url": _esc(post_url),
        "face_label": _esc(face_provider_label),
        "max_chars": str(MAX_SIGNATURE_CHARS),
        "max_strokes": str(MAX_SIGNATURE_STROKES),
        "sig_width": str(SIGNATURE_WIDTH),
        "sig_height": str(SIGNATURE_HEIGHT),
    }
    return _fill(_asset("template.html"), values)


_INVALID_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>链接无效</title>
</head>
<body>
<h1>链接无效或已失效</h1>
<p>请向窗口工作人员重新获取二维码。</p>
</body>
</html>
"""


def render_invalid_page() -> str:
    """The one page for an unknown, expired or already used link: it reveals nothing."""
    return _INVALID_PAGE


def SECURITY_HEADERS(csp_nonce: str) -> dict[str, str]:  # the name the route code uses
    """Response headers for the phone page (and the invalid page) with this CSP nonce."""
    csp_nonce = _check_csp_nonce(csp_nonce)
    csp = "; ".join(
        [
            "default-src 'none'",
            f"script-src 'nonce-{csp_nonce}'",
            f"style-src 'nonce-{csp_nonce}'",
            "img-src data:",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )
    return {
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


def signature_path_problem(path: object) -> str | None:
    """None for signature path data the page can produce, else the reason in Chinese."""
    if not isinstance(path, str) or not path:
        return "请先签名"
    if len(path) > MAX_SIGNATURE_CHARS:
        return f"签名数据过长（最多{MAX_SIGNATURE_CHARS}个字符）"
    if not _SIGNATURE_RE.fullmatch(path):
        return "签名数据格式错误"
    if path.count("M") > MAX_SIGNATURE_STROKES:
        return f"签名笔画过多（最多{MAX_SIGNATURE_STROKES}笔）"
    for x, y in _COORD_RE.findall(path):
        if int(x) > SIGNATURE_WIDTH or int(y) > SIGNATURE_HEIGHT:
            return "签名坐标超出范围"
    return None
