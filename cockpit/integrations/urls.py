"""Base URLs of paging services: https, or plain http to this machine only (when a secret
would travel over it). A user name or password in the URL (``http://user:pw@host``) is such
a secret; it is never shown (:func:`shown`) and is masked wherever text is redacted."""

from __future__ import annotations

import ipaddress

import httpx

from cockpit.integrations.base import InsecureURL
from cockpit.redact import mask_userinfo
from cockpit.seen_secrets import remember, url_secrets


def shown(url: str) -> str:
    """``url`` as it may be shown or kept: its userinfo, if any, masked."""
    return mask_userinfo(url)


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
            A user name or password in the URL is one, whatever ``secret`` says.

    Raises:
        InsecureURL: plain http:// to another host while ``secret``, or a scheme other than
            http(s). Its message never holds the URL's userinfo.
    """
    userinfo = url_secrets(base_url)
    remember(*userinfo)
    where = f"{setting} {shown(base_url.strip())!r}"
    try:
        url = httpx.URL(base_url.strip())
    except (httpx.InvalidURL, ValueError, TypeError):
        raise InsecureURL(f"{where} is not an https:// URL with a host") from None
    host = url.host
    if url.scheme == "https" and host:
        return str(url).rstrip("/")
    if url.scheme == "http" and host:
        if is_loopback(host) or not (secret or userinfo or url.userinfo):
            return str(url).rstrip("/")
        if not secret:
            carried = "the user name and password in the URL"
        raise InsecureURL(
            f"refusing plain http:// to {host} ({where}): {carried} would "
            "travel unencrypted; use https://, plain http is allowed only for 127.0.0.1, ::1 "
            "and localhost"
        )
    raise InsecureURL(f"{where} is not an https:// URL with a host")
