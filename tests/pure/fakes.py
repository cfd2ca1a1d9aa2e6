"""Stand-ins for what Lambda hands a function."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FakeLambdaContext:
    """What handlers read of Lambda's context (as Powertools' docs' `lambda_context` fixture),
    with a fixed time left so deadlines derived from it are exact."""

    function_name: str = "automation-dev-worker"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:automation-dev-worker"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    remaining_millis: int = 50_000
    log_group_name: str = "/aws/lambda/automation-dev-worker"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis
