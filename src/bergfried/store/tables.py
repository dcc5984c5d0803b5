"""Every table of Bergfried, in SQLAlchemy Core, for SQLite and PostgreSQL alike.

Laid out for the whole product, not only for what is used today: the OIDC endpoints (auth
requests, codes, tokens, refresh families, device codes, used assertion ids), the management
API (organizations, users, metadata, projects, roles, grants, members, applications, keys),
actions (scripts, flows, targets, executions), the outbox (back-channel logout, webhooks) and
the append-only `events` table written in the same transaction as every change.

Rules that hold everywhere:
- ids are ZITADEL-style decimal strings (`String(20)`), except where a table is keyed by a hash;
- secrets and tokens appear only as keyed hashes (`*_hash`), signing keys only encrypted;
- time columns hold aware UTC datetimes (`UTCDateTime`), whatever the engine stores;
- single-use things carry `consumed_at`, set by one conditional UPDATE whose row count decides.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out; SQLite keeps naive text, PostgreSQL timestamptz."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Id = sa.String(20)


def _id(name: str = "id", **kw: Any) -> sa.Column[str]:
    return sa.Column(name, Id, primary_key=True, **kw)


def _times() -> list[sa.Column[Any]]:
    """creation/change dates and the sequence of the last event, ZITADEL's `details`."""
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False, server_default="0"),
    ]


