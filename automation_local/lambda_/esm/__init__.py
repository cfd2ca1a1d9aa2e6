"""SQS event source mappings as Lambda runs them: the poller (a loop around one poll step),
Lambda's event filtering, and the SQS records handed to the function."""
