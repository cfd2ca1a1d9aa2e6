"""The feedback function's own modules: one per follow-up action."""
