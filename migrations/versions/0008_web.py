"""The web pages' tables: submissions, documentalists' accounts and sessions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from alembic import op

from assocdata.migrate import apply_sql_files

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_files(op, ["080_web_tables.sql"])


def downgrade() -> None:
    raise NotImplementedError("assocdata migrations are forward-only")
