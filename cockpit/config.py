"""Settings: built-in defaults < TOML file < ``COCKPIT_*`` environment < command-line flags.

Every key can be set at each level, and :meth:`Settings.describe` says where each effective
value came from. Secrets are kept out of ``repr`` and are masked whenever printed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cockpit import paths
from cockpit.errors import ConfigError


@dataclass(frozen=True)
class Key:
    name: str
    kind: type
    default: Any
    help: str
    secret: bool = False
    minimum: int = 0  # for int keys

    @property
    def env(self) -> str:
        return "COCKPIT_" + self.name.upper()


KEYS: tuple[Key, ...] = (
    Key("data_dir", Path, None, "folder of the local store (default: the user data folder)"),
    Key("runbooks", Path, None, "runbooks folder (default: <data_dir>/runbooks)"),
    Key("database_url", str, "",
        "the store file as a sqlite:/// URL (default: cockpit.db in data_dir)"),
    Key("pagerduty_url", str, "https://api.pagerduty.com", "PagerDuty REST base URL"),
    Key("pagerduty_token", str, "", "PagerDuty API token (prefer the keyring)", secret=True),
    Key("pagerduty_from", str, "", "email sent as From on writes (default: /users/me)"),
    Key("pagerduty_ca_bundle", str, "", "CA certificate file to trust (e.g. the emulator's --tls)"),
    Key("alertmanager_url", str, "", "Alertmanager base URL (empty: not used)"),
    Key("alertmanager_user", str, "", "Alertmanager basic-auth user"),
    Key("alertmanager_token", str, "", "Alertmanager password or bearer token", secret=True),
    Key("sync_window_days", int, 30, "days of history the first sync fetches", minimum=1),
    Key("sync_interval", int, 60, "seconds between syncs in watch mode and in the TUI", minimum=5),
    Key("timezone", str, "", "IANA time zone for display (default: the system's)"),
    Key("user", str, "",
        "who you are: PagerDuty user id or email; also who Alertmanager silences are by"),
    Key("theme", str, "textual-dark", "TUI theme"),
)
KEYS_BY_NAME = {key.name: key for key in KEYS}
_TRUE = {"1", "true", "yes", "on"}


def _coerce(key: Key, value: Any, where: str) -> Any:
    if value is None:
        return None
    try:
        if key.kind is Path:
            return Path(os.path.expanduser(str(value)))
        if key.kind is int:
            if isinstance(value, bool):
                raise ValueError(value)
            number = int(value)
            if number < key.minimum:
                raise ConfigError(
                    f"{where}: {key.name} must be at least {key.minimum}, got {number}"
                )
            return number
        if key.kind is bool:
            return value if isinstance(value, bool) else str(value).lower() in _TRUE
        if not isinstance(value, str):
            raise ValueError(value)
        return value
    except (TypeError, ValueError, OverflowError):
        shown = mask(str(value)) if key.secret else repr(value)
        raise ConfigError(f"{where}: {key.name} must be {key.kind.__name__}, got {shown}") from None


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any]
    sources: Mapping[str, str] = field(default_factory=dict)
    config_file: Path | None = None
    tables: Mapping[str, Any] = field(default_factory=dict)  # [filters], [keymap]...
    # Where the settings file is looked for (whether or not it exists): what to create.
    config_path: Path | None = None

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        shown = {k: ("***" if KEYS_BY_NAME[k].secret and v else v) for k, v in self.values.items()}
        return f"Settings({shown})"

    @property
    def data_path(self) -> Path:
        value = self.values.get("data_dir")
        return Path(value) if value else paths.default_data_dir()

    @property
    def runbooks_path(self) -> Path:
        value = self.values.get("runbooks")
        return Path(value) if value else self.data_path / "runbooks"

    def replace(self, **changes: Any) -> Settings:
        values = dict(self.values)
        sources = dict(self.sources)
        for name, value in changes.items():
            values[name] = _coerce(KEYS_BY_NAME[name], value, "override")
            sources[name] = "override"
        return Settings(values, sources, self.config_file, self.tables, self.config_path)

    def describe(self) -> list[tuple[str, str, str]]:
        """Rows of (key, shown value, source); secrets masked."""
        rows = []
        for key in KEYS:
            value = self.values.get(key.name)
            if key.secret and value:
                shown = mask(str(value))
            elif value is None:
                shown = "(unset)"
            else:
                shown = str(value)
            rows.append((key.name, shown, self.sources.get(key.name, "default")))
        return rows


def mask(secret: str) -> str:
    """Show that a secret is set without showing it."""
    return "*" * 8 if len(secret) < 12 else f"{'*' * 8}{secret[-2:]}"


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
    flag_names: Mapping[str, str] | None = None,
) -> Settings:
    """``flags`` by key name; ``flag_names`` says how each was given (default ``--key``)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {key.name: key.default for key in KEYS}
    sources: dict[str, str] = {key.name: "default" for key in KEYS}
    tables: dict[str, Any] = {}
    file_given = config_file is not None or "COCKPIT_CONFIG" in environ
    path = config_file or (
        Path(environ["COCKPIT_CONFIG"])
        if "COCKPIT_CONFIG" in environ
        else paths.config_dir() / "config.toml"
    )
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: {error}") from None
        except UnicodeDecodeError as error:
            raise ConfigError(f"{path}: not UTF-8 text (byte {error.start})") from None
        except OSError as error:
            raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
        table = data.get("cockpit", data)
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [cockpit] must be a table of settings")
        for name, value in table.items():
            if name not in KEYS_BY_NAME:
                if isinstance(value, dict):
                    tables[name] = value  # [keymap], [filters]: read by their owners
                    continue
                known = ", ".join(KEYS_BY_NAME)
                raise ConfigError(f"{path}: unknown setting {name!r} (known: {known})")
            values[name] = _coerce(KEYS_BY_NAME[name], value, str(path))
            sources[name] = f"file {path}"
    elif file_given:
        raise ConfigError(f"{path}: settings file not found")
    for key in KEYS:
        if key.env in environ and environ[key.env] != "":
            values[key.name] = _coerce(key, environ[key.env], key.env)
            sources[key.name] = f"env {key.env}"
    for name, value in (flags or {}).items():
        if value is not None:
            given = (flag_names or {}).get(name) or f"--{name.replace('_', '-')}"
            values[name] = _coerce(KEYS_BY_NAME[name], value, given)
            sources[name] = f"flag {given}"
    return Settings(values, sources, path if path.exists() else None, tables, path)


def settings_from_args(args: Any) -> Settings:
    """Settings for a parsed command line: the global flags of ``cockpit``, among them
    ``--set KEY=VALUE`` (repeatable) for any key."""
    flags: dict[str, Any] = {}
    names: dict[str, str] = {}
    for item in getattr(args, "set", None) or []:
        name, sep, value = str(item).partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in KEYS_BY_NAME:
            known = ", ".join(KEYS_BY_NAME)
            raise ConfigError(f"--set {item.split('=')[0]!r}: expected KEY=VALUE with a known "
                              f"key ({known})")
        if KEYS_BY_NAME[name].secret:
            raise ConfigError(f"--set {name}: a secret is not taken on the command line (any "
                              f"user can read it in the process list): use `cockpit auth "
                              f"login` or {KEYS_BY_NAME[name].env}")
        flags[name] = value
        names[name] = f"--set {name}"
    for name in ("data_dir", "runbooks"):  # their own flags win over --set
        if getattr(args, name, None) is not None:
            flags[name] = getattr(args, name)
            names.pop(name, None)
    config = getattr(args, "config", None)
    return load_settings(Path(config) if config else None, flags=flags, flag_names=names)


__all__ = ["KEYS", "Settings", "load_settings", "settings_from_args", "mask"]
