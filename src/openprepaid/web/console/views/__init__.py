"""Console views, one module per area; the shared patterns are in :mod:`.base`."""
