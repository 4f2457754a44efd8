"""assocdata: the associated data of astronomy catalogues as an IVOA ObsCore table."""

__version__ = "0.1.0"
