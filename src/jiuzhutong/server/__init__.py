"""HTTP layer: FastAPI app factory, routers, auth dependency, error handlers.

The only package that imports fastapi or starlette.
"""

from jiuzhutong.server.app import create_app

__all__ = ["create_app"]
