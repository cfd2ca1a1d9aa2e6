"""playwright-scraping and web-automation over plain HTTP, parsed with the standard library.

No browser runs in Lambda here: a page is fetched and its HTML read with html.parser. A
page whose content is built by scripts (little text, many scripts) is reported `partial`
with `needsBrowser: true`, so the caller knows the result is incomplete rather than wrong.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

from automation_shared.contracts import OrderMessage, ResultStatus, TaskType
from automation_shared.http_client import raise_for_status, request

from .outcome import TaskFailedError, TaskOutcome

MAX_LINKS = 50
BROWSER_TEXT_THRESHOLD = 200  # visible characters below which a scripted page needs a browser


class _PageReader(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.title = ""
        self.description = ""
        self.headings: list[str] = []
        self.links: list[str] = []
        self.forms: list[dict[str, object]] = []
        self.scripts = 0
        self.text_parts: list[str] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self._stack.append(tag)
        if tag == "script":
            self.scripts += 1
        elif tag == "meta" and attributes.get("name", "").lower() == "description":
            self.description = attributes.get("content", "")
        elif tag == "a" and attributes.get("href") and len(self.links) < MAX_LINKS:
            self.links.append(urljoin(self.base_url, attributes["href"]))
        elif tag == "form":
            self.forms.append(
                {
                    "action": urljoin(self.base_url, attributes.get("action", "")),
                    "method": attributes.get("method", "get").upper(),
                    "inputs": [],
                }
            )
        elif tag in ("input", "select", "textarea") and self.forms:
            inputs = self.forms[-1]["inputs"]
            assert isinstance(inputs, list)
            inputs.append({"name": attributes.get("name", ""), "type": attributes.get("type", tag)})

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        current = self._stack[-1] if self._stack else ""
        text = data.strip()
        if not text or current in ("script", "style"):
            return
        if current == "title":
            self.title += text
        elif current in ("h1", "h2", "h3"):
            self.headings.append(text)
        self.text_parts.append(text)


def run(order: OrderMessage, deadline: float) -> TaskOutcome:
    if not order.payload.url:
        raise TaskFailedError(f"payload.url is required for {order.taskType.value}")
    response = request(order.payload.url, deadline)
    raise_for_status(response, order.payload.url)
    reader = _PageReader(response.url)
    reader.feed(response.body.decode(errors="replace"))
    text = " ".join(reader.text_parts)
    needs_browser = reader.scripts > 0 and len(text) < BROWSER_TEXT_THRESHOLD
    data: dict[str, object] = {
        "url": response.url,
        "title": reader.title,
        "description": reader.description,
        "headings": reader.headings[:20],
        "textExcerpt": text[:2000],
        "needsBrowser": needs_browser,
    }
    if order.taskType is TaskType.WEB_AUTOMATION:
        data["forms"] = reader.forms
        data["links"] = reader.links
    else:
        data["links"] = reader.links
    if needs_browser:
        summary = f"{response.url}: content is built by scripts; a browser is needed for the full page"
        return TaskOutcome(ResultStatus.PARTIAL, summary, data)
    return TaskOutcome(ResultStatus.SUCCESS, f"{reader.title or response.url}: {len(text)} characters read", data)
