"""Device settings: the declarative table and the ``screenly.conf`` reader and writer.

The file is Anthias's own ``$HOME/.screenly/screenly.conf`` (docs/legacy-api.md §5), so a
device can switch between Anthias and Anthias Edge and keep its settings. Values load in a fixed
order: table defaults, then the file, then ``ANTHIAS_<KEY>`` environment variables. No Flask and no
module-level state here; pass a ``Settings`` object explicitly.
"""

from __future__ import annotations

import configparser
import hashlib
import hmac
import io
import logging
import os
import string
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urlsplit

from anthias_edge.errors import HostLevelSetting, InvalidSetting

logger = logging.getLogger(__name__)

# Setting type of a path: relative to HOME in the file unless absolute, absolute in memory.
PATH: Literal["path"] = "path"

EDGE_SECTION = "edge"
# The auth_backend value that turns the device's login on; "" means no login.
AUTH_BASIC = "auth_basic"
_BOOLEANS = configparser.ConfigParser.BOOLEAN_STATES
_BOOLEAN_HINT = "use on/off, yes/no, true/false or 1/0"


def absolute_http_url_problem(value: str) -> str | None:
    """What keeps ``value`` from being an absolute http(s) URL to put in a code; None if fine.

    Empty is allowed (the setting is off). No query or fragment: ``/q/<code>`` is appended.
    """
    if value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http:// or https:// URL, such as https://signs.example.com"
    if parts.query or parts.fragment or any(c.isspace() for c in value):
        return "must not hold spaces, a query (?) or a fragment (#)"
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        return "has a port that is not a number from 0 to 65535"
    return None


@dataclass(frozen=True)
class Setting:
    """One row of the settings table: where it lives, its type, default and help."""

    section: str
    key: str
    type: type[bool] | type[int] | type[str] | Literal["path"]
    default: bool | int | str
    help: str
    choices: tuple[str, ...] = ()
    # Host-level: names a program, a file, a folder or a socket, or picks the deployment. Only the
    # machine's administrator sets these (screenly.conf on the device, or the environment): never
    # an archive, an import or any API, since whoever controls them runs code on the device.
    host: bool = False
    # Bounds of an int setting that the API and web UI may change.
    minimum: int | None = None
    maximum: int | None = None
    # A further check of a text value: returns what is wrong with it, or None.
    check: Callable[[str], str | None] | None = None

    @property
    def env_var(self) -> str:
        """Name of the environment variable that overrides this setting."""
        return "ANTHIAS_" + self.key.upper()


