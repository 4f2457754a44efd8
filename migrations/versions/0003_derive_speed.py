"""Derivation speed: the rules' input as arrays (keywords, header texts), re-applied sql/031.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from alembic import op

from assocdata.migrate import apply_sql_files

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 031 holds only views and functions (it drops what changed its signature first)
    apply_sql_files(op, ["031_derive_functions.sql"])


def downgrade() -> None:
    raise NotImplementedError("assocdata migrations are forward-only")
