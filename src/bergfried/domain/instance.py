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
    # The project "ZITADEL" that first start creates in the default organization (ZITADEL's
    # FirstInstance does the same): its id is the audience of the management API, requested with
    # the scope `urn:zitadel:iam:org:project:id:zitadel:aud`.
    zitadel_project_id: str | None = None


def instance_domain(external_url: str) -> str:
    """The host part of the issuer, without port: `http://localhost:8080` → `localhost`."""
    host = urlsplit(external_url).hostname
    return (host or "localhost").lower()