SETTINGS: tuple[Setting, ...] = (
    # Anthias's keys, in its sections and save order (docs/legacy-api.md §5.1).
    Setting("main", "analytics_opt_out", bool, False,
            "Turn on to stop sending anonymous analytics with update checks."),
    Setting("main", "assetdir", PATH, "screenly_assets",
            "Folder for uploaded assets, relative to HOME unless absolute.", host=True),
    Setting("main", "database", PATH, ".screenly/screenly.db",
            "SQLite database file, relative to HOME unless absolute.", host=True),
    Setting("main", "date_format", str, "mm/dd/yyyy",
            "How the web UI shows dates, for example dd/mm/yyyy or yyyy-mm-dd."),
    Setting("main", "use_24_hour_clock", bool, False,
            "Show times in the web UI on a 24-hour clock."),
    Setting("main", "use_ssl", bool, False,
            "Turn on when the web UI is served over HTTPS, so it uses secure websockets."),
    Setting("main", "auth_backend", str, "",
            "Set to auth_basic to require a user name and password; empty means no login."),
    Setting("main", "websocket_port", str, "9999",
            "Port of the websocket relay that pushes live updates to the web UI."),
    Setting("main", "django_secret_key", str, "",
            "Secret used to sign sessions and forms; keep it private."),
    Setting("viewer", "audio_output", str, "hdmi",
            "Where sound goes: hdmi, or local for the 3.5 mm jack."),
    Setting("viewer", "debug_logging", bool, False,
            "Write detailed player logs for troubleshooting."),
    Setting("viewer", "default_duration", int, 10,
            "Seconds a new image or web page is shown when no duration is given.",
            minimum=0, maximum=2**31 - 1),
    # Anthias keeps this one a string in memory (docs/legacy-api.md §5.1, observed).
    Setting("viewer", "default_streaming_duration", str, "300",
            "Seconds a new stream is shown when no duration is given."),
    Setting("viewer", "player_name", str, "",
            "Name of this screen, shown in page titles, the login prompt and backup names."),
    Setting("viewer", "resolution", str, "1920x1080",
            "Screen resolution as WIDTHxHEIGHT (kept for Anthias compatibility)."),
    Setting("viewer", "show_splash", bool, True,
            "Show the splash page with the device address when the player starts."),
    Setting("viewer", "shuffle_playlist", bool, False,
            "Play the active assets in random order instead of the playlist order."),
    Setting("viewer", "verify_ssl", bool, True,
            "Only show web pages whose HTTPS certificate is valid."),
    Setting("viewer", "default_assets", bool, False,
            "Add the built-in example assets to the playlist."),
    Setting("auth_basic", "user", str, "",
            "User name for the web UI and API when auth_backend is auth_basic."),
    Setting("auth_basic", "password", str, "",
            "SHA-256 hash of the password; a plain password put here is hashed on load."),
    # Anthias Edge only: written to the file only when they differ from the default.
    Setting(EDGE_SECTION, "listen", str, "127.0.0.1:8080",
            "Address and port the web server listens on.", host=True),
    Setting(EDGE_SECTION, "zmq_publisher", str, "tcp://127.0.0.1:10001",
            "ZeroMQ address where the server publishes commands to the player.", host=True),
    Setting(EDGE_SECTION, "zmq_collector", str, "tcp://127.0.0.1:5558",
            "ZeroMQ address where the server collects replies from the player.", host=True),
    Setting(EDGE_SECTION, "reboot_command", str, "systemctl reboot",
            "Command run to restart the device when a reboot is requested.", host=True),
    Setting(EDGE_SECTION, "shutdown_command", str, "systemctl poweroff",
            "Command run to power the device off when a shutdown is requested.", host=True),
    Setting(EDGE_SECTION, "log_format", str, "text",
            "Log output format: text for people, json for log collectors.",
            choices=("text", "json")),
    Setting(EDGE_SECTION, "mode", str, "device",
            "device for a single screen with SQLite, cloud for the multi-tenant server.",
            choices=("device", "cloud"), host=True),
    Setting(EDGE_SECTION, "play_log_retention_days", int, 30,
            "Days to keep the record of what was played."),
    Setting(EDGE_SECTION, "reachability_interval_minutes", int, 15,
            "Minutes between checks that web page and stream assets are reachable."),
    Setting(EDGE_SECTION, "cleanup_interval_minutes", int, 60,
            "Minutes between clean-ups of leftover temporary and orphaned files."),
    Setting(EDGE_SECTION, "trusted_proxies", str, "",
            "Comma-separated addresses or networks of your reverse proxies; only their "
            "X-Forwarded-For and X-Forwarded-Proto are believed. Empty trusts none.", host=True),
    Setting(EDGE_SECTION, "qr_rate_limit", int, 120,
            "Shared-content pages (/q/...) one address may open per minute; 0 turns the limit "
            "off. In cloud mode each server worker allows its share of it.",
            minimum=0, maximum=100000),
    Setting(EDGE_SECTION, "public_url", str, "",
            "Address phones reach this screen's shared content at (https://signs.example.com); "
            "the QR codes point to <public_url>/q/<code>. Empty: the device's own LAN address.",
            check=absolute_http_url_problem),
    Setting(EDGE_SECTION, "disabled_plugins", str, "",
            "Comma-separated names of plugins not to load (anthias-edge plugins list shows "
            "the names).", host=True),
    Setting(EDGE_SECTION, "plugins_safe_mode", bool, False,
            "Load only the built-in plugins, none installed from other packages.", host=True),
    # Issue 15 (cloud_sync/agent): where a fleet-token enrolment links this device, and how often.
    Setting(EDGE_SECTION, "cloud_url", str, "",
            "Address of the cloud this device links to with a fleet token "
            "(https://cloud.example.com); empty: only a link command names it.",
            host=True, check=absolute_http_url_problem),
    Setting(EDGE_SECTION, "fleet_token_path", PATH, "/boot/firmware/anthias-fleet.token",
            "File holding a fleet enrolment token, read when the sync agent starts unlinked "
            "and deleted once used.", host=True),
    Setting(EDGE_SECTION, "zmq_relay", str, "tcp://127.0.0.1:5559",
            "ZeroMQ address where the server passes the sync agent's commands on to the "
            "player.", host=True),
    Setting(EDGE_SECTION, "sync_interval", int, 30,
            "Seconds between the sync agent's pulls from the cloud (5 to 3600).",
            minimum=5, maximum=3600),
)


@dataclass(frozen=True)
class DeploymentVariable:
    """An environment variable that configures the deployment, read with the settings.

    Unlike a setting it has no key in ``screenly.conf``: it names where the data lives or holds
    a secret, so it is never written to the file, put in a backup or shown by any API.
    """

    name: str
    help: str


