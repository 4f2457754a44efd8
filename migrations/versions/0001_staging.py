"""Extensions, PL/Python bootstrap, staging tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from alembic import op

from assocdata.migrate import apply_sql_files
from assocdata.pgsphere import PATCHED_VERSION

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    driver = op.get_bind().connection.driver_connection
    # Our corrected pg_sphere version when set-up installed it (Debian 12 +
    # PostgreSQL >= 15.20), else the server's default: see assocdata/pgsphere.py.
    patched = driver.execute(
        "SELECT 1 FROM pg_available_extension_versions WHERE name = 'pg_sphere' AND version = %s",
        (PATCHED_VERSION,),
    ).fetchone()
    if patched:
        driver.execute(f"CREATE EXTENSION IF NOT EXISTS pg_sphere VERSION '{PATCHED_VERSION}'")
    else:
        driver.execute("CREATE EXTENSION IF NOT EXISTS pg_sphere")
    apply_sql_files(op, ["001_extensions.sql", "002_plpython.sql", "010_staging_tables.sql"])


def downgrade() -> None:
    raise NotImplementedError("assocdata migrations are forward-only")
