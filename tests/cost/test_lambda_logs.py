"""Lambda's own lines in a sandbox's log (START, END, REPORT, INIT_START, XRAY) and reading them back."""

from __future__ import annotations

import math
import re
from pathlib import Path

from automation_local.cost.lambda_logs import billed_duration_ms, read_log, report_line
from automation_local.lambda_.functions import FunctionConfig
from automation_local.lambda_.sandbox import FunctionSandbox

REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: (?P<duration>\d+\.\d\d) ms"
    r"\tBilled Duration: (?P<billed>\d+) ms"
    r"\tMemory Size: 128 MB\tMax Memory Used: \d+ MB(?:\tInit Duration: (?P<init>\d+\.\d\d) ms)?\t"
    r"(?:Status: (?P<status>\w+)\t)?$"
)


def _sandbox(tmp_path: Path, body: str, traced: bool = False) -> FunctionSandbox:
    code = tmp_path / "probe"
    code.mkdir()
    (code / "app.py").write_text(body)
    config = FunctionConfig("probe", "probe", code, memory_mb=128, timeout_seconds=1, traced=traced)
    return FunctionSandbox(config, log_path=tmp_path / "probe.log")


def test_each_invocation_is_framed_by_start_end_and_report_with_init_duration_on_the_cold_start(
    tmp_path: Path,
) -> None:
    # GIVEN a traced function that prints a line per invocation
    sandbox = _sandbox(tmp_path, "def lambda_handler(event, context):\n    print('working', event['n'])\n", traced=True)
    # WHEN it is invoked twice in the same execution environment
    try:
        assert sandbox.invoke({"n": 1}).error is None
        assert sandbox.invoke({"n": 2}).error is None
    finally:
        sandbox.stop()
    lines = (tmp_path / "probe.log").read_text().splitlines()
    # THEN the log reads as Lambda's: INIT_START, then per invocation START, the output, END,
    # REPORT and the XRAY line of an active trace
    assert lines[0].startswith("INIT_START Runtime Version: python:3.13.")
    assert [line.split(" ", 1)[0] for line in lines[1:]] == [
        *("START", "working", "END", "REPORT", "XRAY"),
        *("START", "working", "END", "REPORT", "XRAY"),
    ]
    first, second = REPORT.match(lines[4]), REPORT.match(lines[9])
    assert first and second, lines
    request_id = re.match(r"START RequestId: (\S+) Version: \$LATEST$", lines[1])
    assert request_id and lines[3] == f"END RequestId: {request_id[1]}" and first["id"] == request_id[1]
    assert re.fullmatch(r"XRAY TraceId: 1-[0-9a-f]{8}-[0-9a-f]{24}\tSegmentId: [0-9a-f]{16}\tSampled: true\t", lines[5])
    # AND only the cold start carries Init Duration, billed with the invocation, rounded up to 1 ms
    assert first["init"] is not None and second["init"] is None
    assert int(first["billed"]) == math.ceil(float(first["duration"]) + float(first["init"]))
    assert int(second["billed"]) == max(1, math.ceil(float(second["duration"])))


def test_an_invocation_killed_at_its_timeout_is_reported_and_billed_to_the_timeout(tmp_path: Path) -> None:
    # GIVEN a function that outlives its 1 s timeout
    sandbox = _sandbox(tmp_path, "import time\ndef lambda_handler(event, context):\n    time.sleep(30)\n")
    try:
        invocation = sandbox.invoke({})
    finally:
        sandbox.stop()
    assert invocation.error and "timed out" in invocation.error
    # THEN the runtime writes the timeout, END and a REPORT with the time it was billed for
    text = (tmp_path / "probe.log").read_text()
    assert "Task timed out after 1.00 seconds" in text
    report = next(REPORT.match(line) for line in text.splitlines() if line.startswith("REPORT"))
    assert report and report["status"] == "timeout" and int(report["billed"]) >= 1000


def test_the_report_line_rounds_as_lambdas_guide_shows() -> None:
    # GIVEN the guide's example: Duration 15.74 ms, Init Duration 130.49 ms  THEN billed 147 ms
    assert billed_duration_ms(15.74, 130.49) == 147
    assert billed_duration_ms(2.01) == 3 and billed_duration_ms(2.001) == 2 and billed_duration_ms(0.2) == 1
    line = report_line("8f507cfc-0000-4697-b07a-ac58fc914c95", 15.74, 128, 56, 130.49)
    assert line == (
        "REPORT RequestId: 8f507cfc-0000-4697-b07a-ac58fc914c95\tDuration: 15.74 ms\tBilled Duration: 147 ms"
        "\tMemory Size: 128 MB\tMax Memory Used: 56 MB\tInit Duration: 130.49 ms\t\n"
    )


def test_a_log_is_read_back_into_bytes_billed_time_cold_starts_and_emf_metrics() -> None:
    # GIVEN a log with a cold and a warm invocation and an EMF line
    emf = (
        '{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"ns","Dimensions":[["service"]],'
        '"Metrics":[{"Name":"OrdersQueued","Unit":"Count"}]}]},"service":"webhook","OrdersQueued":[10.0]}'
    )
    text = (
        "START RequestId: a Version: $LATEST\n"
        + emf
        + "\nEND RequestId: a\n"
        + report_line("a", 15.74, 256, 60, 130.49, traced=True)
        + "START RequestId: b Version: $LATEST\n"
        + emf
        + "\nEND RequestId: b\n"
        + report_line("b", 9.5, 256, 60)
    )
    log = read_log(text)
    # THEN its bytes, its events (an XRAY line belongs to its REPORT), the billed milliseconds,
    # the cold start with its init time and the one distinct metric
    assert log.bytes == len(text.encode())
    assert log.events == 8
    assert log.invocations == 2 and log.billed_ms == 147 + 10 and log.memory_mb == 256
    assert log.cold_starts == 1 and log.init_ms == 130.49
    assert log.metrics == {("ns", "OrdersQueued", (("service", "webhook"),))}
    assert 0 < log.compressed_bytes < log.bytes + 8 * 26
