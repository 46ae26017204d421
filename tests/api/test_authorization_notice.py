"""GET /notice and /notice/{version}: the versioned, hash-pinned notice."""

from __future__ import annotations

import hashlib

from jiuzhutong.documents import CURRENT_NOTICE_VERSION

from .conftest import assert_error


def test_current_notice(backend, clerk):
    r = backend.client.get("/notice", headers=clerk.h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == CURRENT_NOTICE_VERSION
    assert "告知书" in body["title"]
    assert body["sha256"] == hashlib.sha256(body["text"].encode()).hexdigest()
    again = backend.client.get(f"/notice/{body['version']}", headers=clerk.h)
    assert again.status_code == 200 and again.json() == body


def test_unknown_version_is_404(backend, clerk):
    r = backend.client.get("/notice/v999", headers=clerk.h)
    assert_error(r, 404, "not_found", "告知书版本不存在：v999")


def test_notice_needs_login(backend):
    assert backend.client.get("/notice").status_code == 401
