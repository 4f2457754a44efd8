"""assocdata: the associated data of astronomy catalogues as an IVOA ObsCore table.

    from assocdata import extract, apply_mapping, load_table
    response = extract('~/data/J_A+A_526_A155')   # stage + derive (embedded database)
    table = response.to_table()                     # astropy Table, units from the spec
    response.write('obscore.csv')                   # .csv .ecsv .xml/.vot .fits
    table = load_table('obscore.csv')               # units restored

Imports are lazy: PL/Python imports this package inside the database server,
which needs only the rules, not the client's database driver.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["extract", "apply_mapping", "load_table", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("extract", "apply_mapping", "load_table"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'assocdata' has no attribute {name!r}")
