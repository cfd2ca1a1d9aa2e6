"""What an operator does to a running stack: redrive a dead-letter queue."""