DEPLOYMENT_VARIABLES: tuple[DeploymentVariable, ...] = (
    DeploymentVariable("DATABASE_URL",
                       "postgresql:// URL of the database (cloud mode); when unset, the SQLite "
                       "file of the database setting."),
    DeploymentVariable("ANTHIAS_BASE_DOMAIN",
                       "The cloud's base domain: <subdomain>.<base domain> serves that tenant."),
    DeploymentVariable("ANTHIAS_SECRET_KEY_FILE",
                       "File holding the key that encrypts stored secrets (wins over "
                       "ANTHIAS_SECRET_KEY)."),
    DeploymentVariable("ANTHIAS_SECRET_KEY",
                       "The key that encrypts stored secrets; one of the two is required in "
                       "cloud mode."),
)


def _index(settings: tuple[Setting, ...]) -> Mapping[str, Setting]:
    """Index the table by key, refusing duplicate keys or defaults of the wrong type."""
    by_key: dict[str, Setting] = {}
    for setting in settings:
        if setting.key in by_key:
            raise RuntimeError(f"Duplicate setting key {setting.key!r}")
        expected = str if setting.type == PATH else setting.type
        if type(setting.default) is not expected:
            raise RuntimeError(f"Default of {setting.key!r} is not of type {expected.__name__}")
        by_key[setting.key] = setting
    return MappingProxyType(by_key)


_BY_KEY = _index(SETTINGS)
HOST_LEVEL: frozenset[str] = frozenset(setting.key for setting in SETTINGS if setting.host)


def hash_password(password: str) -> str:
    """Return the password hash Anthias stores: SHA-256 of the UTF-8 bytes, lowercase hex."""
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


def is_password_hash(value: str) -> bool:
    """Tell whether a stored ``password`` value is a hash (64 hex digits) rather than plain text."""
    return len(value) == 64 and all(char in string.hexdigits for char in value)


def auth_enabled(settings: Mapping[str, Any]) -> bool:
    """Tell whether requests must authenticate: only when ``auth_backend`` is ``auth_basic``."""
    return settings["auth_backend"] == AUTH_BASIC


def _hash_if_plain(password: str) -> str:
    # A non-empty password that is not a hash is plain text; Anthias crashed on it
    # (docs/legacy-api.md Q5), we hash it.
    return hash_password(password) if password and not is_password_hash(password) else password


def _absolute(home: Path, value: str | os.PathLike[str]) -> str:
    # Anthias joins relative paths onto HOME and keeps absolute ones (docs/legacy-api.md §5.1).
    return str(home / value)


def _parse(setting: Setting, raw: str, where: str, home: Path) -> bool | int | str:
    """Parse a raw text value from the file or environment; ``where`` names its origin."""
    if setting.type is bool:
        try:
            return _BOOLEANS[raw.strip().lower()]
        except KeyError:
            raise InvalidSetting(f"{where}: {raw!r} is not a boolean ({_BOOLEAN_HINT}).") from None
    if setting.type is int:
        try:
            return int(raw)
        except ValueError:
            raise InvalidSetting(f"{where}: {raw!r} is not a whole number.") from None
    return _checked(setting, raw, where, home)


def _checked(setting: Setting, value: Any, where: str, home: Path) -> bool | int | str:
    """Make a path absolute and check a value against the setting's choices, if any."""
    if setting.type == PATH:
        return _absolute(home, value)
    if setting.choices and value not in setting.choices:
        raise InvalidSetting(f"{where}: {value!r} is not one of {', '.join(setting.choices)}.")
    if setting.check is not None and isinstance(value, str):
        problem = setting.check(value)
        if problem is not None:
            raise InvalidSetting(f"{where}: {value!r} {problem}.")
    return value


def _coerce(setting: Setting, value: Any, home: Path) -> bool | int | str:
    """Check a value given in Python (``update``) against the setting's type."""
    accepted = (str, os.PathLike) if setting.type == PATH else setting.type
    # bool is a subclass of int, so True must not pass as a number.
    if not isinstance(value, accepted) or (setting.type is int and isinstance(value, bool)):
        expected = "path" if setting.type == PATH else setting.type.__name__
        raise InvalidSetting(
            f"Setting {setting.key} must be of type {expected}, not {type(value).__name__}."
        )
    if isinstance(value, str) and not storable_text(value):
        raise InvalidSetting(f"Setting {setting.key} holds a NUL or a lone surrogate character.")
    if setting.type is int and not (
            (setting.minimum is None or value >= setting.minimum)
            and (setting.maximum is None or value <= setting.maximum)):
        raise InvalidSetting(
            f"Setting {setting.key} must be between {setting.minimum} and {setting.maximum}.")
    return _checked(setting, value, f"Setting {setting.key}", home)


