"""The notice every person signs (《告知书、申请授权及承诺书》), as the wire model."""

from __future__ import annotations

from jiuzhutong.contract.authorization import NoticeOut
from jiuzhutong.documents import Document, current_notice, get_notice
from jiuzhutong.service.errors import NotFound


def notice_out(doc: Document) -> NoticeOut:
    return NoticeOut(version=doc.version, title=doc.title, text=doc.text, sha256=doc.sha256)


def current() -> NoticeOut:
    return notice_out(current_notice())


def version(v: str) -> NoticeOut:
    doc = get_notice(v)
    if doc is None:
        raise NotFound(f"告知书版本不存在：{v[:20]}")
    return notice_out(doc)
