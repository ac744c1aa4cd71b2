"""Settings: built-in defaults < TOML file < ``COCKPIT_*`` environment < command-line flags.

Every key can be set at each level, and :meth:`Settings.describe` says where each effective
value came from. Secrets are kept out of ``repr`` and are masked whenever printed. A value is
checked wherever it comes from, so a bad one is a ConfigError naming the key and the file,
variable or flag that set it, from every command, before anything uses it.
:func:`save_setting` writes one key into the settings file (``cockpit config set``).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    # For str keys: what is wrong with a (non-empty) value, or None when it is fine.
    check: Callable[[str], str | None] | None = None
    example: str = ""  # a good value, for messages

    @property
    def env(self) -> str:
        return "COCKPIT_" + self.name.upper()


def zone_problem(value: str) -> str | None:
    """Why ``value`` is not an IANA time zone this machine knows, or None."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "is not a time zone this machine knows (an IANA name such as Europe/Berlin)"
    return None


def display_zone(settings: Settings) -> ZoneInfo | None:
    """The zone times are shown in: the ``timezone`` setting, or None for the system's."""
    if not settings.timezone:
        return None
    try:
        return ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone: unknown time zone {settings.timezone!r}") from None


def email_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as PagerDuty's ``From`` header, or None.

    The header is ASCII by HTTP's rules: a non-ASCII address made httpx raise
    UnicodeEncodeError, and a CR/LF in it made every request a protocol error (read as being
    offline). PagerDuty wants the email of one of its users, so the shape is checked too.
    """
    if len(value) > 254:
        return "is longer than an email address can be (254 characters)"
    odd = next((c for c in value if not c.isascii()), None)
    if odd is not None:
        return f"must be ASCII, since it is sent in an HTTP header ({odd!r} is not)"
    if any(c.isspace() or not c.isprintable() for c in value):
        return "must be one address on one line, without spaces or control characters"
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or "@" in local or "." in (domain[0], domain[-1]):
        return "must be an email address such as you@example.com"
    return None


KEYS: tuple[Key, ...] = (
    Key("data_dir", Path, None, "folder of the local store (default: the user data folder)"),
    Key("runbooks", Path, None, "runbooks folder (default: <data_dir>/runbooks)"),
    Key(
        "database_url",
        str,
        "",
        "the store file as a sqlite:/// URL (default: cockpit.db in data_dir)",
    ),
    Key("pagerduty_url", str, "https://api.pagerduty.com", "PagerDuty REST base URL"),
    Key("pagerduty_token", str, "", "PagerDuty API token (prefer the keyring)", secret=True),
    Key(
        "pagerduty_from",
        str,
        "",
        "email sent as From on writes (default: /users/me)",
        check=email_problem,
        example="you@example.com",
    ),
    Key("pagerduty_ca_bundle", str, "", "CA certificate file to trust (e.g. the emulator's --tls)"),
    Key("alertmanager_url", str, "", "Alertmanager base URL (empty: not used)"),
    Key("alertmanager_user", str, "", "Alertmanager basic-auth user"),
    Key("alertmanager_token", str, "", "Alertmanager password or bearer token", secret=True),
    Key("sync_window_days", int, 30, "days of history the first sync fetches", minimum=1),
    Key("sync_interval", int, 60, "seconds between syncs in watch mode and in the TUI", minimum=5),
    Key(
        "request_deadline",
        int,
        30,
        "seconds a request to a paging service may take, answer included; a write whose "
        "answer was lost is checked, never re-sent, until this has passed",
        minimum=1,
    ),
    Key(
        "timezone",
        str,
        "",
        "IANA time zone for display (default: the system's)",
        check=zone_problem,
        example="Europe/Berlin",
    ),
    Key(
        "user",
        str,
        "",
        "who you are: PagerDuty user id or email; also who Alertmanager silences are by",
    ),
    Key("theme", str, "textual-dark", "TUI theme"),
    Key(
        "team_url",
        str,
        "",
        "team store, postgresql://USER@HOST/DB (password in the keyring; empty: no team mode)",
    ),
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
        problem = key.check(value) if key.check and value else None
        if problem:
            raise ConfigError(f"{where}: {key.name} {problem}, got {value!r}{_fix(key, where)}")
        return value
    except (TypeError, ValueError, OverflowError):
        shown = mask(str(value)) if key.secret else repr(value)
        raise ConfigError(f"{where}: {key.name} must be {key.kind.__name__}, got {shown}") from None


def _fix(key: Key, where: str) -> str:
    """How to fix a bad value, by where it came from (a file, the environment, a flag)."""
    if where == key.env:
        return f"; fix or unset {key.env}"
    if not Path(where).is_file():
        return ""  # a flag, or typed just now: the message is the answer
    return f"; fix it in that file, or run `cockpit config set {key.name} {key.example or 'VALUE'}`"


def _keymap(table: Any, path: Path, prefix: str = "") -> dict[str, str]:
    """``[keymap]``: binding id -> keys. ``incident.ack = "K"`` unquoted is a dotted key to
    TOML (a nested table): joined back into the id. A value that is not a key string is
    refused with its entry named."""
    if not isinstance(table, dict):
        raise ConfigError(f'{path}: [keymap] must be a table of binding id = "keys"')
    keymap: dict[str, str] = {}
    for name, keys in table.items():
        binding_id = f"{prefix}{name}"
        if isinstance(keys, dict):
            keymap.update(_keymap(keys, path, f"{binding_id}."))
        elif isinstance(keys, str) and keys.strip():
            keymap[binding_id] = keys
        else:
            raise ConfigError(
                f'{path}: [keymap] {binding_id!r} must be a key string such as "K" or '
                f'"ctrl+k,K" (got {keys!r})'
            )
    return keymap


class _Keys:
    """Each key of KEYS, typed for the checker (tests/core/test_settings_types.py keeps these
    and KEYS the same). A plain base, not dataclass fields: the values come from
    ``Settings.values`` through ``__getattr__``."""

    if TYPE_CHECKING:
        data_dir: Path | None
        runbooks: Path | None
        database_url: str
        pagerduty_url: str
        pagerduty_token: str
        pagerduty_from: str
        pagerduty_ca_bundle: str
        alertmanager_url: str
        alertmanager_user: str
        alertmanager_token: str
        sync_window_days: int
        sync_interval: int
        request_deadline: int
        timezone: str
        user: str
        theme: str
        team_url: str


@dataclass(frozen=True)
class Settings(_Keys):
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
    path = settings_file(config_file, environ)
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
        if table is not data:
            # Beside a [cockpit] table, the other tables ([keymap], [filters.NAME]) are at the
            # top level: kept, not dropped.
            for name, value in data.items():
                if name != "cockpit" and isinstance(value, dict):
                    tables[name] = value
        for name, value in table.items():
            if name not in KEYS_BY_NAME:
                if isinstance(value, dict):
                    tables[name] = value  # [keymap], [filters]: read by their owners
                    continue
                known = ", ".join(KEYS_BY_NAME)
                raise ConfigError(f"{path}: unknown setting {name!r} (known: {known})")
            values[name] = _coerce(KEYS_BY_NAME[name], value, str(path))
            sources[name] = f"file {path}"
        tables["keymap"] = _keymap(tables.get("keymap", {}), path)
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


def settings_file(
    config_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The settings file: ``config_file``, else ``$COCKPIT_CONFIG``, else the user's."""
    environ = os.environ if environ is None else environ
    if config_file is not None:
        return config_file
    if "COCKPIT_CONFIG" in environ:
        return Path(environ["COCKPIT_CONFIG"])
    return paths.config_dir() / "config.toml"


