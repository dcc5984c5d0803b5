"""The ASGI app: routes, middleware, error rendering, health and metrics."""
