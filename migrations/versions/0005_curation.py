"""Curation: caches of Simbad answers, filter profiles, filter matches and ReadMe suggestions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from alembic import op

from assocdata.migrate import apply_sql_files

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_files(op, ["050_curation_tables.sql", "051_curation_functions.sql"])


def downgrade() -> None:
    raise NotImplementedError("assocdata migrations are forward-only")
