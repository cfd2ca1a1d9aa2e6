"""A small HTTP client on the standard library, bounded by a deadline (time.monotonic()).

urllib is enough for GET/POST with a timeout and keeps the layer free of another HTTP
package; every call gets the time left before the deadline as its socket timeout. Used
by the worker's tasks and by feedback's Telegram and Perplexity calls.

Outbound addresses are vetted (an order's URL is the caller's choice, so it must not reach
what the function can reach and the caller cannot): the host name is resolved once, every
address it resolves to must be globally routable unicast, and the connection goes to a
vetted address itself, so a second resolution cannot answer differently (DNS rebinding).
Refused are loopback (the Lambda runtime API listens on 127.0.0.1:9001), link-local (the
instance metadata endpoints 169.254.169.254 and fd00:ec2::254), private, unique-local,
shared (100.64.0.0/10, carrier-grade NAT), multicast, reserved and unspecified addresses,
also when wrapped in IPv6 (IPv4-mapped, NAT64, 6to4, Teredo). The Host header, TLS SNI
and the certificate check stay on the name. Redirects pass through the same connection
classes (urllib opens a new connection for each), and only to http or https. A refusal
is an ExternalCallError with `retryable` False: asking again would be refused again.
OUTBOUND_ALLOWED_NETWORKS (comma-separated CIDR networks, the template's
OutboundAllowedNetworks) lets addresses of those networks through, as the local runtime
does for its stand-ins on 127.0.0.1.

Credentials stay with their origin: a redirect to another origin (scheme, host and port,
as a browser compares them) drops Authorization, Proxy-Authorization, Cookie
and any header naming an API key or token (`credential_header`), so a bearer key sent to
Perplexity or LinkedIn never reaches the host a redirect names. Once dropped they stay
dropped for the rest of the chain, also on a redirect back. urllib itself forwards every
header but the content ones.

A failure says whether the server may have acted on the request (`outcome_unknown`): once
the first byte of a request has been sent, a timeout, a dropped connection or a garbled
answer leaves open whether it was carried out, and so does a 5xx or 408 answer. Before
that (a name that does not resolve, a refused connection, a failed TLS handshake) the
server certainly did nothing. Idempotent calls may ignore it; a call that must not be done
twice (a LinkedIn post) must not be repeated blindly when it is set. The connection marks
its first send on the exchange of the calling thread's context (`_EXCHANGE`): urllib gives
its connection nothing else of the call.

Why not a package (requests with an adapter, urllib3's resolver hooks): the layer would
carry another HTTP stack for what two subclasses of http.client do here.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import http.client
import ipaddress
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .contracts import ResultStatus

MAX_BODY_BYTES = 2 * 1024 * 1024
SECRET_CACHE_SECONDS = 300  # a rotated API key is picked up within 5 minutes
USER_AGENT = "automation-backbone-worker/1.0"
ALLOWED_NETWORKS_VARIABLE = "OUTBOUND_ALLOWED_NETWORKS"

type IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
type IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_SHARED_V4 = ipaddress.IPv4Network("100.64.0.0/10")  # RFC 6598; ipaddress calls it neither private nor global
_UNIQUE_LOCAL_V6 = ipaddress.IPv6Network("fc00::/7")
_NAT64_V6 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are the IPv4 address reached


class ExternalCallError(Exception):
    """A call to the outside failed in a way worth reporting; `status` is the result status it
    means, `retryable` False when trying again cannot succeed (the worker escalates at once),
    `outcome_unknown` True when the server may have carried the request out all the same."""

    def __init__(
        self,
        summary: str,
        status: ResultStatus = ResultStatus.FAILURE,
        *,
        retryable: bool = True,
        outcome_unknown: bool = False,
        **details: Any,
    ) -> None:
        super().__init__(summary)
        self.status = status
        self.retryable = retryable
        self.outcome_unknown = outcome_unknown
        self.details = details


class RefusedAddressError(ExternalCallError):
    """The URL's host is, or resolves to, an address outbound calls must not reach."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        named = address if host == address else f"{host} resolves to {address}"
        super().__init__(f"refused: {named} ({reason} address)", retryable=False, refusedAddress=address, reason=reason)


