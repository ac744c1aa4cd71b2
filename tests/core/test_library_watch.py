"""The runbook library is read again when a runbook file or its folder changed on disk (an
edit mid-run, a runbook dropped in the folder), and not while nothing changed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cockpit.runbook_choice import LibraryWatch
from cockpit.runbooks.library import load_library

SAMPLES = Path(__file__).parents[2] / "runbooks"


def folder_of_two(tmp_path: Path) -> Path:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    for name in ("disk-full.md", "cache-stampede.md"):
        shutil.copy(SAMPLES / name, folder / name)
    return folder


def touch(path: Path, seconds: int) -> None:
    os.utime(path, ns=(seconds * 10**9, seconds * 10**9))


def test_an_edited_runbook_or_a_new_one_in_the_folder_is_a_change(tmp_path: Path) -> None:
    folder = folder_of_two(tmp_path)
    files = sorted(folder.glob("*.md"))
    for path in [*files, folder]:
        touch(path, 1_700_000_000)
    library = load_library([folder])
    watch = LibraryWatch()
    assert not watch.changed(library)  # first sight: what it was read as
    assert not watch.changed(library)  # nothing changed on disk
    touch(files[0], 1_700_000_100)  # edited
    assert watch.changed(library)
    library = load_library([folder])  # read again: the new library is the reference
    assert not watch.changed(library)
    (folder / "new.md").write_text("# New\n\n## Checks\n- [ ] look\n")
    touch(folder, 1_700_000_200)  # what adding a file does to its folder
    assert watch.changed(library)
    library = load_library([folder])
    assert any(r.path.endswith("new.md") for r in library)
    assert not watch.changed(library)
    files[1].unlink()
    touch(folder, 1_700_000_300)
    assert watch.changed(library)


def test_a_runbook_in_a_new_subfolder_or_an_empty_folder_is_a_change(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    touch(empty, 1_700_000_000)
    watch = LibraryWatch()
    library = load_library([empty])
    assert library == [] and not watch.changed(library, [empty])
    shutil.copy(SAMPLES / "disk-full.md", empty / "disk-full.md")
    touch(empty, 1_700_000_100)
    assert watch.changed(library, [empty])  # the first runbook of an empty folder

    folder = folder_of_two(tmp_path)
    touch(folder, 1_700_000_000)
    library = load_library([folder])
    assert not watch.changed(library, [folder])
    (folder / "storage").mkdir()
    touch(folder, 1_700_000_000)  # only the new subfolder's own time moves below
    assert watch.changed(library, [folder])  # a new folder: it may hold runbooks
    library = load_library([folder])
    assert not watch.changed(library, [folder])
    shutil.copy(SAMPLES / "disk-full.md", folder / "storage" / "volumes.md")
    touch(folder / "storage", 1_700_000_500)
    assert watch.changed(library, [folder])
    assert any(r.path.endswith("volumes.md") for r in load_library([folder]))
    (folder / "drafts").mkdir()
    touch(folder, 1_700_000_600)
    library = load_library([folder])
    assert not watch.changed(library, [folder])
    (folder / "drafts" / "idea.md").write_text("# Idea\n")
    assert not watch.changed(library, [folder])  # drafts are not in the library
