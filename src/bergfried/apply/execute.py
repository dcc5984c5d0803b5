"""Run a plan in one write transaction: the whole file applies or nothing does.

The plan is made inside the same transaction it runs in, so it cannot act on a state another
writer changed in between. A dry run runs every step too and then rolls back: it reports the
errors the real apply would hit (password policy, invalid OIDC settings) and writes nothing.
New client secrets go to files (mode 0600) before the commit, so a secret that cannot be handed
out rolls the apply back instead of being lost.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bergfried.apply import current, plan, plan_flows, plan_targets
from bergfried.apply.actions import Action, Context, NewSecret
from bergfried.apply.schema import World
from bergfried.errors import ConfigError, DomainError
from bergfried.services import Services
from bergfried.store import instances

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Outcome:
    actions: list[Action]
    applied: bool  # False for a dry run
    secrets: list[NewSecret] = field(default_factory=list)  # new client secrets, to hand out once
    secret_files: list[Path] = field(default_factory=list)  # one per secret with --secrets-dir, else empty


class _RollBack(Exception):
    def __init__(self, actions: list[Action]) -> None:
        self.actions = actions


def secret_file_name(target: str) -> str:
    """`ACME/docs-claims/web` → `acme.docs-claims.web.json`."""
    return ".".join(_UNSAFE.sub("_", part.lower()) for part in target.split("/")) + ".json"


def write_secret(directory: Path, secret: NewSecret) -> Path:
    """The file is created with mode 0600 (never wider, whatever the umask), replacing an older one."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / secret_file_name(secret.target)
    body = json.dumps({"clientId": secret.client_id, "clientSecret": secret.secret}, indent=2) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, body.encode())
    finally:
        os.close(fd)
    return path


async def _run(ctx: Context, actions: list[Action], source: str) -> None:
    for action in actions:
        try:
            await action.step(ctx)
        except DomainError as exc:
            raise ConfigError(f"{source}: {action.source}: cannot {action.kind} {action.what} {action.target}: "
                              f"{exc.description} ({exc.error_id})") from None
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None


def _preload(ctx: Context, now: Mapping[str, current.OrgNow]) -> None:
    for key, org in now.items():
        ctx.orgs[key] = org.org.id
        for name, project in org.projects.items():
            ctx.projects[(key, name)] = project.project
        for user_name, user in org.users.items():
            ctx.users[(key, user_name)] = user.user


def _write_secrets(directory: Path, secrets: list[NewSecret]) -> list[Path]:
    written: list[Path] = []
    try:
        for secret in secrets:
            written.append(write_secret(directory, secret))
    except OSError as exc:
        _remove(written)
        raise ConfigError(f"cannot write the client secret to {directory}: {exc.strerror}; nothing was applied") \
            from None
    return written


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


async def apply_world(services: Services, world: World, *, base_dir: Path, environ: Mapping[str, str],
                      dry_run: bool = False, prune: bool = False, secrets_dir: Path | None = None,
                      source: str = "world file") -> Outcome:
    """`source` names the file in error messages, before the path inside it."""
    written: list[Path] = []
    try:
        async with services.store.write() as tx:
            instance = await instances.get(tx.conn)
            if instance is None:
                raise ConfigError("there is no instance in this database yet; run `bergfried start` once first")
            now = await current.load(tx.conn, world)
            targets_now = await plan_targets.load(tx.conn)
            flows_now = await plan_flows.load(tx.conn, {key: org.org.id for key, org in now.items()})
            try:
                actions = (plan.plan(world, now, prune=prune) + plan_flows.plan(world, flows_now, base_dir, prune=prune)
                           + plan_targets.plan(world, targets_now, prune=prune))
            except ConfigError as exc:
                raise ConfigError(f"{source}: {exc}") from None
            ctx = Context(tx=tx, services=services, instance=instance, base_dir=base_dir, environ=environ)
            _preload(ctx, now)
            await _run(ctx, actions, source)
            if dry_run:
                raise _RollBack(actions)
            if secrets_dir is not None:
                written = _write_secrets(secrets_dir, ctx.secrets)
    except _RollBack as rolled_back:
        return Outcome(rolled_back.actions, applied=False)
    except BaseException:
        _remove(written)
        raise
    return Outcome(actions, applied=True, secrets=ctx.secrets, secret_files=written)
