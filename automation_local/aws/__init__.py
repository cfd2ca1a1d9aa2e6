"""The AWS side of the local runtime: the embedded emulator (a moto server), the server
process with its call counting and indexed SQS queues, and the fault proxy in front of it."""
