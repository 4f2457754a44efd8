"""An index for prefix searches on the catalogue id (sql/081): LIKE 'J/A+A/526%' under any collation.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from alembic import op

from assocdata.migrate import apply_sql_files

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_files(op, ["081_obscore_catalogue_prefix.sql"])


def downgrade() -> None:
    raise NotImplementedError("assocdata migrations are forward-only")
