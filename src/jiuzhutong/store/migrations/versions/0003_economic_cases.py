"""economic checks, corrections, cases and case counters

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "economic_checks",
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("started_at", _AT, nullable=False),
        sa.Column("started_by", sa.String(length=36), nullable=True),
        sa.Column("result_run_id", sa.String(length=36), nullable=True),
        sa.Column("generated_at", _AT, nullable=True),
        sa.Column("items_enc", sa.LargeBinary(), nullable=True),
        sa.Column("sources", sa.Text(), nullable=True),
        sa.Column("persons_digest", sa.LargeBinary(length=32), nullable=True),
        sa.Column("confirmed_at", _AT, nullable=True),
        sa.Column("confirmed_by", sa.String(length=36), nullable=True),
        sa.Column("confirmed_digest", sa.LargeBinary(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_economic_checks_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_economic_checks")),
    )
    op.create_table(
        "economic_corrections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("data_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_economic_corrections_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_economic_corrections")),
    )
    op.create_index(
        "ix_economic_corrections_application_run",
        "economic_corrections",
        ["application_id", "run_id"],
    )
    op.create_table(
        "cases",
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=20), nullable=False),
        sa.Column("division", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("submitted_at", _AT, nullable=False),
        sa.Column("submitted_by", sa.String(length=36), nullable=True),
        sa.Column("timeline_enc", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_cases_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_cases")),
        sa.UniqueConstraint("case_number", name=op.f("uq_cases_case_number")),
        sa.UniqueConstraint("division", "year", "seq", name=op.f("uq_cases_division_year_seq")),
    )
    op.create_table(
        "case_counters",
        sa.Column("division", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("division", "year", name=op.f("pk_case_counters")),
    )


def downgrade() -> None:
    op.drop_table("case_counters")
    op.drop_table("cases")
    op.drop_index("ix_economic_corrections_application_run", table_name="economic_corrections")
    op.drop_table("economic_corrections")
    op.drop_table("economic_checks")
