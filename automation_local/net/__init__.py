"""Loopback networking every local part shares: the threaded HTTP server base of the
stand-ins, the HTTP API and the fault proxy, and free ports."""
