"""Bergfried: a ZITADEL-compatible OpenID Connect provider."""

__version__ = "0.1.0"
