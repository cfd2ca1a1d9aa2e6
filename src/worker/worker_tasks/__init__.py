"""The worker's own modules: the task registry, one processor module per task type, and
how a task's outcome becomes a result message."""
