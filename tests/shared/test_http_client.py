"""The HTTP client's outbound address check: which addresses are refused, after resolution,
on redirects, with the allow-list, and that the connection goes to the vetted address while
the request (Host header, TLS SNI and certificate) still names the host."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from automation_local.net.loopback_server import POLL_SECONDS, free_port
from automation_local.outside.standins import Reply, TargetSite
from automation_shared import http_client
from automation_shared.http_client import ExternalCallError, RefusedAddressError, refusal_reason, request

pytestmark = pytest.mark.fast

ALLOW_LOOPBACK = "127.0.0.1/32"


def deadline() -> float:
    return time.monotonic() + 5


@pytest.fixture
def allow(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Sets the allow-list variable for one test (empty: nothing beyond public addresses)."""

    def set_allowed(networks: str) -> None:
        monkeypatch.setenv(http_client.ALLOWED_NETWORKS_VARIABLE, networks)

    set_allowed("")
    return set_allowed


@pytest.fixture
def site() -> Iterator[TargetSite]:
    with TargetSite({"/": Reply(200, b"hello", "text/plain")}) as running:
        yield running  # type: ignore[misc]


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names the test makes resolve to addresses of its choice (each lookup recorded in
    `lookups`); every other name (and literal) resolves as usual."""
    names: dict[str, list[str]] = {"lookups": []}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host in names:
            names["lookups"].append(host)
            return [answer for address in names[host] for answer in real(address, port, *args, **kwargs)]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


# ------------------------------------------------------------------ the ranges
@pytest.mark.parametrize(
    "address, reason",
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),  # the instance metadata endpoint
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "unique-local"),  # the instance metadata endpoint over IPv6
        ("fc00::1", "unique-local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("224.0.0.1", "multicast"),
        ("224.0.1.1", "multicast"),  # globally scoped multicast is still no site
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::7f00:1", "reserved"),  # IPv4-compatible (deprecated) form of 127.0.0.1
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("192.0.2.1", "private"),  # documentation
        ("198.18.0.1", "private"),  # benchmarking
    ],
)
def test_each_non_public_range_is_refused(address: str, reason: str) -> None:
    # GIVEN an address of a range a task must not reach, WHEN it is checked with no allow-list
    # THEN it is refused, saying which range it is in
    assert refusal_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address, reason",
    [
        ("::ffff:127.0.0.1", "IPv4-mapped form of a loopback"),
        ("::ffff:169.254.169.254", "IPv4-mapped form of a link-local"),
        ("::ffff:10.1.2.3", "IPv4-mapped form of a private"),
        ("64:ff9b::a9fe:a9fe", "NAT64 form of a link-local"),
        ("64:ff9b::7f00:1", "NAT64 form of a loopback"),
        ("2002:7f00:1::", "6to4 form of a loopback"),
        ("2002:a9fe:a9fe::1", "6to4 form of a link-local"),
        ("2002:808:808::", "6to4"),  # relay-routed, not globally routable itself
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo form of a loopback"),  # client 127.0.0.1, obfuscated
    ],
)
def test_ipv6_forms_of_refused_ipv4_addresses_are_refused(address: str, reason: str) -> None:
    # GIVEN an IPv6 address that carries an IPv4 address, WHEN it is checked
    # THEN the IPv4 address it reaches decides, and the refusal names the form
    assert refusal_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_public_unicast_addresses_pass(address: str) -> None:
    # GIVEN a globally routable unicast address (also IPv4-mapped or NAT64), THEN it passes
    assert refusal_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "address, allowed, passes",
    [
        ("127.0.0.1", "127.0.0.1/32", True),
        ("::ffff:127.0.0.1", "127.0.0.1/32", True),  # reaches 127.0.0.1 all the same
        ("10.1.2.3", "10.0.0.0/8", True),
        ("10.1.2.3", "127.0.0.1/32,10.0.0.0/8", True),
        ("fd00:ec2::254", "fd00::/8", True),
        ("127.0.0.2", "127.0.0.1/32", False),
        ("169.254.169.254", "127.0.0.1/32", False),
        ("::1", "127.0.0.1/32", False),
    ],
)
def test_an_allow_listed_network_lets_its_addresses_through(address: str, allowed: str, passes: bool) -> None:
    # GIVEN an allow-list, WHEN an address is checked
    networks = tuple(ipaddress.ip_network(n) for n in allowed.split(","))
    # THEN only an address inside one of its networks passes; the others are still refused
    assert (refusal_reason(ipaddress.ip_address(address), networks) is None) is passes


def test_the_allow_list_variable_is_read_as_cidr_networks(allow: Callable[[str], None]) -> None:
    # GIVEN the variable with two networks, one with spaces around it
    allow("127.0.0.1/32, 10.0.0.0/8")
    # THEN both are read
    assert http_client.allowed_networks() == (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"))
    # AND a value that is no network list refuses the call, not retryable
    allow("localhost")
    with pytest.raises(ExternalCallError) as refused:
        http_client.allowed_networks()
    assert refused.value.retryable is False


# ------------------------------------------------------------------ requests
def test_a_loopback_url_is_refused_before_any_connection(allow: Callable[[str], None], site: TargetSite) -> None:
    # GIVEN a stand-in on 127.0.0.1 and no allow-list
    # WHEN its URL is requested
    with pytest.raises(RefusedAddressError) as refused:
        request(f"{site.base_url}/", deadline())
    # THEN the call is refused, not retryable, with the address, and the stand-in saw nothing
    assert refused.value.retryable is False
    assert refused.value.details == {"refusedAddress": "127.0.0.1", "reason": "loopback"}
    assert site.requests == []


def test_a_name_is_refused_after_resolution(
    allow: Callable[[str], None], site: TargetSite, resolver: dict[str, list[str]]
) -> None:
    # GIVEN a public-looking name that resolves to 127.0.0.1, and no allow-list
    resolver["status.example.com"] = ["127.0.0.1"]
    port = site.base_url.rsplit(":", 1)[1]
    # WHEN it is requested
    with pytest.raises(RefusedAddressError) as refused:
        request(f"http://status.example.com:{port}/", deadline())
    # THEN the resolved address is refused
    assert "status.example.com resolves to 127.0.0.1" in str(refused.value)
    assert site.requests == []


def test_a_name_with_one_refused_address_among_others_is_refused(
    allow: Callable[[str], None], site: TargetSite, resolver: dict[str, list[str]]
) -> None:
    # GIVEN a name resolving to an allowed address and to the metadata endpoint
    allow(ALLOW_LOOPBACK)
    resolver["mixed.example.com"] = ["127.0.0.1", "169.254.169.254"]
    port = site.base_url.rsplit(":", 1)[1]
    # WHEN it is requested, THEN it is refused (every address is checked, not only the first)
    with pytest.raises(RefusedAddressError, match=r"169\.254\.169\.254"):
        request(f"http://mixed.example.com:{port}/", deadline())
    assert site.requests == []


def test_the_connection_goes_to_the_vetted_address_and_the_request_names_the_host(
    allow: Callable[[str], None], site: TargetSite, resolver: dict[str, list[str]]
) -> None:
    # GIVEN an allow-listed 127.0.0.1 and a name resolving to it
    allow(ALLOW_LOOPBACK)
    resolver["site.example.com"] = ["127.0.0.1"]
    port = site.base_url.rsplit(":", 1)[1]
    # WHEN the name is requested
    response = request(f"http://site.example.com:{port}/", deadline())
    # THEN the stand-in answers, the request names the host, and the name was resolved once
    # (a second lookup could answer differently: DNS rebinding)
    assert response.status == 200 and response.body == b"hello"
    assert site.requests[0].headers["Host"] == f"site.example.com:{port}"
    assert resolver["lookups"] == ["site.example.com"]


def test_an_allow_listed_loopback_stand_in_is_reached(allow: Callable[[str], None], site: TargetSite) -> None:
    # GIVEN the allow-list of the local runtime, WHEN its stand-in is requested, THEN it answers
    allow(ALLOW_LOOPBACK)
    assert request(f"{site.base_url}/", deadline()).status == 200
    assert len(site.requests) == 1


@pytest.fixture
def refused_target() -> Iterator[TargetSite]:
    """A stand-in on 127.0.0.2: loopback, but outside the allow-list 127.0.0.1/32."""
    with TargetSite({"/": Reply(200, b"reached", "text/plain")}, host="127.0.0.2") as running:
        yield running  # type: ignore[misc]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_a_refused_address_is_refused(
    allow: Callable[[str], None], refused_target: TargetSite, status: int
) -> None:
    # GIVEN an allowed server that redirects to an address outside the allow-list
    allow(ALLOW_LOOPBACK)
    redirect = Reply(status, b"", "text/plain", headers={"Location": f"{refused_target.base_url}/"})
    with TargetSite({"/": redirect}) as allowed:
        # WHEN it is requested
        with pytest.raises(RefusedAddressError) as refused:
            request(f"{allowed.base_url}/", deadline())
        # THEN the redirect is refused, and its target saw no request
        assert len(allowed.requests) == 1
    assert refused.value.details["refusedAddress"] == "127.0.0.2"
    assert refused_target.requests == []


def test_a_redirect_to_a_name_resolving_to_a_refused_address_is_refused(
    allow: Callable[[str], None], refused_target: TargetSite, resolver: dict[str, list[str]]
) -> None:
    # GIVEN an allowed server redirecting to a name that resolves to the refused target
    allow(ALLOW_LOOPBACK)
    resolver["elsewhere.example.com"] = ["127.0.0.2"]
    port = refused_target.base_url.rsplit(":", 1)[1]
    redirect = Reply(302, b"", "text/plain", headers={"Location": f"http://elsewhere.example.com:{port}/"})
    with TargetSite({"/": redirect}) as allowed, pytest.raises(RefusedAddressError):
        request(f"{allowed.base_url}/", deadline())
    assert refused_target.requests == []


def test_a_redirect_to_an_allowed_address_is_followed(allow: Callable[[str], None], site: TargetSite) -> None:
    # GIVEN a redirect to another allowed server, WHEN requested, THEN it is followed
    allow(ALLOW_LOOPBACK)
    with TargetSite({"/": Reply(302, b"", "text/plain", headers={"Location": f"{site.base_url}/"})}) as first:
        response = request(f"{first.base_url}/", deadline())
    assert response.status == 200 and response.url == f"{site.base_url}/"


def test_a_redirect_to_another_scheme_is_refused(allow: Callable[[str], None]) -> None:
    # GIVEN an allowed server redirecting to ftp:// (urllib's own handler would follow it)
    allow(ALLOW_LOOPBACK)
    ftp = Reply(302, b"", "text/plain", headers={"Location": "ftp://127.0.0.1/x"})
    # WHEN requested, THEN it is refused and not retryable
    with TargetSite({"/": ftp}) as allowed, pytest.raises(ExternalCallError) as refused:
        request(f"{allowed.base_url}/", deadline())
    assert refused.value.retryable is False and "ftp" in str(refused.value)


CREDENTIALS = {"Authorization": "Bearer secret-key", "X-Api-Key": "secret-key"}


def credentials_seen(headers: dict[str, str]) -> dict[str, str]:
    """The credential headers a stand-in received, by their names in CREDENTIALS (urllib sends "X-api-key")."""
    received = {name.lower(): value for name, value in headers.items()}
    return {name: received[name.lower()] for name in CREDENTIALS if name.lower() in received}


@pytest.mark.parametrize(
    ("status", "method"), [(301, "POST"), (302, "POST"), (303, "POST"), (307, "GET"), (308, "GET")]
)
def test_a_redirect_to_another_origin_drops_the_credentials(
    allow: Callable[[str], None], site: TargetSite, status: int, method: str
) -> None:
    # GIVEN a request with a bearer key and an API key header to a server (127.0.0.1, one
    # port) that redirects to another origin (127.0.0.1, another port)
    allow(ALLOW_LOOPBACK)
    redirect = Reply(status, b"", "text/plain", headers={"Location": f"{site.base_url}/"})
    with TargetSite({"/": redirect}) as first:
        # WHEN it is made (POST, as Perplexity and LinkedIn are called, where urllib follows it)
        response = request(
            f"{first.base_url}/",
            deadline(),
            method=method,
            headers={**CREDENTIALS, "Accept": "text/plain"},
            json_body={"q": 1} if method == "POST" else None,
        )
        # THEN the first server got the credentials, the second none of them (the other headers still)
        [asked] = first.requests
        assert credentials_seen(asked.headers) == CREDENTIALS
    assert response.status == 200
    [redirected] = site.requests
    assert credentials_seen(redirected.headers) == {}
    assert redirected.headers.get("Accept") == "text/plain"


def test_a_redirect_within_the_origin_keeps_the_credentials(allow: Callable[[str], None]) -> None:
    # GIVEN a server that redirects to another path of its own origin
    allow(ALLOW_LOOPBACK)
    with TargetSite({"/": Reply(200, b"hello", "text/plain")}) as server:
        server.pages["/old"] = Reply(302, b"", "text/plain", headers={"Location": f"{server.base_url}/"})
        # WHEN a request with credentials asks for the old path
        response = request(f"{server.base_url}/old", deadline(), headers=CREDENTIALS)
        # THEN the redirected request carries them too
        assert response.status == 200
        assert [r.path for r in server.requests] == ["/old", "/"]
        assert credentials_seen(server.requests[1].headers) == CREDENTIALS


@pytest.mark.parametrize(
    ("url", "other", "same"),
    [
        ("https://api.example.com/a", "https://API.example.com:443/b", True),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8001/", False),
        ("http://api.example.com/", "https://api.example.com/", False),
        ("https://api.example.com/", "https://evil.example.com/", False),
        ("https://api.example.com/", "https://api.example.com:99999/", False),
    ],
)
def test_an_origin_is_scheme_host_and_port(url: str, other: str, same: bool) -> None:
    assert http_client.same_origin(url, other) is same


def test_a_proxy_in_the_environment_is_not_used(
    allow: Callable[[str], None], refused_target: TargetSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an allowed proxy in the environment (it would resolve and connect past the check)
    allow(ALLOW_LOOPBACK)
    with TargetSite({}) as proxy:
        monkeypatch.setenv("http_proxy", proxy.base_url)
        monkeypatch.setenv("no_proxy", "")
        # WHEN a refused address is requested, THEN it is refused: neither proxy nor target saw it
        with pytest.raises(RefusedAddressError):
            request(f"{refused_target.base_url}/", deadline())
        assert proxy.requests == [] and refused_target.requests == []


# ------------------------------------------------------------------ whether a failed request may have been carried out
@pytest.fixture
def hanging_up() -> Iterator[str]:
    """A server on 127.0.0.1 that reads each request whole, then closes without a word: the
    request arrived, its answer never does. Yields its base URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(POLL_SECONDS)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                received = b""
                while b"\r\n\r\n" not in received and (chunk := connection.recv(4096)):
                    received += chunk

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        server.join()
        listener.close()


