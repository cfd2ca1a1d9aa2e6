"""Local stand-ins for the outside world: real HTTP servers on 127.0.0.1.

Target sites for the worker's web tasks, and the Perplexity, Telegram and LinkedIn APIs.
Each records the requests it answered, so tests and the local run can count side effects;
given a journal file, it also appends them there and reads back those of an earlier run
(a local runtime restarted after a kill counts the side effects of both).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from automation_local.net.loopback_server import HttpReply, HttpRequest, LoopbackHttpServer

# The stand-ins' network, for the stack parameter OutboundAllowedNetworks: the functions
# refuse loopback addresses unless allowed, and the local stacks allow this one.
STAND_IN_NETWORKS = "127.0.0.1/32"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def to_line(self) -> str:
        return json.dumps({**asdict(self), "body": self.body.decode("latin-1")})

    @classmethod
    def from_line(cls, line: str) -> RecordedRequest:
        fields = json.loads(line)
        return cls(**{**fields, "body": fields["body"].encode("latin-1")})


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay_seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)  # more headers (Location, ...)


class StandIn(LoopbackHttpServer):
    """A loopback HTTP server (on a free port by default); `answer_request` decides each
    reply; `journal`: a file that keeps the requests across runs; `host`: another loopback
    address to listen on (one OutboundAllowedNetworks does not allow)."""

    def __init__(self, *, port: int = 0, journal: Path | None = None, host: str = "127.0.0.1") -> None:
        super().__init__(host=host, port=port, name=type(self).__name__)
        self.requests: list[RecordedRequest] = []
        self._journal = journal
        if journal is not None and journal.exists():
            for line in journal.read_text().split("\n"):  # JSON Lines: "\n" alone ends a line
                with contextlib.suppress(ValueError):  # a line cut short by a kill
                    self.requests.append(RecordedRequest.from_line(line))
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.url

    def answer(self, request: HttpRequest) -> HttpReply:
        recorded = RecordedRequest(request.method, request.target, request.headers, request.body)
        self._record(recorded)
        reply = self.answer_request(recorded)
        time.sleep(reply.delay_seconds)
        return HttpReply(reply.status, [("Content-Type", reply.content_type), *reply.headers.items()], reply.body)

    def answer_request(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)
            if self._journal is not None:
                with self._journal.open("a") as journal:
                    journal.write(request.to_line() + "\n")

    def requests_to(self, path_prefix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(path_prefix)]


class TargetSite(StandIn):
    """Pages by path; unknown paths answer 404."""

    def __init__(self, pages: dict[str, Reply] | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.pages = dict(pages or {})

    def answer_request(self, request: RecordedRequest) -> Reply:
        return self.pages.get(request.path.split("?")[0], Reply(404, b"not found", "text/plain"))


class ScriptedSite(StandIn):
    """A target site whose pages behave as their path says, for loads that must fail on cue:

    - `/ok/...`: 200 with a small HTML page;
    - `/fail-once/...`: 503 the first time each path is asked, then as `/ok/`;
    - `/down/...`: always 503;
    - `/large/...`: 200 with a page of 20 long headings (16,000 characters each), which
      the scraping tasks return in full: result data of about 320 KB, more than a result
      message may carry (it goes to S3);
    - `/slow/...`: 200 after SLOW_SECONDS, longer than a task given a short invocation has.
    """

    SLOW_SECONDS = 3.0

    PAGE = b"<html><head><title>Local page</title></head><body><p>Served by the local runtime.</p></body></html>"
    LARGE_PAGE = (
        b"<html><head><title>Large page</title></head><body>"
        + b"".join(b"<h2>" + f"Section {n} ".encode() + b"word " * 3200 + b"</h2>" for n in range(20))
        + b"</body></html>"
    )

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._asked: set[str] = {r.path.split("?")[0] for r in self.requests}

    def answer_request(self, request: RecordedRequest) -> Reply:
        path = request.path.split("?")[0]
        with self._lock:
            first_time = path not in self._asked
            self._asked.add(path)
        if path.startswith("/down/") or (path.startswith("/fail-once/") and first_time):
            return Reply(503, b"unavailable", "text/plain")
        if path.startswith(("/ok/", "/fail-once/")):
            return Reply(200, self.PAGE, "text/html")
        if path.startswith("/large/"):
            return Reply(200, self.LARGE_PAGE, "text/html")
        if path.startswith("/slow/"):
            return Reply(200, self.PAGE, "text/html", delay_seconds=self.SLOW_SECONDS)
        return Reply(404, b"not found", "text/plain")


class PerplexityStandIn(StandIn):
    """POST /chat/completions with a bearer key: answers with a deterministic completion."""

    def __init__(self, api_key: str, **options: Any) -> None:
        super().__init__(**options)
        self.api_key = api_key

    def answer_request(self, request: RecordedRequest) -> Reply:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return Reply(401, b'{"error": "invalid api key"}')
        prompt = request.json()["messages"][-1]["content"]
        completion = {"choices": [{"message": {"role": "assistant", "content": f"Answer to: {prompt[:200]}"}}]}
        return Reply(200, json.dumps(completion).encode())


class TelegramStandIn(StandIn):
    """POST /bot<token>/sendMessage: accepts messages for the right token."""

    def __init__(self, token: str, **options: Any) -> None:
        super().__init__(**options)
        self.token = token

    def answer_request(self, request: RecordedRequest) -> Reply:
        if request.path != f"/bot{self.token}/sendMessage":
            return Reply(404, b'{"ok": false, "description": "Not Found"}')
        message = request.json()
        return Reply(200, json.dumps({"ok": True, "result": {"message_id": len(self.requests), **message}}).encode())


class LinkedInStandIn(StandIn):
    """POST /rest/posts with a bearer token: publishes the post and answers 201 with its id
    in the x-restli-id header, as LinkedIn does.

    `answers_after_publishing`: replies to give, one per post in turn, after the post has
    been published, instead of the 201: a 5xx, or a 201 delayed past the caller's patience,
    is LinkedIn taking a post while the caller learns nothing of it. `published` holds the
    posts made (in this run), however they were answered."""

    def __init__(self, token: str, **options: Any) -> None:
        super().__init__(**options)
        self.token = token
        self.published: list[RecordedRequest] = []
        self.answers_after_publishing: list[Reply] = []

    def answer_request(self, request: RecordedRequest) -> Reply:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return Reply(401, b'{"message": "invalid token"}')
        if request.method != "POST" or request.path != "/rest/posts":
            return Reply(404, b'{"message": "not found"}')
        with self._lock:
            self.published.append(request)
            post_id = f"urn:li:share:{len(self.published)}"
            answer = self.answers_after_publishing.pop(0) if self.answers_after_publishing else None
        return answer or Reply(201, b"", headers={"x-restli-id": post_id})
