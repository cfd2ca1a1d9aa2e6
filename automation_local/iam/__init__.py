"""IAM as the emulator will enforce it (issue 20; not yet wired into aws/server.py): the stack's
policies read from the template (`template_policies.py`), an emulator request read as the calls it
needs (`requests.py`), AWS's evaluation logic (`policy.py`), each service's refusal (`errors.py`),
and `Authorizer.evaluate(request) -> RequestDecision`, the one function the server calls
(`enforcement.py`)."""