def check_value(name: str, value: str, where: str) -> Any:
    """``value`` for key ``name`` as it would be loaded; ConfigError naming ``where`` if not."""
    key = KEYS_BY_NAME.get(name)
    if key is None:
        raise ConfigError(f"{where}: unknown setting {name!r} (known: {', '.join(KEYS_BY_NAME)})")
    return _coerce(key, value, where)


def save_setting(path: Path, name: str, value: str) -> None:
    """Set ``name`` in the settings file at ``path`` (created if missing), keeping the rest
    of its text (comments, order, tables) as it is.

    The value is checked as loading would check it. The file is replaced atomically, keeps
    its permissions (a new one is private: it may come to hold a token), and is read back
    before it replaces the old one: an edit that would not mean ``name = value`` is refused
    with a ConfigError asking for a hand edit.
    """
    key = KEYS_BY_NAME.get(name)
    where = f"cockpit config set {name}"
    if key is None:
        raise ConfigError(f"{where}: unknown setting (known: {', '.join(KEYS_BY_NAME)})")
    wanted = _coerce(key, value, where)
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot be updated ({error}); fix it by hand first") from None
    stored: Any = wanted if key.kind is int else value
    line = f"{name} = {_toml_literal(stored)}\n"
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    headers = [i for i, item in enumerate(lines) if _TABLE_HEADER.match(item)]
    if isinstance(data.get("cockpit"), dict):
        starts = [i for i in headers if _COCKPIT_HEADER.match(lines[i])]
        if not starts:
            raise ConfigError(f"{path}: set {name} in its [cockpit] table by hand")
        start = starts[0] + 1
    else:
        start = 0
    end = next((i for i in headers if i >= start), len(lines))
    mine = re.compile(rf"\s*{re.escape(name)}\s*=")
    found = next((i for i in range(start, end) if mine.match(lines[i])), None)
    if found is not None:
        lines[found] = line
    else:
        at = end
        while at > start and not lines[at - 1].strip():
            at -= 1  # after the section's last line, before the blank lines ending it
        lines.insert(at, line)
    new_text = "".join(lines)
    try:
        reread = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError:
        reread = {}
    table = reread.get("cockpit", reread)
    if not isinstance(table, dict) or table.get(name) != stored:
        raise ConfigError(f"{path}: cannot set {name} safely here; edit the file by hand")
    _write_atomically(path, new_text)


_TABLE_HEADER = re.compile(r"\s*\[")
_COCKPIT_HEADER = re.compile(r"\s*\[\s*cockpit\s*\]\s*(#.*)?$")


def _toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # A JSON string is a TOML basic string, except that TOML wants DEL escaped too.
    return json.dumps(str(value)).replace("\x7f", "\\u007f")


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
        fd, temp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(temp, mode)
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
    except OSError as error:
        raise ConfigError(f"{path}: cannot write: {error.strerror or error}") from None


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
            raise ConfigError(
                f"--set {item.split('=')[0]!r}: expected KEY=VALUE with a known key ({known})"
            )
        if KEYS_BY_NAME[name].secret:
            raise ConfigError(
                f"--set {name}: a secret is not taken on the command line (any "
                f"user can read it in the process list): use `cockpit auth "
                f"login` or {KEYS_BY_NAME[name].env}"
            )
        flags[name] = value
        names[name] = f"--set {name}"
    for name in ("data_dir", "runbooks"):  # their own flags win over --set
        if getattr(args, name, None) is not None:
            flags[name] = getattr(args, name)
            names.pop(name, None)
    config = getattr(args, "config", None)
    return load_settings(Path(config) if config else None, flags=flags, flag_names=names)


__all__ = [
    "KEYS",
    "Settings",
    "check_value",
    "email_problem",
    "load_settings",
    "mask",
    "save_setting",
    "settings_file",
    "settings_from_args",
]
