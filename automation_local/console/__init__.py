"""The local runtime's console in the browser: the flow with live figures, the orders and
each one's page, the DLQs with a redrive button, a form for a signed test order and the
run's cost. A page and a JSON API served by the runtime itself on 127.0.0.1 (server.py),
read from outside the way an operator reads AWS: SQS counts and peeks, the orders table,
the functions' logs, the mappings' figures."""
