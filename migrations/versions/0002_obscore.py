"""ivoa.obscore (generated from obscore.yaml) and the derivation schema.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

from assocdata.migrate import apply_sql_files

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_files(op, ["020_obscore_table.sql", "030_derive_tables.sql",
                         "031_derive_functions.sql"])


def downgrade() -> None:
    raise NotImplementedError("assocdata migrations are forward-only")
