"""Isolation for every test: no developer config, data or keyring leaks in or out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Imported here, not by Hypothesis's end-of-run summary: on CPython 3.11.7 that late import
# can die in the AST parser ("AST constructor recursion depth mismatch", a CPython bug).
import hypothesis.internal.observability  # noqa: F401
import keyring
import pytest
from memory_keyring import MemoryKeyring


@pytest.fixture(autouse=True)
def isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("COCKPIT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    # The fail backend: no test ever reads or writes the developer's real keyring.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("TZ", "UTC")
    yield home


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """The keyring, in this process's memory, for a test about what is kept in it."""
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(before)
