"""ObsCore derivation rules: from staged headers to ObsCore cells with provenance."""
