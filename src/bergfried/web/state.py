"""What handlers read from the app: the process's `Services`, put there by the lifespan."""

from __future__ import annotations

from starlette.requests import Request

from bergfried.services import Services


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
