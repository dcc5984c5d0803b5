"""`grant_type=client_credentials` (RFC 6749 §4.4) for machine users (spec/other-grants.md §1).

- Applications take no part: `client_id` is the machine user's login name, `client_secret` the
  secret generated for it (`PUT /management/v1/users/{id}/secret`), sent in the Basic header
  (form-URL-encoded halves, RFC 6749 §2.3.1) or in the form.
- ZITADEL's errors, all 400 (spec/endpoints.md §6): no such machine user → `invalid_client`
  "client not found"; no secret set → `invalid_request` "Errors.User.Machine.Secret.NotExisting";
  a wrong or missing secret → `invalid_request` "Errors.User.Machine.Secret.Invalid".
- A successful check is recorded as ZITADEL's `user.machine.secret.check.succeeded` event, in
  the transaction that issues the tokens.
- The user must be active; tokens as `machine.py` describes (`amr` = `["pwd"]`).
"""

from __future__ import annotations

from collections.abc import Mapping

from bergfried.claims import subject as subject_loader
from bergfried.domain.users import MachineUser
from bergfried.errors import InvalidClient, InvalidRequest
from bergfried.oidc import client_auth
from bergfried.oidc.grants import machine
from bergfried.services import Services
from bergfried.tokens.issue import Issued


async def exchange(services: Services, authorization: str | None, form: Mapping[str, str]) -> Issued:
    credentials = client_auth.parse(authorization, form)
    if credentials.assertion:
        raise InvalidRequest("client_credentials takes a client secret; use the jwt-bearer grant with a key")
    assert credentials.client_id is not None
    async with services.store.write() as tx:
        # the machine user with everything its tokens' claims need, and its secret's hash: one read
        found = await subject_loader.load_machine(
            tx.conn, credentials.client_id, must_be_domain=services.policies.domain.user_login_must_be_domain)
        if found is None:
            services.hasher.hash(credentials.secret or "")  # the same work whether or not the user exists
            raise InvalidClient("client not found", status=400, detail=f"no machine user {credentials.client_id!r}")
        subject, secret_hash = found
        user = subject.user
        assert isinstance(user, MachineUser)
        if secret_hash is None:
            raise InvalidRequest("Errors.User.Machine.Secret.NotExisting")
        if not credentials.secret or not services.hasher.verify(credentials.secret, secret_hash):
            raise InvalidRequest("Errors.User.Machine.Secret.Invalid")
        tx.defer_event("user", user.id, "user.machine.secret.check.succeeded", {}, resource_owner=user.org_id)
        return await machine.issue_for(services, tx, user, machine.requested_scopes(form.get("scope")), ("pwd",),
                                       subject=subject)
