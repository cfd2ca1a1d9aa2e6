"""Lambda on this machine: each function's configuration from the deployed stack, its
handler loaded as Lambda loads it, sandboxes that run it, and `invoke` for one event."""
