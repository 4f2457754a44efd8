"""Extensions, PL/Python bootstrap, staging tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from alembic import op

from assocdata.migrate import apply_sql_files
from assocdata.pgsphere import create_extension

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Our corrected pg_sphere version when set-up installed it (Debian 12 +
    # PostgreSQL >= 15.20), else the server's default: see assocdata/pgsphere.py.
    create_extension(op.get_bind().connection.driver_connection)
    apply_sql_files(op, ["001_extensions.sql", "002_plpython.sql", "010_staging_tables.sql"])


def downgrade() -> None:
    raise NotImplementedError("assocdata migrations are forward-only")
