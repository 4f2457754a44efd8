"""Queue the published rows a re-staged file orphans (sql/032), so that an incremental refresh
removes exactly those instead of anti-joining every row of its catalogues.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from alembic import op

from assocdata.migrate import apply_sql_files

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    apply_sql_files(op, ["032_derive_withdrawn.sql"])
    # rows orphaned before the queue existed: once, here (the refresh no longer looks for them)
    op.execute("""INSERT INTO derive.withdrawn (obs_publisher_did, catalogue)
                  SELECT o.obs_publisher_did, o.source_catalogue FROM ivoa.obscore o
                   WHERE NOT EXISTS (SELECT 1 FROM derive.product p
                                      WHERE p.obs_publisher_did = o.obs_publisher_did)""")


def downgrade() -> None:
    raise NotImplementedError("assocdata migrations are forward-only")
