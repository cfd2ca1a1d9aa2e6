"""What an operator does to a running stack and reads of it: redrive a dead-letter queue, a
queue's counts, a DLQ's messages read without taking them."""
