"""IAM as the emulator enforces it (issue 20; opt-in for now: `automation-local --iam`): the stack's
policies read from the template (`template_policies.py`), an emulator request read as the calls it
needs (`requests.py`), AWS's evaluation logic (`policy.py`), each service's refusal (`errors.py`),
`Authorizer.evaluate(request) -> RequestDecision` (`enforcement.py`), and the judge the emulator's
gate (aws/iam_gate.py) runs it as, with the local callers named (`emulator_judge.py`)."""