def api_access(secret_variable: str, base_url_variable: str, default_base_url: str) -> tuple[str, str]:
    """An API's key (from the secret named by `secret_variable`, cached) and its base URL
    (`base_url_variable` if set, so tests and the local run can point at a stand-in)."""
    # Imported here, not at the top: most importers only need request() (url-monitoring,
    # the web tasks) or ExternalCallError (every worker cold start), not secrets.
    from aws_lambda_powertools.utilities import parameters

    key = parameters.get_secret(os.environ[secret_variable], max_age=SECRET_CACHE_SECONDS)
    return str(key), os.environ.get(base_url_variable, default_base_url).rstrip("/")


# ------------------------------------------------------------------ which addresses may be reached
def _category(address: IPAddress) -> str | None:
    """Why an address (as it stands, not unwrapped) is refused; None if globally routable unicast."""
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address in _UNIQUE_LOCAL_V6:
        return "unique-local"
    if address in _SHARED_V4:
        return "shared (carrier-grade NAT)"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "non-global"
    return None


def _embedded_ipv4(address: IPAddress) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 form carries, with the form's name: what a connection reaches."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", address.ipv4_mapped
    if address in _NAT64_V6:
        return "NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    if address.teredo is not None:
        return "Teredo", address.teredo[1]  # (server, client): the client is the host reached
    return None


def refusal_reason(address: IPAddress, allowed: tuple[IPNetwork, ...] = ()) -> str | None:
    """Why outbound calls must not reach `address`, or None if they may: globally routable
    unicast, or inside a network of `allowed` (the address itself or the IPv4 address an
    IPv6 form of it carries)."""
    embedded = _embedded_ipv4(address)
    if any(address in network or (embedded and embedded[1] in network) for network in allowed):
        return None
    if embedded is not None:
        form, inner = embedded
        inner_reason = _category(inner)
        if inner_reason is not None:
            return f"{form} form of a {inner_reason}"
        # IPv4-mapped and NAT64 reach the IPv4 address itself; 6to4 and Teredo go through
        # relays and are not globally routable themselves (ipaddress: private).
        return None if form in ("IPv4-mapped", "NAT64") else form
    return _category(address)


@functools.cache
def _parse_networks(text: str) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise ExternalCallError(
            f"{ALLOWED_NETWORKS_VARIABLE} is not a comma-separated list of CIDR networks: {error}", retryable=False
        ) from error


def allowed_networks() -> tuple[IPNetwork, ...]:
    """The allow-list, read on every connection (cheap: parsed once per value)."""
    return _parse_networks(os.environ.get(ALLOWED_NETWORKS_VARIABLE, ""))


def vetted_addresses(host: str, port: int) -> list[tuple[Any, ...]]:
    """getaddrinfo's answers for `host`, all of them allowed, or RefusedAddressError: one
    refused address refuses the name (a name that also resolves to a private address is
    not a public site)."""
    allowed = allowed_networks()
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for answer in answers:
        literal = str(answer[4][0])
        reason = refusal_reason(ipaddress.ip_address(literal), allowed)
        if reason is not None:
            raise RefusedAddressError(host, literal, reason)
    return answers


@dataclass
class _Exchange:
    """One call of request(): whether any byte of it has left for the server."""

    sent: bool = False


_EXCHANGE: contextvars.ContextVar[_Exchange | None] = contextvars.ContextVar("http_exchange", default=None)


class _VettedHTTPConnection(http.client.HTTPConnection):
    """Connects to a vetted address of its host; the request still names the host (Host header)."""

    def send(self, data: Any) -> None:
        if self.sock is None and self.auto_open:
            self.connect()  # what http.client's send does first; a failure here sent nothing
        # Marked before the bytes go: a send that fails half way may still have delivered the request.
        if (exchange := _EXCHANGE.get()) is not None:
            exchange.sent = True
        super().send(data)

    def connect(self) -> None:
        sys.audit("http.client.connect", self, self.host, self.port)
        last_error: OSError | None = None
        for *_, sockaddr in vetted_addresses(self.host, self.port):
            try:
                # A literal address: create_connection resolves nothing more.
                self.sock = socket.create_connection(
                    (sockaddr[0], sockaddr[1]),
                    self.timeout,
                    self.source_address,  # type: ignore[attr-defined]  # set by HTTPConnection.__init__
                )
                break
            except OSError as error:
                last_error = error
        else:
            raise last_error or OSError(f"no address for {self.host}")
        with contextlib.suppress(OSError):  # as http.client: not every system has TCP_NODELAY
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


