"""The client's address for rate limits, read from the right of X-Forwarded-For.

Each proxy appends the address it received the request from, so only the entries our own proxies
wrote can be believed: the rightmost ones. Anything to their left was sent by the client and can
be anything (the leftmost entry above all). The client is the first address, walking from the
connection's peer leftwards, that is not one of our proxies: either the entry after
TRUSTED_PROXY_HOPS proxies, or the first one outside TRUSTED_PROXY_CIDRS.
"""

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
ADDRESS_MAX = 64


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs; ValueError naming the bad one."""
    networks = []
    for part in (p.strip() for p in text.split(",")):
        if part:
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"{part!r} is not a CIDR") from None
    return tuple(networks)


def _trusted(entry: str, networks: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(entry)
    except ValueError:
        return False
    return any(address in network for network in networks)


def client_address(peer: str | None, forwarded_for: Sequence[str], *, hops: int,
                   networks: Sequence[Network]) -> str:
    """`peer` is the TCP peer; `forwarded_for` every X-Forwarded-For header, in order."""
    chain = [e.strip() for header in forwarded_for for e in header.split(",") if e.strip()]
    chain.append(peer or "unknown")
    index = len(chain) - 1
    if networks:
        while index > 0 and _trusted(chain[index], networks):
            index -= 1
    else:
        index = max(0, index - hops)
    return chain[index][:ADDRESS_MAX]
