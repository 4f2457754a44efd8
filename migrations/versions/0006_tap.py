"""TAP publication: TAP_SCHEMA's tables (filled by `assocdata tap schema`), the TAP role.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from alembic import op

from assocdata.migrate import apply_sql_files

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_files(op, ["060_tap_schema.sql", "061_tap_role.sql"])


def downgrade() -> None:
    raise NotImplementedError("assocdata migrations are forward-only")