# HTTPSConnection.connect calls super().connect() for the TCP connection, then wraps it in
# TLS with server_hostname=self.host (SNI and the certificate's name check on the host
# name). With _VettedHTTPConnection after HTTPSConnection in the bases, that super() call
# is the vetted connect above: the TLS part stays the standard library's.
class _VettedHTTPSConnection(http.client.HTTPSConnection, _VettedHTTPConnection):
    pass


class _VettedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_VettedHTTPConnection, req)


class _VettedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_VettedHTTPSConnection, req)  # the default TLS context, as urlopen's


_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_CREDENTIAL_NAME_PARTS = ("api-key", "api_key", "apikey", "token")


def credential_header(name: str) -> bool:
    """Whether a request header carries a credential (dropped on a redirect to another origin)."""
    lowered = name.lower()
    return lowered in _CREDENTIAL_HEADERS or any(part in lowered for part in _CREDENTIAL_NAME_PARTS)


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) with the scheme's default port filled in; None if the URL has no readable one."""
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:  # a port out of range or not a number
        return None
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def same_origin(url: str, other: str) -> bool:
    origin = _origin(url)
    return origin is not None and origin == _origin(other)


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http and https only (urllib's would also follow ftp://), without
    the request's credentials when the redirect leaves its origin."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise ExternalCallError(f"refused: redirect to a {urlsplit(newurl).scheme}: URL", retryable=False)
        redirected = super().redirect_request(req, fp, code, msg, headers, newurl)
        if redirected is not None and not same_origin(req.full_url, newurl):
            for name in [name for name in redirected.headers if credential_header(name)]:
                redirected.remove_header(name)
        return redirected


def _opener() -> urllib.request.OpenerDirector:
    """urllib's opener with the vetted handlers, and without ProxyHandler (a proxy from the
    environment would resolve the name itself, past the check), FTP, file: and data: URLs."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.UnknownHandler(),
        _VettedHTTPHandler(),
        _VettedHTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _RedirectHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


_OPENER = _opener()


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed_ms: float
    url: str

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    url: str,
    deadline: float,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    json_body: Any = None,
) -> HttpResponse:
    """One HTTP exchange; HTTP error statuses are returned, transport failures raise
    ExternalCallError (a refused address: RefusedAddressError, not retryable), with
    `outcome_unknown` once the request had begun to leave."""
    if not url.startswith(("http://", "https://")):
        raise ExternalCallError(f"unsupported URL scheme: {url[:40]}")
    timeout = deadline - time.monotonic()
    if timeout <= 0:
        raise ExternalCallError("no time left for the request", status=ResultStatus.TIMEOUT)
    data = json.dumps(json_body).encode() if json_body is not None else None
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    if data is not None:
        all_headers.setdefault("Content-Type", "application/json")
    prepared = urllib.request.Request(url, data=data, headers=all_headers, method=method)  # noqa: S310 - scheme checked
    started = time.monotonic()
    exchange = _Exchange()
    token = _EXCHANGE.set(exchange)
    try:
        with _OPENER.open(prepared, timeout=timeout) as response:
            body = response.read(MAX_BODY_BYTES)
            status, response_headers, final_url = response.status, dict(response.headers), response.url
    except urllib.error.HTTPError as error:
        body, status, response_headers, final_url = error.read(MAX_BODY_BYTES), error.code, dict(error.headers), url
    except TimeoutError as error:
        raise ExternalCallError(
            f"timed out after {timeout:.1f} s", status=ResultStatus.TIMEOUT, outcome_unknown=exchange.sent
        ) from error
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        # HTTPException: an answer http.client cannot read (a bad status line, a body cut short).
        raise ExternalCallError(f"request failed: {error}", outcome_unknown=exchange.sent) from error
    finally:
        _EXCHANGE.reset(token)
    return HttpResponse(status, response_headers, body, (time.monotonic() - started) * 1000, final_url)


def raise_for_status(response: HttpResponse, what: str) -> None:
    """ExternalCallError for an error status: a 429 is rate limited (refused, not carried out);
    a 5xx or 408 leaves open whether the request was carried out (`outcome_unknown`)."""
    if response.status == 429:
        raise ExternalCallError(f"{what}: rate limited", status=ResultStatus.RATE_LIMITED)
    if response.status >= 400:
        unknown = response.status >= 500 or response.status == 408
        raise ExternalCallError(f"{what}: HTTP {response.status}", outcome_unknown=unknown, httpStatus=response.status)
