"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24

The whole domain as laid out in bergfried/store/tables.py; later revisions change it step by step.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import bergfried.store.tables

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('events',
    sa.Column('sequence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('aggregate_type', sa.String(length=40), nullable=False),
    sa.Column('aggregate_id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=80), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('editor_user_id', sa.String(length=20), nullable=True),
    sa.Column('resource_owner', sa.String(length=20), nullable=True),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sequence', name=op.f('pk_events')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_aggregate', ['aggregate_type', 'aggregate_id', 'sequence'], unique=False)
        batch_op.create_index('ix_events_resource_owner', ['resource_owner', 'sequence'], unique=False)

    op.create_table('executions',
    sa.Column('condition', sa.String(length=255), nullable=False),
    sa.Column('targets', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('condition', name=op.f('pk_executions'))
    )
    op.create_table('instances',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('singleton', sa.Integer(), server_default='1', nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('default_org_id', sa.String(length=20), nullable=False),
    sa.Column('settings', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instances')),
    sa.UniqueConstraint('singleton', name=op.f('uq_instances_singleton'))
    )
    op.create_table('orgs',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('primary_domain', sa.String(length=255), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orgs'))
    )
    op.create_index('uq_orgs_name_lower', 'orgs', [sa.text('lower(name)')], unique=True)
    op.create_table('outbox',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('destination', sa.String(length=2048), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_pending', ['delivered_at', 'failed_at', 'available_at'], unique=False)

    op.create_table('policies',
    sa.Column('scope_id', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('config', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('scope_id', 'kind', name=op.f('pk_policies'))
    )
    op.create_table('signing_keys',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('algorithm', sa.String(length=16), nullable=False),
    sa.Column('public_jwk', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('private_key_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signs_from', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_until', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_signing_keys'))
    )
    op.create_table('targets',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('target_type', sa.String(length=24), nullable=False),
    sa.Column('endpoint', sa.String(length=2048), nullable=False),
    sa.Column('timeout_ms', sa.Integer(), nullable=False),
    sa.Column('interrupt_on_error', sa.Boolean(), nullable=False),
    sa.Column('signing_key_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_targets')),
    sa.UniqueConstraint('name', name=op.f('uq_targets_name'))
    )
    op.create_table('used_assertions',
    sa.Column('issuer', sa.String(length=255), nullable=False),
    sa.Column('jti', sa.String(length=255), nullable=False),
    sa.Column('expires_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('issuer', 'jti', name=op.f('pk_used_assertions'))
    )
    with op.batch_alter_table('used_assertions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_assertions_expires_at'), ['expires_at'], unique=False)

    op.create_table('actions',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('org_id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('script', sa.Text(), nullable=False),
    sa.Column('timeout_ms', sa.Integer(), nullable=False),
    sa.Column('allowed_to_fail', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_actions_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actions'))
    )
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_actions_org_id'), ['org_id'], unique=False)

    op.create_table('org_domains',
    sa.Column('org_id', sa.String(length=20), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('is_verified', sa.Boolean(), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.Column('validation_type', sa.String(length=48), nullable=False),
    sa.Column('validation_token', sa.String(length=128), nullable=True),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_org_domains_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('domain', name=op.f('pk_org_domains'))
    )
    with op.batch_alter_table('org_domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_domains_org_id'), ['org_id'], unique=False)

    op.create_table('org_metadata',
    sa.Column('org_id', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_org_metadata_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'key', name=op.f('pk_org_metadata'))
    )
    op.create_table('projects',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('org_id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('project_role_assertion', sa.Boolean(), nullable=False),
    sa.Column('project_role_check', sa.Boolean(), nullable=False),
    sa.Column('has_project_check', sa.Boolean(), nullable=False),
    sa.Column('private_labeling_setting', sa.String(length=80), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_projects_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('org_id', 'name', name=op.f('uq_projects_org_id_name'))
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_projects_org_id'), ['org_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('org_id', sa.String(length=20), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=False),
    sa.Column('username_lower', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('first_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('last_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('nick_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('display_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('preferred_language', sa.String(length=10), server_default='', nullable=False),
    sa.Column('gender', sa.String(length=32), server_default='GENDER_UNSPECIFIED', nullable=False),
    sa.Column('email', sa.String(length=200), server_default='', nullable=False),
    sa.Column('email_lower', sa.String(length=200), server_default='', nullable=False),
    sa.Column('is_email_verified', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('phone', sa.String(length=50), server_default='', nullable=False),
    sa.Column('is_phone_verified', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('address', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('password_change_required', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('password_changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_password_attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('machine_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('machine_description', sa.String(length=500), server_default='', nullable=False),
    sa.Column('access_token_type', sa.String(length=32), server_default='ACCESS_TOKEN_TYPE_BEARER', nullable=False),
    sa.Column('secret_hash', sa.String(length=128), nullable=True),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_users_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('org_id', 'username_lower', name=op.f('uq_users_org_id_username_lower'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_email_lower'), ['email_lower'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_users_username_lower', ['username_lower'], unique=False)

    op.create_table('access_tokens',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('token_hash', sa.String(length=128), nullable=True),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=20), nullable=False),
    sa.Column('session_id', sa.String(length=20), nullable=True),
    sa.Column('refresh_token_id', sa.String(length=20), nullable=True),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('audience', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('auth_time', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('amr', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('actor', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_access_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_access_tokens_token_hash'))
    )
    with op.batch_alter_table('access_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_tokens_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('applications',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('project_id', sa.String(length=20), nullable=False),
    sa.Column('org_id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('client_secret_hash', sa.String(length=128), nullable=True),
    sa.Column('auth_method_type', sa.String(length=48), nullable=False),
    sa.Column('redirect_uris', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('post_logout_redirect_uris', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('response_types', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('grant_types', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('app_type', sa.String(length=32), server_default='OIDC_APP_TYPE_WEB', nullable=False),
    sa.Column('access_token_type', sa.String(length=32), server_default='OIDC_TOKEN_TYPE_BEARER', nullable=False),
    sa.Column('access_token_role_assertion', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('id_token_role_assertion', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('id_token_userinfo_assertion', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('clock_skew_ms', sa.Integer(), server_default='0', nullable=False),
    sa.Column('dev_mode', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('additional_origins', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('skip_native_app_success_page', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('back_channel_logout_uri', sa.String(length=2048), server_default='', nullable=False),
    sa.Column('login_v2_base_uri', sa.String(length=2048), nullable=True),
    sa.Column('compliance_problems', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_applications_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_applications_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('client_id', name=op.f('uq_applications_client_id'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_project_id'), ['project_id'], unique=False)

    op.create_table('authorization_codes',
    sa.Column('code_hash', sa.String(length=128), nullable=False),
    sa.Column('auth_request_id', sa.String(length=40), nullable=True),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=20), nullable=False),
    sa.Column('session_id', sa.String(length=20), nullable=True),
    sa.Column('redirect_uri', sa.String(length=2048), nullable=False),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('audience', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('nonce', sa.String(length=2048), nullable=True),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=8), nullable=True),
    sa.Column('auth_time', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('amr', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('consumed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_authorization_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('code_hash', name=op.f('pk_authorization_codes'))
    )
    with op.batch_alter_table('authorization_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authorization_codes_user_id'), ['user_id'], unique=False)

    op.create_table('device_authorizations',
    sa.Column('device_code_hash', sa.String(length=128), nullable=False),
    sa.Column('user_code', sa.String(length=16), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=20), nullable=True),
    sa.Column('session_id', sa.String(length=20), nullable=True),
    sa.Column('auth_time', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('amr', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('poll_interval', sa.Integer(), nullable=False),
    sa.Column('last_polled_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('consumed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_device_authorizations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_code_hash', name=op.f('pk_device_authorizations')),
    sa.UniqueConstraint('user_code', name=op.f('uq_device_authorizations_user_code'))
    )
    with op.batch_alter_table('device_authorizations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_authorizations_user_id'), ['user_id'], unique=False)

    op.create_table('flow_triggers',
    sa.Column('org_id', sa.String(length=20), nullable=False),
    sa.Column('flow_type', sa.String(length=40), nullable=False),
    sa.Column('trigger_type', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_flow_triggers_action_id_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_flow_triggers_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'flow_type', 'trigger_type', 'position', name=op.f('pk_flow_triggers'))
    )
    op.create_table('machine_keys',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.String(length=20), nullable=False),
    sa.Column('type', sa.String(length=24), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('expires_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_machine_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_machine_keys'))
    )
    with op.batch_alter_table('machine_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_machine_keys_user_id'), ['user_id'], unique=False)

    op.create_table('members',
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('object_id', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.String(length=20), nullable=False),
    sa.Column('roles', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('org_id', sa.String(length=20), nullable=True),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('level', 'object_id', 'user_id', name=op.f('pk_members'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index('ix_members_user_id', ['user_id'], unique=False)

    op.create_table('personal_access_tokens',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=128), nullable=False),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('expires_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_personal_access_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_access_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_personal_access_tokens_token_hash'))
    )
    with op.batch_alter_table('personal_access_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_personal_access_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('project_grants',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('project_id', sa.String(length=20), nullable=False),
    sa.Column('org_id', sa.String(length=20), nullable=False),
    sa.Column('granted_org_id', sa.String(length=20), nullable=False),
    sa.Column('role_keys', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('state', sa.String(length=40), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['granted_org_id'], ['orgs.id'], name=op.f('fk_project_grants_granted_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_project_grants_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_grants_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_grants')),
    sa.UniqueConstraint('project_id', 'granted_org_id', name=op.f('uq_project_grants_project_id_granted_org_id'))
    )
    with op.batch_alter_table('project_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_grants_granted_org_id'), ['granted_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_grants_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_grants_project_id'), ['project_id'], unique=False)

    op.create_table('project_roles',
    sa.Column('project_id', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('group', sa.String(length=200), server_default='', nullable=False),
    sa.Column('org_id', sa.String(length=20), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_project_roles_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_roles_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'key', name=op.f('pk_project_roles'))
    )
    with op.batch_alter_table('project_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_roles_org_id'), ['org_id'], unique=False)

    op.create_table('refresh_tokens',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=128), nullable=False),
    sa.Column('family_id', sa.String(length=20), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=20), nullable=False),
    sa.Column('session_id', sa.String(length=20), nullable=True),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('audience', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('auth_time', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('amr', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('actor', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('idle_expires_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('family_expires_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('consumed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_refresh_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_refresh_tokens_token_hash'))
    )
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refresh_tokens_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refresh_tokens_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refresh_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('sessions',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.String(length=20), nullable=True),
    sa.Column('user_agent_id', sa.String(length=64), nullable=True),
    sa.Column('token_hash', sa.String(length=128), nullable=True),
    sa.Column('password_checked_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('factors', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('metadata', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('expires_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('terminated_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sessions_token_hash'))
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_user_agent_id'), ['user_agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('user_metadata',
    sa.Column('user_id', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.Column('org_id', sa.String(length=20), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_user_metadata_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_metadata_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_user_metadata'))
    )
    with op.batch_alter_table('user_metadata', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_metadata_org_id'), ['org_id'], unique=False)

    op.create_table('application_keys',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('app_id', sa.String(length=20), nullable=False),
    sa.Column('type', sa.String(length=24), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('expires_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['applications.id'], name=op.f('fk_application_keys_app_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_keys'))
    )
    with op.batch_alter_table('application_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_keys_app_id'), ['app_id'], unique=False)

    op.create_table('auth_requests',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('redirect_uri', sa.String(length=2048), nullable=False),
    sa.Column('scopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('response_type', sa.String(length=32), nullable=False),
    sa.Column('response_mode', sa.String(length=16), nullable=True),
    sa.Column('state', sa.String(length=2048), nullable=True),
    sa.Column('nonce', sa.String(length=2048), nullable=True),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=8), nullable=True),
    sa.Column('prompt', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('max_age', sa.Integer(), nullable=True),
    sa.Column('login_hint', sa.String(length=512), nullable=True),
    sa.Column('ui_locales', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('hint_user_id', sa.String(length=20), nullable=True),
    sa.Column('session_id', sa.String(length=20), nullable=True),
    sa.Column('user_agent_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('consumed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_auth_requests_session_id_sessions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_requests'))
    )
    with op.batch_alter_table('auth_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_requests_session_id'), ['session_id'], unique=False)

    op.create_table('user_grants',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.String(length=20), nullable=False),
    sa.Column('project_id', sa.String(length=20), nullable=False),
    sa.Column('project_grant_id', sa.String(length=20), nullable=True),
    sa.Column('org_id', sa.String(length=20), nullable=False),
    sa.Column('role_keys', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('state', sa.String(length=40), nullable=False),
    sa.Column('created_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_at', bergfried.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sequence', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_user_grants_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_grant_id'], ['project_grants.id'], name=op.f('fk_user_grants_project_grant_id_project_grants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_user_grants_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_grants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_grants')),
    sa.UniqueConstraint('user_id', 'project_id', 'org_id', name=op.f('uq_user_grants_user_id_project_id_org_id'))
    )
    with op.batch_alter_table('user_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_grants_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_grants_project_grant_id'), ['project_grant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_grants_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_grants_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('user_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_grants_user_id'))
        batch_op.drop_index(batch_op.f('ix_user_grants_project_id'))
        batch_op.drop_index(batch_op.f('ix_user_grants_project_grant_id'))
        batch_op.drop_index(batch_op.f('ix_user_grants_org_id'))

    op.drop_table('user_grants')
    with op.batch_alter_table('auth_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_requests_session_id'))

    op.drop_table('auth_requests')
    with op.batch_alter_table('application_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_keys_app_id'))

    op.drop_table('application_keys')
    with op.batch_alter_table('user_metadata', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_metadata_org_id'))

    op.drop_table('user_metadata')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_sessions_user_agent_id'))

    op.drop_table('sessions')
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_user_id'))
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_session_id'))
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_family_id'))

    op.drop_table('refresh_tokens')
    with op.batch_alter_table('project_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_roles_org_id'))

    op.drop_table('project_roles')
    with op.batch_alter_table('project_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_grants_project_id'))
        batch_op.drop_index(batch_op.f('ix_project_grants_org_id'))
        batch_op.drop_index(batch_op.f('ix_project_grants_granted_org_id'))

    op.drop_table('project_grants')
    with op.batch_alter_table('personal_access_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_personal_access_tokens_user_id'))

    op.drop_table('personal_access_tokens')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index('ix_members_user_id')

    op.drop_table('members')
    with op.batch_alter_table('machine_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_machine_keys_user_id'))

    op.drop_table('machine_keys')
    op.drop_table('flow_triggers')
    with op.batch_alter_table('device_authorizations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_authorizations_user_id'))

    op.drop_table('device_authorizations')
    with op.batch_alter_table('authorization_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authorization_codes_user_id'))

    op.drop_table('authorization_codes')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applications_project_id'))
        batch_op.drop_index(batch_op.f('ix_applications_org_id'))

    op.drop_table('applications')
    with op.batch_alter_table('access_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_tokens_user_id'))
        batch_op.drop_index(batch_op.f('ix_access_tokens_session_id'))

    op.drop_table('access_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_username_lower')
        batch_op.drop_index(batch_op.f('ix_users_org_id'))
        batch_op.drop_index(batch_op.f('ix_users_email_lower'))

    op.drop_table('users')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_projects_org_id'))

    op.drop_table('projects')
    op.drop_table('org_metadata')
    with op.batch_alter_table('org_domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_domains_org_id'))

    op.drop_table('org_domains')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_actions_org_id'))

    op.drop_table('actions')
    with op.batch_alter_table('used_assertions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_assertions_expires_at'))

    op.drop_table('used_assertions')
    op.drop_table('targets')
    op.drop_table('signing_keys')
    op.drop_table('policies')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_pending')

    op.drop_table('outbox')
    op.drop_table('orgs')
    op.drop_table('instances')
    op.drop_table('executions')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_resource_owner')
        batch_op.drop_index('ix_events_aggregate')

    op.drop_table('events')