def _fk(column: str, target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> sa.Column[str]:
    return sa.Column(column, Id, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True)


# --- audit ------------------------------------------------------------------------------------

events = sa.Table(
    "events", metadata,
    sa.Column("sequence", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("aggregate_type", sa.String(40), nullable=False),
    sa.Column("aggregate_id", sa.String(64), nullable=False),
    sa.Column("event_type", sa.String(80), nullable=False),
    sa.Column("payload", JSONType, nullable=False),
    sa.Column("editor_user_id", Id, nullable=True),
    sa.Column("resource_owner", Id, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_events_aggregate", "aggregate_type", "aggregate_id", "sequence"),
    sa.Index("ix_events_resource_owner", "resource_owner", "sequence"),
    sqlite_autoincrement=True,  # never reuse a sequence, even after a rollback of the last row
)

# --- instance and organizations --------------------------------------------------------------

instances = sa.Table(
    "instances", metadata,
    _id(),
    # Exactly one instance per database: the unique singleton makes a racing second bootstrap
    # fail on insert instead of creating a twin.
    sa.Column("singleton", sa.Integer, nullable=False, server_default="1", unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("domain", sa.String(255), nullable=False),
    sa.Column("default_org_id", Id, nullable=False),
    sa.Column("settings", JSONType, nullable=False),
    *_times(),
)

orgs = sa.Table(
    "orgs", metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("primary_domain", sa.String(255), nullable=False),
    *_times(),
)
# Organization names are unique in an instance, whatever their case (`Errors.Org.AlreadyExists`).
sa.Index("uq_orgs_name_lower", sa.func.lower(orgs.c.name), unique=True)

org_domains = sa.Table(
    "org_domains", metadata,
    _fk("org_id", "orgs.id"),
    sa.Column("domain", sa.String(255), primary_key=True),
    sa.Column("is_verified", sa.Boolean, nullable=False),
    sa.Column("is_primary", sa.Boolean, nullable=False),
    sa.Column("validation_type", sa.String(48), nullable=False),
    sa.Column("validation_token", sa.String(128), nullable=True),
    *_times(),
)

org_metadata = sa.Table(
    "org_metadata", metadata,
    sa.Column("org_id", Id, sa.ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.LargeBinary, nullable=False),
    *_times(),
)

# Instance- or org-level policies set through the API; absent rows fall back to the settings.
policies = sa.Table(
    "policies", metadata,
    sa.Column("scope_id", Id, primary_key=True),  # instance id or org id
    sa.Column("kind", sa.String(40), primary_key=True),  # login, lockout, password_complexity, domain
    sa.Column("config", JSONType, nullable=False),
    *_times(),
)

# --- users -----------------------------------------------------------------------------------

users = sa.Table(
    "users", metadata,
    _id(),
    _fk("org_id", "orgs.id"),
    sa.Column("type", sa.String(16), nullable=False),  # TYPE_HUMAN | TYPE_MACHINE
    sa.Column("username", sa.String(200), nullable=False),
    sa.Column("username_lower", sa.String(200), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    # human
    sa.Column("first_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("last_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("nick_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("display_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("preferred_language", sa.String(10), nullable=False, server_default=""),
    sa.Column("gender", sa.String(32), nullable=False, server_default="GENDER_UNSPECIFIED"),
    sa.Column("email", sa.String(200), nullable=False, server_default=""),
    sa.Column("email_lower", sa.String(200), nullable=False, server_default="", index=True),
    sa.Column("is_email_verified", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("phone", sa.String(50), nullable=False, server_default=""),
    sa.Column("is_phone_verified", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("address", JSONType, nullable=True),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("password_change_required", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("password_changed_at", UTCDateTime(), nullable=True),
    sa.Column("failed_password_attempts", sa.Integer, nullable=False, server_default="0"),
    # machine
    sa.Column("machine_name", sa.String(200), nullable=False, server_default=""),
    sa.Column("machine_description", sa.String(500), nullable=False, server_default=""),
    sa.Column("access_token_type", sa.String(32), nullable=False, server_default="ACCESS_TOKEN_TYPE_BEARER"),
    sa.Column("secret_hash", sa.String(128), nullable=True),
    *_times(),
    # With userLoginMustBeDomain a user name is unique within its organization.
    sa.UniqueConstraint("org_id", "username_lower"),
    sa.Index("ix_users_username_lower", "username_lower"),
)

user_metadata = sa.Table(
    "user_metadata", metadata,
    sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.LargeBinary, nullable=False),
    _fk("org_id", "orgs.id"),
    *_times(),
)

personal_access_tokens = sa.Table(
    "personal_access_tokens", metadata,
    _id(),
    _fk("user_id", "users.id"),
    sa.Column("token_hash", sa.String(128), nullable=False, unique=True),
    sa.Column("scopes", JSONType, nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    *_times(),
)

machine_keys = sa.Table(
    "machine_keys", metadata,
    _id(),
    _fk("user_id", "users.id"),
    sa.Column("type", sa.String(24), nullable=False),  # KEY_TYPE_JSON
    sa.Column("public_key", sa.Text, nullable=False),  # PEM
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    *_times(),
)

# --- projects, roles, grants, members --------------------------------------------------------

projects = sa.Table(
    "projects", metadata,
    _id(),
    _fk("org_id", "orgs.id"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("project_role_assertion", sa.Boolean, nullable=False),
    sa.Column("project_role_check", sa.Boolean, nullable=False),
    sa.Column("has_project_check", sa.Boolean, nullable=False),
    sa.Column("private_labeling_setting", sa.String(80), nullable=False),
    *_times(),
    sa.UniqueConstraint("org_id", "name"),
)

project_roles = sa.Table(
    "project_roles", metadata,
    sa.Column("project_id", Id, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("group", sa.String(200), nullable=False, server_default=""),
    _fk("org_id", "orgs.id"),
    *_times(),
)

project_grants = sa.Table(
    "project_grants", metadata,
    _id(),
    _fk("project_id", "projects.id"),
    _fk("org_id", "orgs.id"),
    _fk("granted_org_id", "orgs.id"),
    sa.Column("role_keys", JSONType, nullable=False),
    sa.Column("state", sa.String(40), nullable=False),
    *_times(),
    sa.UniqueConstraint("project_id", "granted_org_id"),
)

user_grants = sa.Table(
    "user_grants", metadata,
    _id(),
    _fk("user_id", "users.id"),
    _fk("project_id", "projects.id"),
    _fk("project_grant_id", "project_grants.id", nullable=True),
    _fk("org_id", "orgs.id"),  # resource owner: the project's org or the granted org
    sa.Column("role_keys", JSONType, nullable=False),
    sa.Column("state", sa.String(40), nullable=False),
    *_times(),
    sa.UniqueConstraint("user_id", "project_id", "org_id"),
)

members = sa.Table(
    "members", metadata,
    sa.Column("level", sa.String(16), primary_key=True),  # instance | org | project | project_grant
    sa.Column("object_id", Id, primary_key=True),
    sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("roles", JSONType, nullable=False),
    sa.Column("org_id", Id, nullable=True),  # the org the object belongs to (none for instance)
    *_times(),
    sa.Index("ix_members_user_id", "user_id"),
)

# --- applications ----------------------------------------------------------------------------

applications = sa.Table(
    "applications", metadata,
    _id(),
    _fk("project_id", "projects.id"),
    _fk("org_id", "orgs.id"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # oidc | api
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("client_id", sa.String(255), nullable=False, unique=True),
    sa.Column("client_secret_hash", sa.String(128), nullable=True),
    sa.Column("auth_method_type", sa.String(48), nullable=False),
    # OIDC
    sa.Column("redirect_uris", JSONType, nullable=False),
    sa.Column("post_logout_redirect_uris", JSONType, nullable=False),
    sa.Column("response_types", JSONType, nullable=False),
    sa.Column("grant_types", JSONType, nullable=False),
    sa.Column("app_type", sa.String(32), nullable=False, server_default="OIDC_APP_TYPE_WEB"),
    sa.Column("access_token_type", sa.String(32), nullable=False, server_default="OIDC_TOKEN_TYPE_BEARER"),
    sa.Column("access_token_role_assertion", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("id_token_role_assertion", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("id_token_userinfo_assertion", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("clock_skew_ms", sa.Integer, nullable=False, server_default="0"),
    sa.Column("dev_mode", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("additional_origins", JSONType, nullable=False),
    sa.Column("skip_native_app_success_page", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("back_channel_logout_uri", sa.String(2048), nullable=False, server_default=""),
    sa.Column("login_v2_base_uri", sa.String(2048), nullable=True),
    sa.Column("compliance_problems", JSONType, nullable=False),
    *_times(),
)

application_keys = sa.Table(
    "application_keys", metadata,
    _id(),
    _fk("app_id", "applications.id"),
    sa.Column("type", sa.String(24), nullable=False),
    sa.Column("public_key", sa.Text, nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    *_times(),
)

# --- signing keys ----------------------------------------------------------------------------

signing_keys = sa.Table(
    "signing_keys", metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("algorithm", sa.String(16), nullable=False),
    sa.Column("public_jwk", JSONType, nullable=False),
    sa.Column("private_key_sealed", sa.LargeBinary, nullable=False),  # AES-GCM under the master key
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("signs_from", UTCDateTime(), nullable=False),  # published before it signs
    sa.Column("retired_at", UTCDateTime(), nullable=True),
    sa.Column("published_until", UTCDateTime(), nullable=True),  # retired + longest token lifetime
)

# --- login sessions, auth requests, codes, tokens ---------------------------------------------

sessions = sa.Table(
    "sessions", metadata,
    _id(),
    _fk("user_id", "users.id", nullable=True),
    sa.Column("user_agent_id", sa.String(64), nullable=True, index=True),
    sa.Column("token_hash", sa.String(128), nullable=True, unique=True),  # v2 session token
    sa.Column("password_checked_at", UTCDateTime(), nullable=True),
    sa.Column("factors", JSONType, nullable=False),
    sa.Column("metadata", JSONType, nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    sa.Column("terminated_at", UTCDateTime(), nullable=True),
    *_times(),
    # v2 session API (revision 0003): who created it, and the user agent it was told about
    sa.Column("creator_id", Id, nullable=True),
    sa.Column("user_agent", JSONType, nullable=True),
)

auth_requests = sa.Table(
    "auth_requests", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # `V2_<id>` for custom login UIs
    sa.Column("client_id", sa.String(255), nullable=False),
    sa.Column("redirect_uri", sa.String(2048), nullable=False),
    sa.Column("scopes", JSONType, nullable=False),
    sa.Column("response_type", sa.String(32), nullable=False),
    sa.Column("response_mode", sa.String(16), nullable=True),
    sa.Column("state", sa.String(2048), nullable=True),
    sa.Column("nonce", sa.String(2048), nullable=True),
    sa.Column("code_challenge", sa.String(128), nullable=True),
    sa.Column("code_challenge_method", sa.String(8), nullable=True),
    sa.Column("prompt", JSONType, nullable=False),
    sa.Column("max_age", sa.Integer, nullable=True),
    sa.Column("login_hint", sa.String(512), nullable=True),
    sa.Column("ui_locales", JSONType, nullable=False),
    sa.Column("hint_user_id", Id, nullable=True),
    _fk("session_id", "sessions.id", nullable=True, ondelete="SET NULL"),
    sa.Column("user_agent_id", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("consumed_at", UTCDateTime(), nullable=True),
    # what the login hands back (revision 0002)
    sa.Column("user_id", Id, nullable=True),
    sa.Column("auth_time", UTCDateTime(), nullable=True),
    sa.Column("amr", JSONType, nullable=True),
    sa.Column("error", sa.String(40), nullable=True),
    sa.Column("error_description", sa.String(500), nullable=True),
    # the service user a `V2_` request is bound to (`x-zitadel-login-client`, revision 0003)
    sa.Column("login_client", Id, nullable=True),
)

authorization_codes = sa.Table(
    "authorization_codes", metadata,
    sa.Column("code_hash", sa.String(128), primary_key=True),
    sa.Column("auth_request_id", sa.String(40), nullable=True),
    sa.Column("client_id", sa.String(255), nullable=False),
    _fk("user_id", "users.id"),
    sa.Column("session_id", Id, nullable=True),
    sa.Column("redirect_uri", sa.String(2048), nullable=False),
    sa.Column("scopes", JSONType, nullable=False),
    sa.Column("audience", JSONType, nullable=False),
    sa.Column("nonce", sa.String(2048), nullable=True),
    sa.Column("code_challenge", sa.String(128), nullable=True),
    sa.Column("code_challenge_method", sa.String(8), nullable=True),
    sa.Column("auth_time", UTCDateTime(), nullable=True),
    sa.Column("amr", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("consumed_at", UTCDateTime(), nullable=True),
    sa.Column("family_id", Id, nullable=True),  # tokens its redemption issued (revision 0002)
    sa.Column("response_type", sa.String(32), nullable=False, server_default="code"),
)

refresh_tokens = sa.Table(
    "refresh_tokens", metadata,
    _id(),
    sa.Column("token_hash", sa.String(128), nullable=False, unique=True),
    sa.Column("family_id", Id, nullable=False, index=True),
    sa.Column("client_id", sa.String(255), nullable=False),
    _fk("user_id", "users.id"),
    sa.Column("session_id", Id, nullable=True, index=True),
    sa.Column("scopes", JSONType, nullable=False),
    sa.Column("audience", JSONType, nullable=False),
    sa.Column("auth_time", UTCDateTime(), nullable=True),
    sa.Column("amr", JSONType, nullable=False),
    sa.Column("actor", JSONType, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("idle_expires_at", UTCDateTime(), nullable=False),
    sa.Column("family_expires_at", UTCDateTime(), nullable=False),
    sa.Column("consumed_at", UTCDateTime(), nullable=True),  # rotated
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

access_tokens = sa.Table(
    "access_tokens", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # the JWT's jti, or the opaque token's id
    sa.Column("token_hash", sa.String(128), nullable=True, unique=True),  # opaque tokens only
    sa.Column("format", sa.String(8), nullable=False),  # opaque | jwt
    sa.Column("client_id", sa.String(255), nullable=False),
    _fk("user_id", "users.id"),
    sa.Column("session_id", Id, nullable=True, index=True),
    sa.Column("refresh_token_id", Id, nullable=True),
    sa.Column("scopes", JSONType, nullable=False),
    sa.Column("audience", JSONType, nullable=False),
    sa.Column("auth_time", UTCDateTime(), nullable=True),
    sa.Column("amr", JSONType, nullable=False),
    sa.Column("actor", JSONType, nullable=True),  # RFC 8693 `act`
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.Column("family_id", Id, nullable=True),  # revision 0002
    sa.Index("ix_access_tokens_family_id", "family_id"),
)

device_authorizations = sa.Table(
    "device_authorizations", metadata,
    sa.Column("device_code_hash", sa.String(128), primary_key=True),
    sa.Column("user_code", sa.String(16), nullable=False, unique=True),
    sa.Column("client_id", sa.String(255), nullable=False),
    sa.Column("scopes", JSONType, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # pending | approved | denied
    _fk("user_id", "users.id", nullable=True),
    sa.Column("session_id", Id, nullable=True),
    sa.Column("auth_time", UTCDateTime(), nullable=True),
    sa.Column("amr", JSONType, nullable=False),
    sa.Column("poll_interval", sa.Integer, nullable=False),
    sa.Column("last_polled_at", UTCDateTime(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("consumed_at", UTCDateTime(), nullable=True),
)

# RFC 7523 §3 / RFC 7521: a client assertion or JWT grant's `jti` is used at most once.
used_assertions = sa.Table(
    "used_assertions", metadata,
    sa.Column("issuer", sa.String(255), primary_key=True),
    sa.Column("jti", sa.String(255), primary_key=True),
    sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
)

# --- actions (v1 scripts and flows, v2 targets and executions) --------------------------------

actions = sa.Table(
    "actions", metadata,
    _id(),
    _fk("org_id", "orgs.id"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("script", sa.Text, nullable=False),
    sa.Column("timeout_ms", sa.Integer, nullable=False),
    sa.Column("allowed_to_fail", sa.Boolean, nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    *_times(),
)

flow_triggers = sa.Table(
    "flow_triggers", metadata,
    sa.Column("org_id", Id, sa.ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("flow_type", sa.String(40), primary_key=True),
    sa.Column("trigger_type", sa.String(40), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("action_id", Id, sa.ForeignKey("actions.id", ondelete="CASCADE"), nullable=False),
)

targets = sa.Table(
    "targets", metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("target_type", sa.String(24), nullable=False),  # webhook | call | async
    sa.Column("endpoint", sa.String(2048), nullable=False),
    sa.Column("timeout_ms", sa.Integer, nullable=False),
    sa.Column("interrupt_on_error", sa.Boolean, nullable=False),
    sa.Column("signing_key_sealed", sa.LargeBinary, nullable=False),
    *_times(),
)

executions = sa.Table(
    "executions", metadata,
    sa.Column("condition", sa.String(255), primary_key=True),  # e.g. function/preuserinfo
    sa.Column("targets", JSONType, nullable=False),
    *_times(),
)

# --- outbox ----------------------------------------------------------------------------------

outbox = sa.Table(
    "outbox", metadata,
    _id(),
    sa.Column("kind", sa.String(40), nullable=False),  # backchannel_logout | webhook
    sa.Column("destination", sa.String(2048), nullable=False),
    sa.Column("payload", JSONType, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("available_at", UTCDateTime(), nullable=False),
    sa.Column("locked_until", UTCDateTime(), nullable=True),
    sa.Column("delivered_at", UTCDateTime(), nullable=True),
    sa.Column("failed_at", UTCDateTime(), nullable=True),
    sa.Column("last_error", sa.String(1000), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_outbox_pending", "delivered_at", "failed_at", "available_at"),
)
