from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

sys.path.insert(0, str(Path(__file__).parent.parent / "ui"))

from cockpit_seed import frozen, seed  # noqa: E402

from cockpit.app import CockpitApp  # noqa: E402
from cockpit.runbooks.library import load_library  # noqa: E402


@pytest.fixture(autouse=True)
def _no_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.setattr(TextArea, "cursor_blink", False)


@pytest.fixture
def build(tmp_path: Path) -> Iterator[Callable[..., CockpitApp]]:
    """The seeded app with a frozen clock; ``theme`` picks the theme."""
    stores = []

    def make(theme: str = "textual-dark") -> CockpitApp:
        settings, store = seed(tmp_path)
        stores.append(store)
        settings = settings.replace(theme=theme)  # type: ignore[attr-defined]
        return CockpitApp(
            settings, store, clock=frozen, library=load_library([tmp_path / "runbooks"])
        )

    yield make
    for store in stores:
        store.close()
