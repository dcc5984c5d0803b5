"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0; spec/endpoints.md §8, §9).

- `id_token_hint` must be an ID token we signed for this issuer (RP-Initiated Logout §2: "the OP
  MUST validate that it was the issuer"); an expired one is fine, since logging out is exactly
  what one does with an old ID token. Anything else is an error page (zitadel/oidc
  `ValidateEndSessionRequest`: "id_token_hint invalid").
- `client_id` and the hint must agree: `client_id` equals the hint's `azp`, or, for a hint
  without `azp`, is one of its `aud` (RP-Initiated Logout §2).
- `post_logout_redirect_uri` must exactly match one the client registered (§3: "MUST NOT
  perform post-logout redirection" otherwise; no normalisation, no prefix match, and — unlike
  ZITADEL's dev mode — no glob). It needs a client to check against: `client_id` or the hint's
  `azp`. A bad one is an error page, never a redirect: it is not trusted yet.
- `state` is appended to the redirect (§3); without a redirect it is dropped.
- `logout_hint` and `ui_locales` are accepted and not used.
- What ends: the login session named by the hint's `sid`, and every token issued in it
  (spec/endpoints.md §8: ending the session ends what was derived from it). A hint without `sid`
  ends its user's sessions on this browser. Without a hint ZITADEL ends every session of the
  browser at once; Bergfried asks first (RP-Initiated Logout §6: a logout request without a
  valid hint can be forged by any site, so the End-User confirms) — the web layer does that.
- Each ended session queues a back-channel logout token, in the same transaction, for every
  application that received tokens in it (`oidc/backchannel.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from bergfried.domain.apps import AppKind, Application, AppState
from bergfried.errors import InvalidRequest, InvalidToken
from bergfried.oidc import backchannel
from bergfried.services import Services
from bergfried.store import apps as app_store
from bergfried.store import sessions as session_store


class LogoutPageError(InvalidRequest):
    """Shown to the browser as a page; nothing is trusted enough to redirect to."""

    redirectable = False


@dataclass(frozen=True, slots=True)
class Hint:
    """What a verified `id_token_hint` tells us."""

    user_id: str
    session_id: str | None
    client_id: str | None  # azp


@dataclass(frozen=True, slots=True)
class Logout:
    hint: Hint | None
    redirect_to: str | None  # the registered URI with `state`, when one was asked for


async def _hint(services: Services, token: str) -> Hint:
    try:
        claims = await services.keyring.verify(token)
    except InvalidToken:
        raise LogoutPageError("The id_token_hint is not valid.") from None
    subject, sid, azp = claims.get("sub"), claims.get("sid"), claims.get("azp")
    if claims.get("iss") != services.settings.issuer or not isinstance(subject, str) or not subject:
        raise LogoutPageError("The id_token_hint was not issued here.")
    return Hint(user_id=subject, session_id=sid if isinstance(sid, str) and sid else None,
                client_id=azp if isinstance(azp, str) and azp else _only_audience(claims.get("aud")))


def _only_audience(aud: object) -> str | None:
    """A hint without `azp` names its client only if it has one audience (OIDC Core §2)."""
    if isinstance(aud, str):
        return aud
    if isinstance(aud, list) and len(aud) == 1 and isinstance(aud[0], str):
        return aud[0]
    return None


def _client_id(params: Mapping[str, str], hint: Hint | None) -> str | None:
    client_id = params.get("client_id") or None
    if client_id and hint is not None and hint.client_id is not None and client_id != hint.client_id:
        raise LogoutPageError("The client_id does not match the id_token_hint.")
    return client_id or (hint.client_id if hint else None)


async def _client(services: Services, client_id: str) -> Application:
    async with services.store.read() as conn:
        found = await app_store.find_by_client_id(conn, client_id)
    app = found[0] if found else None
    if app is None or app.kind != AppKind.OIDC or app.state != AppState.ACTIVE or app.oidc is None:
        raise LogoutPageError("The client is unknown or not active.")
    return app


def with_state(uri: str, state: str | None) -> str:
    if not state:
        return uri
    parts = urlsplit(uri)
    query = f"{parts.query}&{urlencode({'state': state})}" if parts.query else urlencode({"state": state})
    return urlunsplit(parts._replace(query=query))


async def validate(services: Services, params: Mapping[str, str]) -> Logout:
    """Every check, before anything ends."""
    hint = await _hint(services, params["id_token_hint"]) if params.get("id_token_hint") else None
    client_id = _client_id(params, hint)
    app = await _client(services, client_id) if client_id else None
    uri = params.get("post_logout_redirect_uri") or None
    if uri is None:
        return Logout(hint, None)
    if app is None:
        raise LogoutPageError("A post_logout_redirect_uri needs a client_id or an id_token_hint.")
    assert app.oidc is not None
    if uri not in app.oidc.post_logout_redirect_uris:
        raise LogoutPageError("The post_logout_redirect_uri is not registered for this client. "
                              "Register it exactly, character for character.")
    return Logout(hint, with_state(uri, params.get("state")))


async def end(services: Services, logout: Logout, *, user_agent_id: str | None) -> list[str]:
    """End the sessions this logout names and revoke their tokens; returns the ended ids.
    Without a hint, `user_agent_id` names the browser whose sessions all end (only after the
    End-User confirmed)."""
    hint = logout.hint
    async with services.store.write() as tx:
        if hint is not None and hint.session_id is not None:
            session_ids = [hint.session_id]
        elif user_agent_id is not None:
            live = await session_store.list_active(tx.conn, user_agent_id, now=tx.now)
            session_ids = [s.session.id for s in live if hint is None or s.session.user_id == hint.user_id]
        else:
            session_ids = []
        ended = []
        for session_id in session_ids:
            if await backchannel.end_session(services, tx, session_id):
                ended.append(session_id)
    return ended
