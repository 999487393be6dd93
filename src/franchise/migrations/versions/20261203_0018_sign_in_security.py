"""sign-in security: throttle counts, sign-in log, second factors, session stage

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import franchise.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", franchise.db.UTCDateTime(), nullable=False),
        sa.Column("blocked_until", franchise.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_throttle_last_failure_at"), ["last_failure_at"], unique=False
        )
    op.create_table(
        "sign_in_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", franchise.db.UTCDateTime(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_sign_in_events_staff_id_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_events")),
    )
    with op.batch_alter_table("sign_in_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_events_staff_id"), ["staff_id"], unique=False)
    op.create_table(
        "totp_factors",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("secret_sealed", sa.String(length=500), nullable=False),
        sa.Column("confirmed_at", franchise.db.UTCDateTime(), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=False),
        sa.Column("created_at", franchise.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_totp_factors_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_totp_factors")),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", franchise.db.UTCDateTime(), nullable=True),
        sa.Column("created_at", franchise.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_recovery_codes_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_staff_id"), ["staff_id"], unique=False)
    op.create_table(
        "passkey_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", franchise.db.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", franchise.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_passkey_credentials_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkey_credentials")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_passkey_credentials_credential_id")),
    )
    with op.batch_alter_table("passkey_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_passkey_credentials_staff_id"), ["staff_id"], unique=False
        )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stage", sa.String(length=16), server_default="full", nullable=False)
        )
        batch_op.add_column(
            sa.Column("ip", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("user_agent", sa.String(length=300), server_default="", nullable=False)
        )
    # "Require MFA for owner and admin" is the default for new installs. An install that
    # already has staff keeps signing in as before until an owner turns it on, rather than
    # finding every manager sent to enrolment by an upgrade.
    bind = op.get_bind()
    has_staff = bind.execute(sa.text("SELECT 1 FROM staff LIMIT 1")).first() is not None
    has_row = (
        bind.execute(sa.text("SELECT 1 FROM org_settings WHERE key = 'require_mfa'")).first()
        is not None
    )
    if has_staff and not has_row:
        org_settings = sa.table(
            "org_settings",
            sa.column("key", sa.String),
            sa.column("value", sa.JSON),
            sa.column("updated_at", franchise.db.UTCDateTime()),
        )
        op.bulk_insert(
            org_settings,
            [
                {
                    "key": "require_mfa",
                    "value": {"value": "off"},
                    "updated_at": franchise.db.utcnow(),
                }
            ],
        )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM org_settings WHERE key = 'require_mfa'"))
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_column("user_agent")
        batch_op.drop_column("ip")
        batch_op.drop_column("stage")
    with op.batch_alter_table("passkey_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passkey_credentials_staff_id"))
    op.drop_table("passkey_credentials")
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_staff_id"))
    op.drop_table("recovery_codes")
    op.drop_table("totp_factors")
    with op.batch_alter_table("sign_in_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_events_staff_id"))
        batch_op.drop_index(batch_op.f("ix_sign_in_events_at"))
    op.drop_table("sign_in_events")
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttle_last_failure_at"))
    op.drop_table("login_throttle")
