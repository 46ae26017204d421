"""authorizations, remote links, signed documents, application events

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 08:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "authorizations",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=True),
        sa.Column("identity_check", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("signer_person_id", sa.String(length=36), nullable=True),
        sa.Column("verified_by_staff_id", sa.String(length=36), nullable=True),
        sa.Column("document_id", sa.String(length=36), nullable=True),
        sa.Column("document_sha256", sa.LargeBinary(length=32), nullable=True),
        sa.Column("updated_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_authorizations_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_authorizations")),
    )
    op.create_index(op.f("ix_authorizations_application_id"), "authorizations", ["application_id"])
    op.create_table(
        "remote_links",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.Column("used_at", _AT, nullable=True),
        sa.Column("superseded_at", _AT, nullable=True),
        sa.Column("page_nonce_hash", sa.LargeBinary(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_remote_links_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remote_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_remote_links_token_hash")),
    )
    op.create_index("ix_remote_links_person_id", "remote_links", ["person_id", "created_at"])
    op.create_table(
        "link_failures",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_failures")),
    )
    op.create_index("ix_link_failures_address_at", "link_failures", ["address", "at"])
    op.create_table(
        "signed_documents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("document_version", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("record_enc", sa.LargeBinary(), nullable=False),
        sa.Column("signed_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_signed_documents_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signed_documents")),
    )
    op.create_index(
        op.f("ix_signed_documents_application_id"), "signed_documents", ["application_id"]
    )
    op.create_table(
        "event_counters",
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_event_counters_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_event_counters")),
    )
    op.create_table(
        "application_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("data_enc", sa.LargeBinary(), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_events_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_events")),
    )
    op.create_index(
        "uq_application_events_application_seq",
        "application_events",
        ["application_id", "seq"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_application_events_application_seq", table_name="application_events")
    op.drop_table("application_events")
    op.drop_table("event_counters")
    op.drop_index(op.f("ix_signed_documents_application_id"), table_name="signed_documents")
    op.drop_table("signed_documents")
    op.drop_index("ix_link_failures_address_at", table_name="link_failures")
    op.drop_table("link_failures")
    op.drop_index("ix_remote_links_person_id", table_name="remote_links")
    op.drop_table("remote_links")
    op.drop_index(op.f("ix_authorizations_application_id"), table_name="authorizations")
    op.drop_table("authorizations")
