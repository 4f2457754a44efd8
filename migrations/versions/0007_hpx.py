"""The experimental HEALPix position index: the assocdata_hpx extension, the b-tree on
ivoa.obscore.hpx, hpx_cone, the footprint coverage index and the catalogue MOCs.

Needs the C extension built and installed by `assocdata db setup` (ext/assocdata_hpx).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from alembic import op

from assocdata.migrate import apply_sql_files

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_files(op, ["070_hpx_index.sql", "071_hpx_coverage.sql"])


def downgrade() -> None:
    raise NotImplementedError("assocdata migrations are forward-only")
