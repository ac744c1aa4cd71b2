"""The main screen mid-run, mid-rollback and with a long title, at 120x40 and
80x24 (frozen clock, fixed seed, no cursor blink)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cockpit_seed import NOW, frozen, seed

from cockpit.app import CockpitApp
from cockpit.runbooks.library import load_library
from cockpit.store.models import Incident

SIZES = [(120, 40), (80, 24)]
LONG = (
    "High latency on product-api /product in eu-west-1: p95 1.4 s since the 02:00 deploy "
    "of product-api v2.31.0 (canary at 10%, origin QPS 4x baseline)"
)
MID_RUN = ["space", "space", "space", "y", "space"]  # two checks, the risky step, a timer
ROLLBACK = ["space", "r", *"p95 still rising", "enter"]


@pytest.fixture
def made(tmp_path: Path) -> Iterator[list[Any]]:
    stores: list[Any] = []
    yield stores
    for store in stores:
        store.close()


def _app(tmp_path: Path, stores: list[Any], title: str | None = None) -> CockpitApp:
    settings, store = seed(tmp_path, title=title) if title else seed(tmp_path)
    stores.append(store)
    if title:
        with store.write() as session:  # a look-alike, so the list must tell them apart
            session.add(
                Incident(
                    id="pagerduty:P104",
                    source="pagerduty",
                    remote_id="P104",
                    number=104,
                    title=LONG.replace("eu-west-1", "eu-central-1"),
                    status="triggered",
                    urgency="high",
                    service_name="product-api",
                    created_at=NOW - timedelta(hours=3),
                    updated_at=NOW,
                )
            )
    return CockpitApp(settings, store, clock=frozen, library=load_library([tmp_path / "runbooks"]))


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_main_mid_run(
    snap_compare: Any, tmp_path: Path, made: list[Any], size: tuple[int, int]
) -> None:
    assert snap_compare(_app(tmp_path, made), press=MID_RUN, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_main_mid_rollback(
    snap_compare: Any, tmp_path: Path, made: list[Any], size: tuple[int, int]
) -> None:
    assert snap_compare(_app(tmp_path, made), press=ROLLBACK, terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_main_long_title(
    snap_compare: Any, tmp_path: Path, made: list[Any], size: tuple[int, int]
) -> None:
    assert snap_compare(_app(tmp_path, made, LONG), terminal_size=size)
