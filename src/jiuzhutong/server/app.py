"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from jiuzhutong import __version__
from jiuzhutong.server import errors
from jiuzhutong.server.routes import (
    applications,
    audit,
    auth,
    authorization,
    divisions,
    economic,
    events,
    health,
    members,
    notice,
    phone,
    staff,
)
from jiuzhutong.service import Services, build_services
from jiuzhutong.service.clock import Clock
from jiuzhutong.settings import Settings

DESCRIPTION = """救助通服务：柜台终端与小程序共用的后端。

除 `/healthz`、`/openapi.json` 与 `POST /auth/login` 外，均需 `Authorization: Bearer <token>`。
所有错误响应均为 `ErrorBody`；身份证号默认脱敏（前6后4）。
"""


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    clock: Clock | None = None,
    migrate: bool | None = None,
) -> FastAPI:
    """Build the app; the database is prepared here, before any request can arrive.

    ``migrate=None``: SQLite migrates itself, PostgreSQL must already be at head
    (SchemaNotAtHead otherwise). Pass ``services`` to share one store between apps.
    """
    own_services = services is None
    services = services or build_services(settings, clock=clock)
    services.prepare(migrate=migrate)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        services.events.start_listening()  # PostgreSQL: events from the other processes
        sweeper = asyncio.create_task(services.authorization.sweep_forever())  # 已过期 links
        yield
        sweeper.cancel()
        services.events.stop_listening()
        if own_services:
            services.close()

    app = FastAPI(
        title="jiuzhutong",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    errors.install(app)
    # the draft routes first: routes are matched in order, and they are the hot ones
    for module in (applications, members, auth, divisions, staff, audit, health, notice):
        app.include_router(module.router(services))
    app.include_router(economic.router(services))  # issue 3: economic check, submit
    for module in (authorization, events, phone):  # issue 3: authorization, live status
        app.include_router(module.router(services))
    return app
