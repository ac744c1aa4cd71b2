"""The paging services the cockpit knows, found by name, and what each can do.

Adding a service is one module in ``cockpit/integrations/`` whose provider class implements
:class:`cockpit.integrations.base.PagingProvider` (with its ``capabilities``), plus one line
here. The sync layer asks this catalogue, never a service's name: what an action queues, how a
service is pulled and whether a write carries a comment all come from ``capabilities``.
Classes are imported on first use (in the manner of harlequin's plugin lookup), so naming a
service costs nothing until it is used.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import Any

from cockpit.integrations.base import Capabilities

# name -> "module:Class"
SERVICES: dict[str, str] = {
    "pagerduty": "cockpit.integrations.pagerduty:PagerDutyProvider",
    "alertmanager": "cockpit.integrations.alertmanager:AlertmanagerProvider",
}

NONE = Capabilities()  # an unknown source (a drill, a local incident): nothing is delivered


@cache
def provider_class(name: str) -> Any:
    """The provider class registered as ``name``; KeyError if there is none."""
    module, _, attribute = SERVICES[name].partition(":")
    return getattr(import_module(module), attribute)


def capabilities(name: str) -> Capabilities:
    """What the service registered as ``name`` does; :data:`NONE` for anything else."""
    if name not in SERVICES:
        return NONE
    found = provider_class(name).capabilities
    assert isinstance(found, Capabilities)
    return found


__all__ = ["NONE", "SERVICES", "capabilities", "provider_class"]
