"""The instance: the top of everything, with its default organization and its domain."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from bergfried.domain.ids import InstanceId, OrgId


@dataclass(frozen=True, slots=True)
class Instance:
    id: InstanceId
    name: str
    domain: str  # ZITADEL's ExternalDomain: the issuer's host, generated org domains end in it
    default_org_id: OrgId


def instance_domain(external_url: str) -> str:
    """The host part of the issuer, without port: `http://localhost:8080` → `localhost`."""
    host = urlsplit(external_url).hostname
    return (host or "localhost").lower()
