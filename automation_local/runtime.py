"""The backbone running on this machine, from template.yaml: the local runtime.

`with LocalRuntime() as runtime:` starts the embedded emulator, deploys the stack into it,
seeds what a real account holds (secrets, Telegram chats), starts the stand-ins for the
outside world (Perplexity, LinkedIn, Telegram, a target site), serves the HTTP API's
routes on localhost and polls every enabled SQS event source mapping of the stack, each
function running in sandboxes with the environment the stack gives it.

Nothing here names a queue, function or route: they all come from the deployed stack
and the template, so the runtime follows the template as it changes.

With IAM enforced (`iam`, opt-in for now: issue 20) the emulator judges every call against
the deployed stack's policies (aws/iam_gate.py, iam/emulator_judge.py), and the runtime plays
Lambda's part in it: it assumes each function's execution role (as `lambda.amazonaws.com`,
which the role's trust policy must allow) and gives the role's session to the function's
sandboxes (session `fn-<function>`) and to its mapping's pollers (`esm-<mapping>`: Lambda
polls with the execution role). The usage meter names a session's calls by the session's
name, so the cost figures still tell the functions and pollers apart.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

from botocore.exceptions import ClientError

from automation_local.apigateway.server import HttpApiServer, SandboxPool, http_api_routes
from automation_local.aws import iam_gate
from automation_local.aws.emulator import Emulator
from automation_local.aws.fault_proxy import FaultPlan, FaultProxy
from automation_local.aws.usage_meter import ESM_CALLER_PREFIX, FUNCTION_CALLER_PREFIX
from automation_local.cloudformation.outputs import BackboneOutputs
from automation_local.cloudformation.project import BUILD_DIR, TEMPLATE_PATH
from automation_local.cloudformation.stack import DeployedStack, deploy
from automation_local.cloudformation.template import load_template, parameter_values, short_name
from automation_local.iam import emulator_judge
from automation_local.iam.template_policies import template_stack_policies
from automation_local.lambda_.esm.poller import EventSourcePoller, MappingConfiguration, stack_mappings
from automation_local.lambda_.functions import FunctionConfig, stack_functions
from automation_local.lambda_.sandbox import FunctionSandbox
from automation_local.logs.places import new_run_dir
from automation_local.outside import account
from automation_local.outside.standins import STAND_IN_NETWORKS, ScriptedSite
from automation_local.run_state import RunState

# Settings for one machine, so a failed record retries and reaches its DLQ in about a
# minute instead of production's 3 x 300 s, and this machine's CPUs are not oversubscribed:
# - timeouts of 10 s: batches slow down when the emulator is busy, and a timed-out batch
#   would spend its records' receives toward the DLQ;
# - visibility timeouts of timeout + batching window + a few seconds, not AWS's 6 x the
#   timeout: that factor absorbs Lambda retrying throttled invocations, which does not
#   happen here (the pollers never start more invocations than MaximumConcurrency);
# - fewer concurrent invocations (the emulator answers one call at a time anyway);
# - requeues after 1 s instead of 30 s;
# - outbound calls allowed to the stand-ins on 127.0.0.1 (refused by default).
LOCAL_PARAMETERS = {
    "WorkerTimeoutSeconds": "10",
    "OrderQueueVisibilityTimeout": "15",
    "WorkerMaximumConcurrency": "5",
    "FeedbackTimeoutSeconds": "10",
    "ResultQueueVisibilityTimeout": "20",
    "FeedbackMaximumConcurrency": "3",
    "RequeueBaseDelaySeconds": "1",
    "OutboundAllowedNetworks": STAND_IN_NETWORKS,
}
# With QueueType=fifo, what a FIFO stack must set (the template's Rules refuse the
# standard default): receives for an order's retries (samconfig's fifo example sets the same).
FIFO_PARAMETERS = {"OrderQueueMaxReceiveCount": "8"}
# Concurrent webhook invocations the local HTTP API may start.
WEBHOOK_CONCURRENCY = 4
# IAM enforcement (issue 20) is opt-in while it is proven: `automation-local --iam`, or this set to 1.
IAM_VARIABLE = "AUTOMATION_LOCAL_IAM"


def iam_requested() -> bool:
    """Whether the environment asks for IAM enforcement (IAM_VARIABLE)."""
    return os.environ.get(IAM_VARIABLE, "") == "1"


class LocalRuntime:
    """Emulator, stack, stand-ins, HTTP API and pollers; stopped in reverse on exit."""

    def __init__(
        self,
        *,
        environment: str = "dev",
        built: bool = False,
        parameters: dict[str, str] | None = None,
        emulator: Emulator | None = None,
        stack: DeployedStack | None = None,
        function_overrides: dict[str, dict[str, str]] | None = None,
        log_dir: Path | None = None,
        faults: FaultPlan | None = None,
        state: RunState | None = None,
        poll: bool = True,
        template_path: Path | None = None,
        iam: bool | None = None,
    ) -> None:
        """`emulator` and `stack`: run against ones already up (a restarted runtime);
        `function_overrides`: extra environment variables per function (`worker`, ...);
        `log_dir`: where each function's log goes (`<function>.log`), default a new run
        directory (logs/places.py); `faults`: faults to deal the functions (see aws/fault_proxy.py);
        `state`: where the run keeps what a restarted runtime needs (see run_state): the
        stack deployed before is used again, the stand-ins keep their ports and requests;
        `poll=False`: the pollers wait for `start_polling()` (as the mappings do while
        disabled), so a backlog can be put in the queues first; `template_path`: another SAM
        template than template.yaml (or its `sam build` copy with `built`); `iam`: enforce IAM
        (default: as IAM_VARIABLE says): every call is judged by the emulator against the
        deployed stack's policies, each function and its mapping's polls calling with its
        execution role's credentials (see `_enforce_iam`)."""
        self.environment = environment
        self.built = built
        self.template_path = template_path or (BUILD_DIR / "template.yaml" if built else TEMPLATE_PATH)
        self.template = load_template(self.template_path)
        declared = self.template.get("Parameters", {})
        # This machine's settings where the template has them (see LOCAL_PARAMETERS).
        local = {name: value for name, value in LOCAL_PARAMETERS.items() if name in declared}
        if (parameters or {}).get("QueueType") == "fifo":
            local |= {name: value for name, value in FIFO_PARAMETERS.items() if name in declared}
        self.parameters = {**local, "Environment": environment, **(parameters or {})}
        self.iam = iam_requested() if iam is None else iam
        self.emulator = emulator or Emulator(judge=emulator_judge.ENTRY_POINT if self.iam else None)
        # Role sessions by session name (`fn-worker`, `esm-<mapping>`): boto3's credential arguments.
        self._role_sessions: dict[str, dict[str, str]] = {}
        self._owns_emulator = emulator is None
        self.stack = stack
        self.function_overrides = function_overrides or {}
        self.faults = faults
        self.state = state
        self.integrations = account.LocalIntegrations(state)
        self.site = ScriptedSite(**account.stand_in_options(state, "site"))
        self._fault_proxy: FaultProxy | None = None
        self.functions: dict[str, FunctionConfig] = {}  # by short name, once the stack is up
        self.pollers: dict[str, EventSourcePoller] = {}
        self.http_api: HttpApiServer | None = None
        self.log_dir = log_dir or new_run_dir()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._poll_on_start = poll
        self._polling = False
        self._exit_stack = ExitStack()

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> LocalRuntime:
        try:
            self._start()
        except BaseException:
            self._exit_stack.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._exit_stack.close()

    def _start(self) -> None:
        if self._owns_emulator:
            self._exit_stack.enter_context(self.emulator)
        if self.stack is None and self.state is not None and self.state.stack_path.exists():
            self.stack = DeployedStack.load(self.state.stack_path)
        if self.stack is None:
            project = parameter_values(self.template, self.parameters).get("ProjectName", "local")
            self.stack = deploy(
                self.emulator,
                stack_name=f"{project}-{self.environment}",
                parameters=self.parameters,
                built=self.built,
                template_path=self.template_path,
            )
            if self.state is not None:
                self.stack.save(self.state.stack_path)
        if self.iam:
            self._enforce_iam()
        self.functions = stack_functions(self.emulator, self.stack)
        if self.faults is not None:
            self._fault_proxy = self._exit_stack.enter_context(FaultProxy(self.emulator.endpoint_url, self.faults))
        account.seed(self.emulator, self.stack)
        self._exit_stack.enter_context(self.integrations)
        self._exit_stack.enter_context(self.site)
        self.http_api = self._exit_stack.enter_context(self._http_api())
        self._exit_stack.callback(self.stop_polling)
        for logical_id, configuration in self._mappings().items():
            function = self._function_of(configuration.function_name)
            sqs_client = self._esm_sqs_client(logical_id, function)
            if self.iam:
                self._read_queue_as_lambda(logical_id, configuration.queue_url, sqs_client())
            poller = EventSourcePoller(
                configuration,
                # Its own caller for the usage meter: the mapping's receives and deletes.
                sqs_client=sqs_client,
                new_sandbox=self._sandbox_factory(function),
                region=self.emulator.region,
            )
            self.pollers[logical_id] = poller
        if self._poll_on_start:
            self.start_polling()

    # ------------------------------------------------------------------ parts
    def _enforce_iam(self) -> None:
        """From here on the emulator judges every call with the deployed stack's policies (see
        iam/emulator_judge.py): the stack, as deployed, is what it judges by; the deployment
        itself ran with the deployer's rights, as CloudFormation's does."""
        assert self.stack is not None
        policies = template_stack_policies(
            self.stack.parameters,
            template_path=self.template_path,
            stack_name=self.stack.stack_name,
            physical_ids=self.stack.resources,
        )
        iam_gate.configure(self.emulator.endpoint_url, emulator_judge.configuration(policies))

    def _role_session(self, role_arn: str, session_name: str) -> dict[str, str]:
        """Credentials of `role_arn`, assumed as the Lambda service assumes a function's
        execution role (its trust policy must allow lambda.amazonaws.com); one per name."""
        if session_name not in self._role_sessions:
            sts = self.emulator.client("sts", access_key_id=emulator_judge.LAMBDA_SERVICE_ACCESS_KEY)
            credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
            self._role_sessions[session_name] = {
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"],
            }
        return self._role_sessions[session_name]

    @staticmethod
    def _read_queue_as_lambda(logical_id: str, queue_url: str, sqs: Any) -> None:
        """Lambda reads a mapping's queue with the execution role (sqs:GetQueueAttributes is one of
        the three actions it requires of the role, beside ReceiveMessage and DeleteMessage:
        https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions) and
        refuses a mapping whose role cannot: here the runtime does not start."""
        try:
            sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])
        except ClientError as error:
            raise RuntimeError(f"{logical_id}: its function's role cannot read its queue: {error}") from error

    def _esm_sqs_client(self, logical_id: str, function: str) -> Callable[[], Any]:
        caller = f"{ESM_CALLER_PREFIX}{logical_id}"
        if self.iam:  # Lambda polls with the function's execution role
            credentials = self._role_session(self.functions[function].role_arn, caller)
            return lambda: self.emulator.client("sqs", credentials=credentials)
        return lambda: self.emulator.client("sqs", access_key_id=caller)

    def _function_of(self, function_name: str) -> str:
        """The short name (`worker`) of a deployed function name."""
        return next(name for name, config in self.functions.items() if config.function_name == function_name)

    def _sandbox_factory(self, function: str) -> Callable[[], FunctionSandbox]:
        overrides = {
            **self.integrations.environment,
            # The function's own caller for the emulator's usage meter (its role, on AWS).
            "AWS_ACCESS_KEY_ID": f"{FUNCTION_CALLER_PREFIX}{function}",
            **self._function_credentials(function),
            **self.function_overrides.get(function, {}),
        }
        fails_after_handler = None
        if self.faults is not None and self._fault_proxy is not None:
            # The functions reach AWS through the fault proxy; the runtime itself (the
            # pollers, as Lambda's service) does not.
            overrides["AWS_ENDPOINT_URL"] = self._fault_proxy.url
            faults = self.faults
            fails_after_handler = lambda: faults.strikes("handler-error")  # noqa: E731
        config = self.functions[function].with_environment(overrides)
        log_path = self.log_dir / f"{function}.log"
        return lambda: FunctionSandbox(config, log_path=log_path, fails_after_handler=fails_after_handler)

    def _function_credentials(self, function: str) -> dict[str, str]:
        """With IAM enforced, the environment that has the function call with its execution role."""
        if not self.iam:
            return {}
        session = self.role_credentials(function)
        return {
            "AWS_ACCESS_KEY_ID": session["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": session["aws_secret_access_key"],
            "AWS_SESSION_TOKEN": session["aws_session_token"],
        }

    def _http_api(self) -> HttpApiServer:
        routes = http_api_routes(self.template)
        pools = {
            logical_id: SandboxPool(self._sandbox_factory(short_name(logical_id)), WEBHOOK_CONCURRENCY)
            for logical_id in {route.function for route in routes}
        }
        return HttpApiServer(routes, pools)

    def _mappings(self) -> dict[str, MappingConfiguration]:
        assert self.stack is not None
        return stack_mappings(self.emulator, self.stack)

    # ------------------------------------------------------------------ for users
    @property
    def webhook_secret(self) -> str:
        assert self.stack is not None
        return account.webhook_secret(self.emulator, self.stack)

    @property
    def outputs(self) -> BackboneOutputs:
        """The backbone's stack outputs (queues, table, bucket, secret)."""
        assert self.stack is not None
        return BackboneOutputs.of(self.stack.outputs)

    def role_credentials(self, function: str) -> dict[str, str]:
        """boto3's credential arguments of the session `function` (`worker`) calls with: its
        execution role's, assumed as Lambda assumes it (what a test signs a role's call with)."""
        return self._role_session(self.functions[function].role_arn, f"{FUNCTION_CALLER_PREFIX}{function}")

    def mapping_functions(self) -> dict[str, str]:
        """Mapping logical id -> the short name of the function it invokes."""
        return {lid: self._function_of(p.configuration.function_name) for lid, p in self.pollers.items()}

    def mapping_stats(self) -> dict[str, dict[str, Any]]:
        return {logical_id: poller.stats.as_dict() for logical_id, poller in self.pollers.items()}

    def start_polling(self) -> None:
        """Starts the pollers of the mappings the stack enables (once; later calls do nothing)."""
        if self._polling:
            return
        self._polling = True
        for poller in self.pollers.values():
            if poller.configuration.enabled:
                poller.start()

    def stop_polling(self) -> None:
        """Stops every poller, all at once (what disabling the mappings does on AWS)."""
        for poller in self.pollers.values():
            poller.signal_stop()
        for poller in self.pollers.values():
            poller.stop()
