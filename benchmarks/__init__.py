"""`make bench`: cold start, package size, per-record cost and KMS calls, each against its goal.

One module per measurement, each registered in `registry` (`python -m benchmarks` runs
them all, prints the table and writes bench/latest.json). Everything is measured on what
`sam build` produced (.aws-sam/build), with its reference measured in the same run.
Importing this package imports nothing else: the probes run in Lambda-like child
interpreters and import only `benchmarks.fakes` from here.
"""
