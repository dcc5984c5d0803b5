"""Signing keys: generation, encryption at rest, the JWKS document."""
