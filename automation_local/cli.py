"""`automation-local`: the backbone on this machine, from template.yaml, with no AWS account.

`automation-local` starts the embedded emulator, deploys the stack into it and prints
what other repositories would read (outputs and SSM parameters), then stops the
emulator; `--serve` keeps it up until Ctrl-C. `automation-local invoke FUNCTION EVENT`
runs one function once with an event file, like `sam local invoke` without Docker.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .emulator import Emulator
from .invoke import LOGICAL_IDS, invoke_event_file
from .local_stack import LocalStack, deploy


def _print_stack(emulator: Emulator, stack: LocalStack) -> None:
    print(f"stack {stack.stack_name}: {len(stack.resources)} resources on {emulator.endpoint_url}")
    print("\noutputs:")
    for key, value in sorted(stack.outputs.items()):
        print(f"  {key:28} {value}")
    print(f"\nSSM parameters under {stack.ssm_prefix}/:")
    paginator = emulator.client("ssm").get_paginator("get_parameters_by_path")
    for page in paginator.paginate(Path=stack.ssm_prefix, Recursive=True):
        for parameter in page["Parameters"]:
            print(f"  {parameter['Name']:52} {parameter['Value']}")


def _deploy(emulator: Emulator, args: argparse.Namespace) -> LocalStack:
    return deploy(
        emulator,
        stack_name=f"automation-{args.environment}",
        parameters={"Environment": args.environment},
        built=args.built,
    )


def _up(args: argparse.Namespace) -> int:
    with Emulator() as emulator:
        stack = _deploy(emulator, args)
        _print_stack(emulator, stack)
        if args.serve:
            print(f"\nserving; export AWS_ENDPOINT_URL={emulator.endpoint_url} to use it. Ctrl-C stops.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                print("\nstopping")
    return 0


def _invoke(args: argparse.Namespace) -> int:
    with Emulator() as emulator:
        stack = _deploy(emulator, args)
        invocation = invoke_event_file(emulator, stack, args.function, Path(args.event), built=args.built)
    if invocation.error is not None:
        print(json.dumps({"errorMessage": invocation.error}, indent=2), file=sys.stderr)
        return 1
    print(json.dumps(invocation.response, indent=2))
    print(f"duration {invocation.duration_ms:.0f} ms", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="automation-local", description=__doc__.splitlines()[0])
    parser.add_argument("--environment", default="dev", choices=["dev", "staging", "prod"])
    parser.add_argument("--built", action="store_true", help="use the `sam build` output (.aws-sam/build)")
    parser.add_argument("--serve", action="store_true", help="keep the emulator and stack up until Ctrl-C")
    parser.set_defaults(command=_up)
    commands = parser.add_subparsers(title="commands")
    invoke = commands.add_parser("invoke", help="run one function once with an event file")
    invoke.add_argument("function", choices=sorted(LOGICAL_IDS))
    invoke.add_argument("event", help="an events/*.json file")
    invoke.set_defaults(command=_invoke)
    args = parser.parse_args(argv)
    return int(args.command(args))


if __name__ == "__main__":
    raise SystemExit(main())
