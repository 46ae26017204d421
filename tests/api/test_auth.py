"""Login, logout, /auth/me, session expiry and the login throttle."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from .conftest import PASSWORD, assert_error, insert_staff, login


def test_login_me_logout(backend):
    username = insert_staff(backend, role="clerk", region="420106")
    body = login(backend, username, counter="window-3")
    assert body["idle_timeout_seconds"] == 30 * 60
    assert body["staff"]["username"] == username
    assert body["staff"]["region_name"] == "湖北省武汉市武昌区"
    assert body["staff"]["can_reveal"] is False
    h = {"Authorization": f"Bearer {body['token']}"}

    me = backend.client.get("/auth/me", headers=h)
    assert me.status_code == 200
    assert me.json() == body["staff"]

    assert backend.client.post("/auth/logout", headers=h).status_code == 204
    r = backend.client.get("/auth/me", headers=h)
    assert_error(r, 401, "unauthenticated", "请先登录")
    assert r.headers["www-authenticate"] == "Bearer"


def test_token_is_stored_only_as_its_hash(backend):
    import hashlib

    username = insert_staff(backend, role="clerk", region="420106")
    token = login(backend, username)["token"]
    with backend.engine.connect() as conn:
        hashes = conn.execute(sa.text("SELECT token_hash FROM sessions")).scalars().all()
    assert hashlib.sha256(token.encode()).digest() in [bytes(h) for h in hashes]
    assert all(token.encode() not in bytes(h) for h in hashes)


def test_missing_or_unknown_token_is_401(backend):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        r = backend.client.get("/applications", headers=headers)
        assert_error(r, 401, "unauthenticated", "请先登录")


def test_bad_password_is_401_and_audited(backend):
    username = insert_staff(backend, role="clerk", region="420106")
    r = backend.client.post("/auth/login", json={"username": username, "password": "wrong-pw"})
    assert_error(r, 401, "bad_credentials", "用户名或密码错误")
    r = backend.client.post("/auth/login", json={"username": "nobody.here", "password": "x"})
    assert_error(r, 401, "bad_credentials", "用户名或密码错误")
    with backend.engine.connect() as conn:
        actions = conn.execute(
            sa.text("SELECT action FROM audit_events WHERE action = 'auth.login_failed'")
        ).scalars()
        assert len(list(actions)) >= 2


def test_idle_expiry(api):
    username = insert_staff(api, role="clerk", region="420106")
    h = {"Authorization": f"Bearer {login(api, username)['token']}"}
    api.clock.advance(timedelta(minutes=29))
    assert api.client.get("/auth/me", headers=h).status_code == 200  # use keeps it alive
    api.clock.advance(timedelta(minutes=29))
    assert api.client.get("/auth/me", headers=h).status_code == 200
    api.clock.advance(timedelta(minutes=31))
    r = api.client.get("/auth/me", headers=h)
    assert_error(r, 401, "unauthenticated", "长时间未操作，登录已失效，请重新登录")


def test_absolute_expiry(api):
    username = insert_staff(api, role="clerk", region="420106")
    body = login(api, username)
    h = {"Authorization": f"Bearer {body['token']}"}
    # used every 20 minutes, the session still ends 12 hours after login
    for _ in range(35):
        api.clock.advance(timedelta(minutes=20))
        assert api.client.get("/auth/me", headers=h).status_code == 200
    api.clock.advance(timedelta(minutes=20))  # 12 h 0 min
    r = api.client.get("/auth/me", headers=h)
    assert_error(r, 401, "unauthenticated", "登录已超过最长有效期，请重新登录")


def test_last_seen_is_written_at_most_once_a_minute(api):
    username = insert_staff(api, role="clerk", region="420106")
    body = login(api, username)
    h = {"Authorization": f"Bearer {body['token']}"}

    def last_seen():
        with api.engine.connect() as conn:
            return conn.execute(
                sa.text(
                    "SELECT s.last_seen_at FROM sessions s JOIN staff t ON t.id = s.staff_id "
                    "WHERE t.username = :u"
                ),
                {"u": username},
            ).scalar_one()

    first = last_seen()
    api.clock.advance(timedelta(seconds=30))
    api.client.get("/auth/me", headers=h)
    assert last_seen() == first  # a read within the minute does not write the session
    api.clock.advance(timedelta(seconds=40))
    api.client.get("/auth/me", headers=h)
    assert last_seen() != first


def test_too_many_failures_is_429_counted_in_the_database(api):
    username = insert_staff(api, role="clerk", region="420106")
    for _ in range(5):
        r = api.client.post("/auth/login", json={"username": username, "password": "wrong"})
        assert r.status_code == 401
    # even the right password is refused now, with a Retry-After
    r = api.client.post("/auth/login", json={"username": username, "password": PASSWORD})
    assert_error(r, 429, "too_many_attempts", "登录失败次数过多，请60秒后再试")
    assert r.headers["retry-after"] == "60"
    # counted per username: someone else still gets in
    other = insert_staff(api, role="clerk", region="420106")
    assert login(api, other)["token"]
    # the count lives in the database, not in this process: another service instance
    # (another worker) on the same database sees it too
    from jiuzhutong.contract import LoginRequest
    from jiuzhutong.service import build_services
    from jiuzhutong.service.errors import TooManyAttempts

    second = build_services(api.settings, clock=api.clock)
    try:
        second.divisions.reload()
        try:
            second.auth.login(LoginRequest(username=username, password=PASSWORD))
            raise AssertionError("the second worker let a throttled login through")
        except TooManyAttempts:
            pass
    finally:
        second.close()
    # the window is a minute
    api.clock.advance(timedelta(seconds=61))
    assert login(api, username)["token"]


def test_failed_logins_do_not_store_what_was_typed(api, people):
    typed = people.adult()  # a resident's ID number typed into the username box
    r = api.client.post("/auth/login", json={"username": typed, "password": "x"})
    assert r.status_code == 401
    with api.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT username FROM login_failures")).scalars().all()
        details = conn.execute(sa.text("SELECT detail FROM audit_events")).scalars().all()
    assert typed not in stored
    assert all(typed not in (d or "") for d in details)
