"""Personal access tokens, machine keys and the client secret of machine users (spec/management-api.md
§5.2). Tokens and secrets are shown once and kept as keyed hashes; a generated key's private half
leaves only in the key file ZITADEL emits."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bergfried.crypto.hashing import generate_secret
from bergfried.domain.common import ObjectDetails
from bergfried.domain.users import MachineUser
from bergfried.errors import InvalidArgument, PreconditionFailed
from bergfried.management.scope import user_for_command
from bergfried.services import Services
from bergfried.store import credentials, users
from bergfried.store.credentials import NO_EXPIRY
from bergfried.store.tx import Tx


def _expiry(tx: Tx, expiration: datetime | None) -> datetime:
    """No date → 9999-12-31T23:59:59Z; a date in the past is refused (`domain.EnsureValidExpirationDate`)."""
    if expiration is None:
        return NO_EXPIRY
    expiration = expiration if expiration.tzinfo else expiration.replace(tzinfo=UTC)
    if expiration < tx.now:
        raise InvalidArgument("Errors.AuthNKey.ExpireBeforeNow", "The expiration date is in the past",
                              error_id="AUTHN-dv3t5")
    return expiration


async def add_pat(tx: Tx, services: Services, org_id: str, user_id: str,
                  expiration: datetime | None) -> tuple[str, str, ObjectDetails]:
    """(token id, token, details); a human user is FAILED_PRECONDITION `Errors.User.WrongType`."""
    user = await user_for_command(tx.conn, user_id, org_id)
    token = generate_secret()
    pat_id, details = await credentials.add_pat(tx, user, services.hasher.hash(token),
                                                expires_at=_expiry(tx, expiration))
    return pat_id, token, details


async def remove_pat(tx: Tx, org_id: str, user_id: str, pat_id: str) -> ObjectDetails:
    user = await user_for_command(tx.conn, user_id, org_id)
    return await credentials.remove_pat(tx, user, pat_id)


def _public_pem(public_key: bytes) -> str:
    try:
        key = serialization.load_pem_public_key(public_key)
    except (ValueError, TypeError):
        raise InvalidArgument("Errors.User.Machine.Key.Invalid", "The public key is not a PEM public key",
                              error_id="COMMAND-5Fke2") from None
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_file(key_id: str, private_pem: str, expiration: datetime, user_id: str) -> bytes:
    """ZITADEL's machine key file (`internal/domain/machine_key.go` `Detail()`)."""
    return json.dumps({"type": "serviceaccount", "keyId": key_id, "key": private_pem,
                       "expirationDate": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"), "userId": user_id}).encode()


async def add_key(tx: Tx, org_id: str, user_id: str, expiration: datetime | None,
                  public_key: bytes) -> tuple[str, bytes, ObjectDetails]:
    """(key id, key file or b"" when the caller brought its public key, details)."""
    user = await user_for_command(tx.conn, user_id, org_id)
    expires = _expiry(tx, expiration)
    if public_key:
        key_id, details = await credentials.add_machine_key(tx, user, _public_pem(public_key), expires_at=expires)
        return key_id, b"", details
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption()).decode()
    key_id, details = await credentials.add_machine_key(tx, user, public_pem, expires_at=expires)
    return key_id, key_file(key_id, private_pem, expires, user.id), details


async def remove_key(tx: Tx, org_id: str, user_id: str, key_id: str) -> ObjectDetails:
    user = await user_for_command(tx.conn, user_id, org_id)
    return await credentials.remove_machine_key(tx, user, key_id)


def _machine(user: object) -> MachineUser:
    if not isinstance(user, MachineUser):
        raise PreconditionFailed("Errors.User.NotMachine", "User is not a machine user", error_id="COMMAND-2n8vs")
    return user


async def generate_machine_secret(tx: Tx, services: Services, org_id: str,
                                  user_id: str) -> tuple[MachineUser, str, ObjectDetails]:
    machine = _machine(await user_for_command(tx.conn, user_id, org_id))
    secret = generate_secret()
    return machine, secret, await users.set_machine_secret(tx, machine, services.hasher.hash(secret))


async def remove_machine_secret(tx: Tx, org_id: str, user_id: str) -> ObjectDetails:
    machine = _machine(await user_for_command(tx.conn, user_id, org_id))
    return await users.set_machine_secret(tx, machine, None)
