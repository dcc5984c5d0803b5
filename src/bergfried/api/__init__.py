"""The ZITADEL-compatible management API without the web framework: authentication, permissions,
protojson, lists, the endpoint registry and the OpenAPI document (`web/api.py` serves them)."""
