"""Organizations and their domains."""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

from bergfried.domain.common import check_length
from bergfried.domain.ids import OrgId


class OrgState(enum.StrEnum):
    UNSPECIFIED = "ORG_STATE_UNSPECIFIED"
    ACTIVE = "ORG_STATE_ACTIVE"
    INACTIVE = "ORG_STATE_INACTIVE"
    REMOVED = "ORG_STATE_REMOVED"


class DomainValidationType(enum.StrEnum):
    UNSPECIFIED = "DOMAIN_VALIDATION_TYPE_UNSPECIFIED"
    HTTP = "DOMAIN_VALIDATION_TYPE_HTTP"
    DNS = "DOMAIN_VALIDATION_TYPE_DNS"


@dataclass(frozen=True, slots=True)
class Org:
    id: OrgId
    name: str
    state: OrgState
    primary_domain: str


@dataclass(frozen=True, slots=True)
class OrgDomain:
    org_id: OrgId
    domain: str
    is_verified: bool
    is_primary: bool
    validation_type: DomainValidationType = DomainValidationType.UNSPECIFIED


def validate_org_name(name: str) -> str:
    return check_length(name.strip(), "Name", min_len=1, max_len=200, message="AddOrgRequest")


def org_domain_label(name: str) -> str:
    """ZITADEL's `NewIAMDomainName` label: spaces become `-`, anything but letters, marks,
    digits and `-` goes, cut to 63, `-` stripped from both ends, lower case.

    As ZITADEL's pattern `[^\\p{L}\\p{M}0-9-]`, only the ASCII digits count as digits; and as Go's
    `strings.ToLower`, case is mapped character by character (`İ` → `i`, where `str.lower()` would
    give two code points)."""
    kept = []
    for ch in name.replace(" ", "-"):
        if ch == "-" or "0" <= ch <= "9" or unicodedata.category(ch)[0] in ("L", "M"):
            kept.append(ch)
    label = "".join(kept)[:63].strip("-")
    return "".join(ch.lower()[0] for ch in label)


def generated_org_domain(org_name: str, instance_domain: str) -> str:
    """The verified primary domain every new organization gets: `<label>.<instance domain>`."""
    label = org_domain_label(org_name)
    return f"{label}.{instance_domain}" if label else instance_domain
