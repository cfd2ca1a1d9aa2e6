"""In a forked invocation: the function's process dies right after its N-th outgoing call.

Every AWS call (botocore, through urllib3) and every external HTTP call (the shared HTTP
client, through urllib) ends in `http.client.HTTPConnection.getresponse`: once it returns,
the server has done what the call asked. The switch counts those returns, writes each
call's label to the invocation's report pipe as it happens, and after the N-th ends the
process with `os._exit`: no `finally`, no flush, no response, as a Lambda sandbox dies.
N = 0 dies before the handler runs.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import threading
from typing import Any

KILLED_EXIT_CODE = 137  # what a SIGKILLed process reports
_CREDENTIAL_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


class KillSwitch:
    def __init__(self, report_fd: int, kill_after: int | None) -> None:
        """`kill_after`: the call after which the process dies (None: never)."""
        self._report_fd = report_fd
        self._kill_after = kill_after
        self._calls = 0
        self._lock = threading.Lock()

    def report(self, line: dict[str, Any]) -> None:
        os.write(self._report_fd, (json.dumps(line) + "\n").encode())

    def install(self) -> None:
        if self._kill_after == 0:
            os._exit(KILLED_EXIT_CODE)
        switch = self
        putrequest = http.client.HTTPConnection.putrequest
        putheader = http.client.HTTPConnection.putheader
        send = http.client.HTTPConnection.send
        getresponse = http.client.HTTPConnection.getresponse

        def labelled_putrequest(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            self._crash_call = {"method": method, "url": url.split("?")[0], "host": f"{self.host}:{self.port}"}
            return putrequest(self, method, url, *args, **kwargs)

        def labelled_putheader(self: Any, header: Any, *values: Any) -> Any:
            name = header.decode() if isinstance(header, bytes) else str(header)
            value = values[0].decode() if values and isinstance(values[0], bytes) else str(values[0]) if values else ""
            call = getattr(self, "_crash_call", None)
            if call is not None and name.lower() == "x-amz-target":
                call["action"] = value.rsplit(".", 1)[-1]
            elif call is not None and name.lower() == "authorization":
                found = _CREDENTIAL_SERVICE.search(value)
                if found:
                    call["service"] = found.group(1)
            return putheader(self, header, *values)

        def labelled_send(self: Any, data: Any) -> Any:
            call = getattr(self, "_crash_call", None)
            if call is not None and "action" not in call and isinstance(data, bytes) and data.startswith(b"Action="):
                call["action"] = data.split(b"&", 1)[0].removeprefix(b"Action=").decode()  # query protocols (SNS)
            return send(self, data)

        def counted_getresponse(self: Any, *args: Any, **kwargs: Any) -> Any:
            response = getresponse(self, *args, **kwargs)
            switch.completed(getattr(self, "_crash_call", {}))
            return response

        http.client.HTTPConnection.putrequest = labelled_putrequest  # type: ignore[method-assign]
        http.client.HTTPConnection.putheader = labelled_putheader  # type: ignore[method-assign]
        http.client.HTTPConnection.send = labelled_send  # type: ignore[method-assign]
        http.client.HTTPConnection.getresponse = counted_getresponse  # type: ignore[method-assign]

    def completed(self, call: dict[str, Any]) -> None:
        with self._lock:
            self._calls += 1
            self.report({"call": label(call)})
            if self._calls == self._kill_after:
                os._exit(KILLED_EXIT_CODE)


def label(call: dict[str, Any]) -> str:
    """`sqs:SendMessageBatch`, `s3:PUT /bucket/key`, or `http POST 127.0.0.1:port/path` for
    a call outside AWS."""
    if "service" in call:
        return f"{call['service']}:{call.get('action') or call['method'] + ' ' + call['url']}"
    return f"http {call.get('method')} {call.get('host')}{call.get('url')}"