def test_a_request_sent_and_never_answered_in_time_may_have_been_carried_out(allow: Callable[[str], None]) -> None:
    # GIVEN a server that takes the POST and answers 3 s later, and a deadline 0.5 s away
    allow(ALLOW_LOOPBACK)
    with TargetSite({"/posts": Reply(201, b"", delay_seconds=3.0)}) as slow:
        # WHEN the POST is made
        with pytest.raises(ExternalCallError) as failed:
            request(f"{slow.base_url}/posts", time.monotonic() + 0.5, method="POST", json_body={"text": "hello"})
        # THEN it timed out with its outcome unknown: the server had the request
        assert len(slow.requests) == 1
    assert failed.value.status.value == "timeout" and failed.value.outcome_unknown is True


def test_a_request_whose_connection_drops_before_the_answer_may_have_been_carried_out(
    allow: Callable[[str], None], hanging_up: str
) -> None:
    # GIVEN a server that reads the request and hangs up
    allow(ALLOW_LOOPBACK)
    # WHEN a POST is made, THEN it fails with its outcome unknown
    with pytest.raises(ExternalCallError) as failed:
        request(f"{hanging_up}/posts", deadline(), method="POST", json_body={"text": "hello"})
    assert failed.value.outcome_unknown is True


def test_a_request_refused_before_sending_was_certainly_not_carried_out(allow: Callable[[str], None]) -> None:
    # GIVEN an address where nothing listens
    allow(ALLOW_LOOPBACK)
    # WHEN a POST is made, THEN it fails, and nothing can have been carried out
    with pytest.raises(ExternalCallError) as failed:
        request(f"http://127.0.0.1:{free_port()}/posts", deadline(), method="POST", json_body={"text": "hello"})
    assert failed.value.outcome_unknown is False and failed.value.retryable is True


