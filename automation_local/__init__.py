"""Local runtime of the backbone: an embedded AWS emulator and the template deployed into it.

Development tooling only; nothing here is deployed to AWS. One subpackage per AWS service
it stands in for (`aws/`: the emulator itself; `cloudformation/`, `lambda_/` with
`lambda_/esm/`, `apigateway/`), the world outside the stack (`outside/`), the demo load's
parts (`demo/`), an operator's tools (`ops/`), the cost model (`cost/`) and the loopback
HTTP server they share (`net/`). At the top, only the commands and their composition:
`cli`, `runtime`, `run_state`, `invoke`, `demo_load`; no subpackage imports them.
"""
