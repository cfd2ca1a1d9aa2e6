"""The webhook's own modules (a package, so its names never meet another function's)."""