@pytest.mark.parametrize(
    ("status", "unknown"),
    [(500, True), (502, True), (503, True), (408, True), (429, False), (400, False), (404, False)],
)
def test_an_error_status_says_whether_the_request_may_have_been_carried_out(status: int, unknown: bool) -> None:
    # GIVEN an answer with an error status, WHEN it is raised for
    answer = http_client.HttpResponse(status, {}, b"", 1.0, "https://api.example.com/posts")
    with pytest.raises(ExternalCallError) as failed:
        http_client.raise_for_status(answer, "API")
    # THEN a 5xx or 408 leaves the outcome open; a 429 or another 4xx is a refusal
    assert failed.value.outcome_unknown is unknown


# ------------------------------------------------------------------ TLS on the name
def _certificates(directory: Path, name: str) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for `name` signed by it (CA file, cert, key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )  # digital signature, key cert sign, CRL sign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.fixture
def tls_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, list[str]]]:
    """An HTTPS server on 127.0.0.1 with a certificate for site.example.com, whose CA the
    client trusts (SSL_CERT_FILE); yields its port and the SNI names it was sent."""
    ca_file, cert_file, key_file = _certificates(tmp_path, "site.example.com")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    server_names: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)

    def record_server_name(_socket: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        server_names.append(name or "")

    context.sni_callback = record_server_name  # type: ignore[assignment]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"secure")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server_names
    finally:
        server.shutdown()
        server.server_close()


def test_tls_checks_the_certificate_and_sends_sni_for_the_name(
    allow: Callable[[str], None], tls_site: tuple[int, list[str]], resolver: dict[str, list[str]]
) -> None:
    # GIVEN an allow-listed HTTPS server whose certificate names site.example.com, which
    # resolves to its address
    port, server_names = tls_site
    allow(ALLOW_LOOPBACK)
    resolver["site.example.com"] = ["127.0.0.1"]
    # WHEN the name is requested over HTTPS
    response = request(f"https://site.example.com:{port}/", deadline())
    # THEN the certificate was accepted for the name, which was also the SNI sent
    assert response.status == 200 and response.body == b"secure"
    assert server_names == ["site.example.com"]
    # AND the same server asked by its address fails the certificate's name check
    with pytest.raises(ExternalCallError, match=r"CERTIFICATE_VERIFY_FAILED"):
        request(f"https://127.0.0.1:{port}/", deadline())
    # AND without the allow-list the HTTPS connection is refused like a plain one
    allow("")
    with pytest.raises(RefusedAddressError):
        request(f"https://site.example.com:{port}/", deadline())
    assert server_names == ["site.example.com", ""]
