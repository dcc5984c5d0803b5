"""Metadata of a declared organization or user: one action per key that is new or has another
value; with `--prune`, one per key the given map leaves out. Values are UTF-8 text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from bergfried.apply.actions import Action, Context, Kind, diff
from bergfried.domain.metadata import Metadata

SetValues = Callable[[Context, list[Metadata]], Awaitable[object]]
RemoveKeys = Callable[[Context, list[str]], Awaitable[object]]


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


def plan(actions: list[Action], deletions: list[Action], target: str, at: str, wanted: Mapping[str, str] | None,
         current: Mapping[str, bytes], prune: bool, set_values: SetValues, remove_keys: RemoveKeys) -> None:
    for key, value in (wanted or {}).items():
        encoded = value.encode()
        if current.get(key) == encoded:
            continue

        async def set_value(ctx: Context, key: str = key, encoded: bytes = encoded) -> None:
            await set_values(ctx, [Metadata(key, encoded)])

        kind = Kind.CHANGE if key in current else Kind.CREATE
        changes = diff({"value": (_text(current[key]), value)}) if key in current else ()
        actions.append(Action(kind, "metadata", f"{target} {key}", f"{at}.metadata.{key}", set_value, changes))
    if prune and wanted is not None:
        for key in sorted(set(current) - set(wanted)):
            async def remove(ctx: Context, key: str = key) -> None:
                await remove_keys(ctx, [key])

            deletions.append(Action(Kind.DELETE, "metadata", f"{target} {key}", f"{at}.metadata", remove))
