"""`automation-local`: the backbone on this machine, from template.yaml, with no AWS account.

Foundation stage: starts the embedded emulator, deploys the stack into it and prints what
other repositories would read (outputs and SSM parameters), then stops the emulator.
`--serve` keeps it up until Ctrl-C so you can point the AWS CLI or boto3 at it.
"""

from __future__ import annotations

import argparse
import time

from .emulator import Emulator
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="automation-local", description=__doc__.splitlines()[0])
    parser.add_argument("--environment", default="dev", choices=["dev", "staging", "prod"])
    parser.add_argument("--built", action="store_true", help="deploy the `sam build` output (.aws-sam/build)")
    parser.add_argument("--serve", action="store_true", help="keep the emulator and stack up until Ctrl-C")
    args = parser.parse_args(argv)

    with Emulator() as emulator:
        stack = deploy(
            emulator,
            stack_name=f"automation-{args.environment}",
            parameters={"Environment": args.environment},
            built=args.built,
        )
        _print_stack(emulator, stack)
        if args.serve:
            print(f"\nserving; export AWS_ENDPOINT_URL={emulator.endpoint_url} to use it. Ctrl-C stops.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                print("\nstopping")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
