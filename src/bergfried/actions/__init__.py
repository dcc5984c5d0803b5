"""Actions: custom claims from JavaScript (Actions v1, the complement token flow) and from
webhooks (Actions v2 targets and executions), run before userinfo, introspection, the ID token
(trigger "pre userinfo creation" / function `preuserinfo`) and the JWT access token ("pre access
token creation" / `preaccesstoken`). Facts: spec/actions.md."""

from __future__ import annotations


class ActionFailed(Exception):
    """An action that is not allowed to fail (v1) or a target with interruptOnError (v2) failed:
    the request that ran it fails with this message."""
