"""Re-apply the replaceable mapping objects changed since 0004: mapping.catalogue_hashes
(set-based catalogue hashes, sql/041) and derive.cell_provenance with header_defaults (sql/042).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from alembic import op

from assocdata.migrate import apply_sql_files

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # functions and views only (CREATE OR REPLACE / DROP VIEW IF EXISTS + CREATE): idempotent
    apply_sql_files(op, ["041_mapping_functions.sql", "042_derive_input.sql"])


def downgrade() -> None:
    raise NotImplementedError("assocdata migrations are forward-only")
