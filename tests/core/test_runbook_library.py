"""Which runbooks folder is read: the configured one; the samples only when none is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.config import load_settings
from cockpit.errors import ConfigError
from cockpit.runbooks.library import default_runbook_dirs, load_library, samples_dir


def test_a_configured_folder_that_is_missing_is_an_error_not_the_samples(tmp_path: Path) -> None:
    settings = load_settings(environ={"COCKPIT_RUNBOOKS": str(tmp_path / "nope")})
    with pytest.raises(ConfigError, match=r"nope \(env COCKPIT_RUNBOOKS\) does not exist"):
        default_runbook_dirs(settings)


def test_with_nothing_configured_the_samples_are_read(tmp_path: Path) -> None:
    settings = load_settings(environ={"COCKPIT_DATA_DIR": str(tmp_path)})
    assert default_runbook_dirs(settings) == [samples_dir()]
    assert len(load_library([samples_dir()])) >= 8


def test_the_configured_folder_is_read_when_it_exists(tmp_path: Path) -> None:
    (tmp_path / "mine.md").write_text("# Mine\n\n## Checks\n- [ ] look\n")
    settings = load_settings(environ={"COCKPIT_RUNBOOKS": str(tmp_path)})
    assert default_runbook_dirs(settings) == [tmp_path]
    assert [rb.title for rb in load_library(default_runbook_dirs(settings))] == ["Mine"]
