from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cockpit_seed import HERE, frozen, seed  # noqa: F401
from textual.widgets import Input, TextArea

from cockpit.app import CockpitApp
from cockpit.runbooks.library import load_library
from cockpit.store.engine import Store


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.setattr(TextArea, "cursor_blink", False)


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[object, Store]]:
    settings, store = seed(tmp_path)
    yield settings, store
    store.close()


@pytest.fixture
def app(seeded: tuple[object, Store], tmp_path: Path) -> CockpitApp:
    settings, store = seeded
    library = load_library([tmp_path / "runbooks"])
    return CockpitApp(settings, store, clock=frozen, library=library)


@pytest.fixture
def hostile_app(tmp_path: Path) -> Iterator[CockpitApp]:
    from cockpit_seed import HOSTILE

    settings, store = seed(tmp_path, title=HOSTILE)
    yield CockpitApp(settings, store, clock=frozen, library=load_library([tmp_path / "runbooks"]))
    store.close()
