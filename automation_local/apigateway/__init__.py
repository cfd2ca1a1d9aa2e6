"""API Gateway HTTP API on localhost: the template's routes served as payload 2.0 events."""
