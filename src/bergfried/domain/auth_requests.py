"""An authorization request between `/oauth/v2/authorize` and the callback that answers it.

The hosted login (or a custom login UI through the v2 OIDC service) authenticates the user and
links a session to the request, or records why it failed; the callback then issues the code or
tokens, or redirects the error (RFC 6749 §4.1.2.1). The request is consumed once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

V2_PREFIX = "V2_"  # ZITADEL's `IDPrefixV2` (internal/command/auth_request.go)
# A login for a device authorization (RFC 8628): no redirect URI, the user code in `state`; it
# ends on the hosted login's allow/deny page, never at the authorize callback.
DEVICE_RESPONSE_TYPE = "device_code"


@dataclass(frozen=True, slots=True)
class AuthRequest:
    id: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    response_type: str  # "code" | "id_token" | "id_token token"
    created_at: datetime
    expires_at: datetime
    response_mode: str | None = None
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    prompt: tuple[str, ...] = ()
    max_age: int | None = None
    login_hint: str | None = None
    ui_locales: tuple[str, ...] = ()
    hint_user_id: str | None = None  # from a verified id_token_hint
    # the browser (keyed hash of its user-agent cookie) this request belongs to; set by the
    # first login visit, checked by every later one and by the callback
    user_agent_id: str | None = None
    # filled by the login
    session_id: str | None = None
    user_id: str | None = None
    auth_time: datetime | None = None
    amr: tuple[str, ...] = field(default_factory=tuple)
    error: str | None = None
    error_description: str | None = None
    consumed_at: datetime | None = None
    # `V2_` requests: the service user of the custom login UI they are bound to, if the
    # authorize call named one (`x-zitadel-login-client`, spec/api-v2.md §5)
    login_client: str | None = None

    @property
    def is_v2(self) -> bool:
        """Handled by a custom login UI through the v2 OIDC service, not by the hosted login."""
        return self.id.startswith(V2_PREFIX)

    @property
    def is_device(self) -> bool:
        return self.response_type == DEVICE_RESPONSE_TYPE

    @property
    def done(self) -> bool:
        """The login has finished: a session is linked or an error recorded."""
        return self.session_id is not None or self.error is not None
