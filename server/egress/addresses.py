"""Which destinations an outbound request may reach.

The check is made on addresses, after resolution, because a name says nothing
about where it points: ``metadata.example`` may resolve to 169.254.169.254. The
host is resolved once; every address it resolves to must pass, and the
connection is then made to one of those checked addresses (see transport.py),
so a second lookup cannot send it elsewhere (DNS rebinding).

Numeric hosts other than the dotted-decimal form (``2130706433``,
``0177.0.0.1``, ``0x7f.1``) are refused before resolution: C resolvers, browsers
and URL parsers read them differently, and no real service needs them.

A lookup has a timeout. ``getaddrinfo`` takes none and cannot be
interrupted, so it runs in a thread and the caller stops waiting at the
timeout: a slow resolver ends in ``EgressTimeout``, never a hang.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from server.egress.errors import EgressRefused, EgressTimeout, EgressUnreachable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)
# Shared address space for carrier-grade NAT: not private in Python's tables,
# yet never a public service.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def refusal_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be reached, or None for a public unicast address."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        inner = refusal_reason(embedded)
        if inner is not None:
            return f"{ip} embeds {inner}"
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip in _CGNAT, "carrier-grade NAT"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "not public"),
    )
    for applies, kind in checks:
        if applies:
            return f"{ip} is {kind}"
    return None


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, Teredo client), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


@dataclass(frozen=True)
class AllowRule:
    """One entry of AGENTLOOM_EGRESS_ALLOW: a host name or a network, maybe with a port."""

    host: str | None
    network: IPNetwork | None
    port: int | None

    def matches(self, host: str, ip: IPAddress, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return self.host == host
        return self.network is not None and ip in self.network


def _parse_rule(entry: str) -> AllowRule:
    text = entry.strip().lower()
    port: int | None = None
    if text.startswith("["):  # [v6]:port or [v6]
        inside, _, rest = text[1:].partition("]")
        text, port = inside, int(rest[1:]) if rest.startswith(":") else None
    elif text.count(":") == 1:  # host:port (a bare IPv6 address has several colons)
        text, port_text = text.split(":")
        port = int(port_text)
    try:
        return AllowRule(host=None, network=ipaddress.ip_network(text, strict=False), port=port)
    except ValueError:
        return AllowRule(host=text.rstrip("."), network=None, port=port)


@lru_cache(maxsize=8)
def parse_allow(entries: tuple[str, ...]) -> tuple[AllowRule, ...]:
    """The operator's allow list; cached because it is read on every connection."""
    return tuple(_parse_rule(entry) for entry in entries if entry.strip())


def _is_ambiguous_number(host: str) -> bool:
    labels = host.split(".")
    if not all(_NUMERIC_LABEL.fullmatch(label) for label in labels):
        return False
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return True
    return False


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# Lookups in flight at once per process; past it a lookup waits, within its timeout.
_LOOKUP_SLOTS = 16
_slots: tuple[int, threading.BoundedSemaphore] | None = None
_slots_lock = threading.Lock()


def _lookup_slots() -> threading.BoundedSemaphore:
    """This process's slots (a fork copies slots taken by threads the child does not have)."""
    global _slots
    pid = os.getpid()
    current = _slots
    if current is not None and current[0] == pid:
        return current[1]
    with _slots_lock:
        if _slots is None or _slots[0] != pid:
            _slots = (pid, threading.BoundedSemaphore(_LOOKUP_SLOTS))
        return _slots[1]


def _getaddrinfo(host: str, port: int, timeout_s: float) -> list[Any]:
    """``socket.getaddrinfo`` that gives up waiting after ``timeout_s``.

    The lookup runs in a daemon thread of its own: an abandoned one must not
    keep the process from exiting. It keeps its slot until the resolver
    answers, so a stalled resolver costs at most ``_LOOKUP_SLOTS`` threads.
    """
    expired = EgressTimeout(f"resolving {host} took longer than {timeout_s:g} s")
    deadline = time.monotonic() + timeout_s
    slots = _lookup_slots()
    if not slots.acquire(timeout=timeout_s):
        raise expired
    outcome: list[Any] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            outcome.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:
            outcome.append(exc)
        finally:
            slots.release()
            done.set()

    threading.Thread(target=lookup, name="egress-dns", daemon=True).start()
    if not done.wait(max(0.0, deadline - time.monotonic())):
        raise expired
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    answers: list[Any] = outcome[0]
    return answers


def resolve(host: str, port: int, timeout_s: float) -> list[IPAddress]:
    """Every address ``host`` stands for: the literal itself, or one lookup's answers."""
    bare = host.strip("[]").lower()
    if _is_ambiguous_number(bare):
        raise EgressRefused(f"{host} is a non-standard numeric address")
    try:
        return [ipaddress.ip_address(bare)]
    except ValueError:
        pass
    try:
        answers = _getaddrinfo(bare, port, timeout_s)
    except (socket.gaierror, UnicodeError) as exc:
        raise EgressUnreachable(f"{host} does not resolve") from exc
    addresses: list[IPAddress] = []
    for family, _, _, _, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        # A scope ("%eth0") only occurs on link-local addresses, which are refused anyway.
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise EgressUnreachable(f"{host} does not resolve")
    return addresses


def checked_addresses(
    host: str, port: int, allow: tuple[str, ...], timeout_s: float
) -> list[IPAddress]:
    """The addresses to connect to, every one allowed; or ``EgressRefused``.

    ``timeout_s`` bounds the lookup of a host name (``EgressTimeout``).

    One refused address refuses the host: a name that answers both a public and
    a private address is either misconfigured or an attack on the check.
    """
    rules = parse_allow(allow)
    name = host.strip("[]").lower().rstrip(".")
    addresses = resolve(host, port, timeout_s)
    for ip in addresses:
        if any(rule.matches(name, ip, port) for rule in rules):
            continue
        reason = refusal_reason(ip)
        if reason is not None:
            raise EgressRefused(f"{host}:{port} refused: {reason}")
    return addresses


def domain_allowed(host: str, allowed_domains: Sequence[str]) -> bool:
    """A workspace's narrowing: the host is one of the domains or under one (empty: any)."""
    if not allowed_domains:
        return True
    name = host.strip("[]").lower().rstrip(".")
    is_literal = _is_literal(name)
    for domain in allowed_domains:
        suffix = domain.strip().lower().strip(".")
        if is_literal and suffix != name:
            continue
        if suffix and (name == suffix or name.endswith("." + suffix)):
            return True
    return False
