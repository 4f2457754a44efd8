"""Mapping files: their tables (mapping.*), run-time functions, the user-function schema,
and derive.file_input (moved from sql/031) with the header defaults.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from alembic import op

from assocdata.migrate import apply_sql_files

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_files(op, ["040_mapping_tables.sql", "041_mapping_functions.sql",
                         "042_derive_input.sql", "043_update_in_place.sql"])


def downgrade() -> None:
    raise NotImplementedError("assocdata migrations are forward-only")
