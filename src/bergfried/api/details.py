"""`details` of a change, taken from the event its transaction wrote (sequence, date, owner)."""

from __future__ import annotations

from datetime import datetime

from bergfried.api.lists import ObjectDetailsModel
from bergfried.domain.common import ObjectDetails


def of(details: ObjectDetails) -> ObjectDetailsModel:
    """A mutation's answer: add fills the creation date, change/remove the change date
    (ZITADEL's `object/converter.go`); the store's `added()`/`changed()` already chose."""
    return ObjectDetailsModel(sequence=details.sequence, creation_date=details.creation_date,
                              change_date=details.change_date, resource_owner=details.resource_owner)


def of_row(sequence: int, created: datetime, changed: datetime, owner: str) -> ObjectDetailsModel:
    """A read object's details: both dates."""
    return ObjectDetailsModel(sequence=sequence, creation_date=created, change_date=changed, resource_owner=owner)
