"""/openapi.json describes every endpoint with its models and error responses; /healthz."""

from __future__ import annotations

EXPECTED = {
    ("get", "/healthz"), ("post", "/auth/login"), ("post", "/auth/logout"), ("get", "/auth/me"),
    ("post", "/staff"), ("get", "/staff"), ("get", "/divisions"), ("get", "/divisions/{code}"),
    ("post", "/applications"), ("get", "/applications"), ("post", "/applications/lookup"),
    ("get", "/applications/{draft_id}"), ("patch", "/applications/{draft_id}"),
    ("delete", "/applications/{draft_id}"), ("post", "/applications/{draft_id}/members"),
    ("patch", "/applications/{draft_id}/members/{member_id}"),
    ("delete", "/applications/{draft_id}/members/{member_id}"), ("get", "/admin/audit"),
}  # fmt: skip


def test_health(backend):
    r = backend.client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "database": "sqlite" if backend.name == "sqlite" else "postgresql",
        "version": "0.1.0",
    }


def test_openapi_lists_every_endpoint_with_models(backend):
    r = backend.client.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    ops = {(m, p): op for p, item in spec["paths"].items() for m, op in item.items()}
    assert set(ops) >= EXPECTED
    schemas = spec["components"]["schemas"]
    for name in ("DraftOut", "DraftCreate", "DraftUpdate", "MemberIn", "ErrorBody", "StaffOut"):
        assert name in schemas
    for (method, path), op in ops.items():
        if (method, path) not in EXPECTED:
            continue
        codes = set(op["responses"])
        ok = next(c for c in codes if c.startswith("2"))
        if ok != "204":
            assert "$ref" in str(op["responses"][ok]["content"]), (method, path)
        if path not in ("/healthz",):
            assert "401" in codes or path == "/auth/login", (method, path)
        for c in codes - {ok}:
            assert op["responses"][c]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorBody"
            }, (method, path, c)
    get_draft = ops[("get", "/applications/{draft_id}")]
    assert {p["name"] for p in get_draft["parameters"]} == {"draft_id", "reveal"}
    assert get_draft["security"] == [{"BearerToken": []}]
    assert "ETag" in get_draft["responses"]["200"]["headers"]
    assert ops[("patch", "/applications/{draft_id}")]["requestBody"]


def test_divisions(backend, clerk):
    r = backend.client.get("/divisions", headers=clerk.h)
    prefectures = {d["code"]: d["name"] for d in r.json()}
    assert prefectures["4201"] == "武汉市" and "4228" in prefectures
    r = backend.client.get("/divisions?parent=420106", headers=clerk.h)
    streets = r.json()
    assert streets and all(d["level"] == "street" and d["sample"] for d in streets)
    r = backend.client.get("/divisions/420106", headers=clerk.h)
    assert r.json()["full_name"] == "湖北省武汉市武昌区"
    r = backend.client.get("/divisions/429999", headers=clerk.h)
    assert r.status_code == 404 and r.json()["detail"][0]["message"] == "行政区划代码不存在：429999"
    assert backend.client.get("/divisions").status_code == 401
