"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-12-01 07:00:38.401365
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=True),
        sa.Column("counter_id", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_subject", "audit_events", ["subject_id", "id"], unique=False)
    op.create_table(
        "divisions",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("parent", sa.String(length=12), nullable=True),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_divisions")),
    )
    op.create_table(
        "login_failures",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index(
        "ix_login_failures_username_at", "login_failures", ["username", "at"], unique=False
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column(
            "region",
            sa.String(length=12).with_variant(sa.String(length=12, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("can_reveal", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_username")),
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column(
            "region",
            sa.String(length=12).with_variant(sa.String(length=12, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("applicant_blind", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("counter_id", sa.String(length=100), nullable=False),
        sa.Column("notice_version", sa.String(length=100), nullable=True),
        sa.Column("step", sa.String(length=100), nullable=True),
        sa.Column("entrusting_name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("entrusting_id_enc", sa.LargeBinary(), nullable=True),
        sa.Column("entrusting_blind", sa.LargeBinary(length=32), nullable=True),
        sa.Column("resident_name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("entrusted_staff_id", sa.String(length=36), nullable=True),
        sa.Column("entrusted_counter_id", sa.String(length=100), nullable=True),
        sa.Column("entrusted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_applications_created_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["entrusted_staff_id"],
            ["staff.id"],
            name=op.f("fk_applications_entrusted_staff_id_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    op.create_index(
        "ix_applications_status_region_updated",
        "applications",
        ["status", "region", "updated_at"],
        unique=False,
    )
    op.create_index(
        "uq_applications_open_applicant",
        "applications",
        ["applicant_blind"],
        unique=True,
        sqlite_where=sa.text("status = '草稿'"),
        postgresql_where=sa.text("status = '草稿'"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(length=32), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body_enc", sa.LargeBinary(), nullable=False),
        sa.Column("etag", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_idempotency_keys_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("staff_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("counter_id", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_sessions_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sessions_token_hash")),
    )
    op.create_index(op.f("ix_sessions_staff_id"), "sessions", ["staff_id"], unique=False)
    op.create_table(
        "persons",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=10), nullable=False),
        sa.Column("name_enc", sa.LargeBinary(), nullable=False),
        sa.Column("id_enc", sa.LargeBinary(), nullable=False),
        sa.Column("id_blind", sa.LargeBinary(length=32), nullable=False),
        sa.Column("details_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_persons_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
    )
    op.create_index(
        "ix_persons_application_position", "persons", ["application_id", "position"], unique=False
    )
    op.create_index(op.f("ix_persons_id_blind"), "persons", ["id_blind"], unique=False)
    _audit_append_only()


def downgrade() -> None:
    _drop_audit_append_only()
    op.drop_index(op.f("ix_persons_id_blind"), table_name="persons")
    op.drop_index("ix_persons_application_position", table_name="persons")
    op.drop_table("persons")
    op.drop_index(op.f("ix_sessions_staff_id"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("idempotency_keys")
    op.drop_index(
        "uq_applications_open_applicant",
        table_name="applications",
        sqlite_where=sa.text("status = '草稿'"),
        postgresql_where=sa.text("status = '草稿'"),
    )
    op.drop_index("ix_applications_status_region_updated", table_name="applications")
    op.drop_table("applications")
    op.drop_table("staff")
    op.drop_index("ix_login_failures_username_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_table("divisions")
    op.drop_index("ix_audit_events_subject", table_name="audit_events")
    op.drop_table("audit_events")


def _audit_append_only() -> None:
    """The audit trail refuses UPDATE and DELETE in the database itself, not only in the API."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
        "ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
    )


def _drop_audit_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
