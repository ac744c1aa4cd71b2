"""Base URLs of paging services: https, or plain http to this machine only (when a secret
would travel over it)."""

from __future__ import annotations

import ipaddress

import httpx

from cockpit.integrations.base import InsecureURL


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str, setting: str, carried: str, *, secret: bool = True) -> str:
    """The base URL without a trailing slash.

    Args:
        base_url: the configured URL.
        setting: the setting's name, for the message (``pagerduty_url``).
        carried: what would travel unencrypted over plain http (``the token``).
        secret: whether a secret would travel; without one, plain http to any host is fine.

    Raises:
        InsecureURL: plain http:// to another host while ``secret``, or a scheme other than
            http(s).
    """
    url = httpx.URL(base_url.strip())
    host = url.host
    if url.scheme == "https" and host:
        return str(url).rstrip("/")
    if url.scheme == "http" and host:
        if is_loopback(host) or not secret:
            return str(url).rstrip("/")
        raise InsecureURL(
            f"refusing plain http:// to {host} ({setting} {base_url!r}): {carried} would "
            "travel unencrypted; use https://, plain http is allowed only for 127.0.0.1, ::1 "
            "and localhost"
        )
    raise InsecureURL(f"{setting} {base_url!r} is not an https:// URL with a host")