def storable_text(text: str) -> bool:
    """Whether ``text`` can be written to ``screenly.conf`` and read back: no NUL, valid UTF-8."""
    return "\x00" not in text and printable_text(text) == text


def printable_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, so that UTF-8 can encode it.

    ``os.environ`` turns undecodable bytes into lone surrogates (surrogateescape).
    """
    if text.isascii():
        return text
    return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)


def _format(value: bool | int | str) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _defaults(home: Path) -> dict[str, Any]:
    return {s.key: _absolute(home, s.default) if s.type == PATH else s.default for s in SETTINGS}


def _read_environment(environ: Mapping[str, str], home: Path) -> dict[str, Any]:
    """Parse every ``ANTHIAS_<KEY>`` variable present, with the file's parsing rules."""
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.env_var in environ:
            where = f"environment variable {setting.env_var}"
            raw = environ[setting.env_var]
            if setting.type is str:  # a path may hold any bytes; text goes into pages and files
                raw = printable_text(raw)
            values[setting.key] = _parse(setting, raw, where, home)
    if "password" in values:
        values["password"] = _hash_if_plain(values["password"])
    return values


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so readers see either the old or the new file, never half."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    # Make the rename itself durable across a power cut.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class Settings(Mapping[str, Any]):
    """The settings of one device: ``settings["player_name"]``, ``update()``, ``save()``.

    Create it with ``Settings.load(home)``. Environment overrides win over the file and are never
    written back. Keys are unique across sections, so a key alone names a setting.
    """

    def __init__(self, home: Path, env_values: Mapping[str, Any] | None = None,
                 deployment: Mapping[str, str] | None = None) -> None:
        """Hold table defaults for ``home``; ``load()`` is the usual way in."""
        self._home = Path(home)
        self._env_values: dict[str, Any] = dict(env_values or {})
        self._deployment: Mapping[str, str] = MappingProxyType(dict(deployment or {}))
        self._file_values: dict[str, Any] = _defaults(self._home)

    @classmethod
    def load(cls, home: Path, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``home/.screenly/screenly.conf`` (written with defaults if missing), then the env.

        :param environ: variables to read ``ANTHIAS_<KEY>`` overrides and the
            ``DEPLOYMENT_VARIABLES`` from; ``os.environ`` if None.
        """
        home = Path(home)
        environ = os.environ if environ is None else environ
        deployment = {variable.name: environ[variable.name] for variable in DEPLOYMENT_VARIABLES
                      if variable.name in environ}
        settings = cls(home, _read_environment(environ, home), deployment)
        settings.reload()
        return settings

    def reload(self) -> None:
        """Re-read the file, keeping the environment overrides read at load time."""
        if not self.conf_path.exists():
            logger.info("No settings file at %s; writing the defaults", self.conf_path)
            self._file_values = _defaults(self._home)
            self.save()
            return
        self._file_values = self._read_file()
        password = self._file_values["password"]
        if password != _hash_if_plain(password):
            # Rewrite at once so the plain password does not stay on disk.
            self._file_values["password"] = _hash_if_plain(password)
            logger.warning("%s held a plain-text password; stored its hash", self.conf_path)
            self.save()

    def _read_file(self) -> dict[str, Any]:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            with self.conf_path.open(encoding="utf-8") as handle:
                parser.read_file(handle)
        except (configparser.Error, UnicodeDecodeError) as exc:
            raise InvalidSetting(f"{self.conf_path} could not be read: {exc}") from exc
        values = _defaults(self._home)
        for setting in SETTINGS:
            if parser.has_option(setting.section, setting.key):
                where = f"{self.conf_path}: [{setting.section}] {setting.key}"
                raw = parser.get(setting.section, setting.key)
                values[setting.key] = _parse(setting, raw, where, self._home)
        return values

    def save(self) -> None:
        """Write the whole file atomically in Anthias's format (env overrides are not written)."""
        parser = configparser.ConfigParser(interpolation=None)
        for setting in SETTINGS:
            value = self._file_values[setting.key]
            # Keep a default install's file byte for byte what Anthias writes.
            if setting.section == EDGE_SECTION and value == setting.default:
                continue
            if not parser.has_section(setting.section):
                parser.add_section(setting.section)
            parser.set(setting.section, setting.key, _format(value))
        buffer = io.StringIO()
        parser.write(buffer)
        self.config_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.conf_path, buffer.getvalue())

    def update(self, values: Mapping[str, Any], *, host_level: bool = False) -> None:
        """Set only the given keys in memory, after checking every type; call ``save()`` to keep.

        A ``password`` that is not a 64-hex-digit hash is taken as plain text and hashed.

        :param host_level: allow host-level settings (``HOST_LEVEL``); only code acting for the
            machine's administrator passes it, never a request handler or a restore.
        """
        staged = {}
        for key, value in values.items():
            setting = _BY_KEY.get(key)
            if setting is None:
                raise InvalidSetting(f"Unknown setting {key!r}.")
            if setting.host and not host_level:
                raise HostLevelSetting(
                    f"{key} is a host-level setting: set it in {self.conf_path} or "
                    f"{setting.env_var} on the device."
                )
            staged[key] = _coerce(setting, value, self._home)
        if "password" in staged:
            staged["password"] = _hash_if_plain(staged["password"])
        shadowed = sorted(staged.keys() & self._env_values.keys())
        if shadowed:
            logger.warning("Environment overrides still win for: %s", ", ".join(shadowed))
        self._file_values.update(staged)

    def password_matches(self, password: str) -> bool:
        """Tell whether ``password`` hashes to the stored one (never true when none is stored)."""
        stored = self["password"]
        if not stored:
            return False
        return hmac.compare_digest(hash_password(password).encode(), stored.lower().encode())

    def set_password(self, password: str) -> None:
        """Store the hash of ``password`` in memory; an empty password clears it."""
        self.update({"password": hash_password(password) if password else ""})

    def as_dict(self) -> dict[str, Any]:
        """Return every effective value, keyed by setting key, in table order."""
        return {setting.key: self[setting.key] for setting in SETTINGS}

    def __getitem__(self, key: str) -> Any:
        if key not in _BY_KEY:
            raise KeyError(key)
        if key in self._env_values:
            return self._env_values[key]
        return self._file_values[key]

    def __iter__(self) -> Iterator[str]:
        return (setting.key for setting in SETTINGS)

    def __len__(self) -> int:
        return len(SETTINGS)

    def __repr__(self) -> str:
        return f"<Settings {self.conf_path}>"

    @property
    def env_overrides(self) -> frozenset[str]:
        """Keys whose value comes from an ``ANTHIAS_<KEY>`` environment variable."""
        return frozenset(self._env_values)

    @property
    def deployment(self) -> Mapping[str, str]:
        """The ``DEPLOYMENT_VARIABLES`` that were set at load time, by variable name."""
        return self._deployment

    @property
    def database_url(self) -> str:
        """``DATABASE_URL`` as given ("" when unset: the SQLite file ``database_path``)."""
        return self._deployment.get("DATABASE_URL", "")

    @property
    def base_domain(self) -> str:
        """``ANTHIAS_BASE_DOMAIN``, lower-case, without dots at either end ("" when unset)."""
        return self._deployment.get("ANTHIAS_BASE_DOMAIN", "").strip().lower().strip(".")

    @property
    def home(self) -> Path:
        """The HOME folder everything else is relative to."""
        return self._home

    @property
    def config_dir(self) -> Path:
        """``HOME/.screenly``: settings, database and default assets."""
        return self._home / ".screenly"

    @property
    def conf_path(self) -> Path:
        """``HOME/.screenly/screenly.conf``."""
        return self.config_dir / "screenly.conf"

    @property
    def asset_dir(self) -> Path:
        """Absolute folder for uploaded assets (see ``_within_home``)."""
        return self._within_home(Path(self["assetdir"]), "screenly_assets")

    @property
    def database_path(self) -> Path:
        """Absolute path of the SQLite database (see ``_within_home``)."""
        return self._within_home(Path(self["database"]), ".screenly/screenly.db")

    def _within_home(self, configured: Path, default: str) -> Path:
        """A path another device wrote (``/data/...`` from a container) falls back to HOME.

        Anthias saves absolute paths, so a HOME copied or restored from another
        device names folders that do not exist here (docs/legacy-api.md §3.19).
        """
        fallback = self._home / default
        if configured.is_relative_to(self._home) or configured.exists() or not fallback.exists():
            return configured
        return fallback

    @property
    def static_dir(self) -> Path:
        """``HOME/screenly/staticfiles``: where backups are written."""
        return self._home / "screenly" / "staticfiles"

    @property
    def default_assets_path(self) -> Path:
        """``HOME/.screenly/default_assets.yml``."""
        return self.config_dir / "default_assets.yml"
