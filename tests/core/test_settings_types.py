"""The typed names of Settings are the keys of KEYS, with their kinds, so that code reading
``settings.sync_interval`` is checked by mypy against what the loader gives."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from cockpit import config
from cockpit.config import KEYS, load_settings


def _declared() -> dict[str, str]:
    tree = ast.parse(inspect.getsource(config._Keys))
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for item in node.body:
                assert isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                found[item.target.id] = ast.unparse(item.annotation)
    return found


def test_every_key_is_declared_with_its_kind() -> None:
    declared = _declared()
    assert list(declared) == [key.name for key in KEYS]
    for key in KEYS:
        kind = key.kind.__name__
        expected = f"{kind} | None" if key.default is None else kind
        assert declared[key.name] == expected, key.name


def test_the_loaded_values_have_the_declared_kinds(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[cockpit]\nsync_interval = 30\ntimezone = "UTC"\n')
    settings = load_settings(path, environ={}, flags={"data_dir": str(tmp_path)})
    for key in KEYS:
        value = getattr(settings, key.name)
        assert value is None or isinstance(value, key.kind), key.name
