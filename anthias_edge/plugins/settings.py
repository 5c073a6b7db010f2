"""Each plugin's own settings: the declared schema, validation, storage and secrets.

A plugin declares its settings (``declare_settings`` hook) as ``PluginSetting`` rows. Values
come, last one winning, from the declared default, the ``plugin_settings`` table (one per
deployment: migration 0011) and the environment variable ``ANTHIAS_PLUGIN_<NAME>_<KEY>``
(upper case, ``-`` as ``_``), which suits secrets a container is given. A ``secret`` value is
stored encrypted with the deployment's key (``services/auth/crypto_box.py``) and is never
shown by ``anthias-edge plugins show``.
"""

from __future__ import annotations

import configparser
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from anthias_edge.errors import InvalidPluginSetting
from anthias_edge.timeutil import utcnow

SettingType = type[str] | type[int] | type[bool]
_BOOLEANS = configparser.ConfigParser.BOOLEAN_STATES
MASK = "********"


@dataclass(frozen=True)
class PluginSetting:
    """One setting a plugin reads: its key, type, default, help; ``secret`` is encrypted."""

    key: str
    type: SettingType = str
    default: str | int | bool | None = None
    help: str = ""
    # Required: the plugin is disabled while the value is missing or empty.
    required: bool = False
    secret: bool = False
    choices: tuple[str, ...] = ()
    # A further check of the converted value: returns what is wrong with it, or None.
    check: Callable[[Any], str | None] | None = None

    def convert(self, raw: str | int | bool) -> str | int | bool:
        """``raw`` (text from the table or environment) as this setting's type."""
        if self.type is bool:
            if isinstance(raw, bool):
                return raw
            value = _BOOLEANS.get(str(raw).strip().lower())
            if value is None:
                raise ValueError("use on/off, yes/no, true/false or 1/0")
            return value
        if self.type is int:
            if isinstance(raw, bool):
                raise ValueError("must be a whole number")
            try:
                return int(raw)
            except ValueError:
                raise ValueError("must be a whole number") from None
        text = str(raw)
        if self.choices and text not in self.choices:
            raise ValueError("must be one of " + ", ".join(self.choices))
        return text


def env_var(plugin: str, key: str) -> str:
    """The environment variable that overrides ``plugin``'s ``key``."""
    return f"ANTHIAS_PLUGIN_{plugin}_{key}".upper().replace("-", "_")


def schema_of(declared: Iterable[Any]) -> dict[str, PluginSetting]:
    """Index a plugin's declared settings by key; refuse what is not a unique PluginSetting."""
    schema: dict[str, PluginSetting] = {}
    for setting in declared or ():
        if not isinstance(setting, PluginSetting):
            raise TypeError(f"declare_settings returned {setting!r}, not a PluginSetting")
        if setting.key in schema:
            raise ValueError(f"setting {setting.key!r} is declared twice")
        schema[setting.key] = setting
    return schema


class PluginSettingsStore:
    """Reads and writes the ``plugin_settings`` table; decrypts and encrypts secret values.

    The model is imported in the methods: declaring settings (``PluginSetting``) must not load
    peewee, since ``anthias-edge --help`` looks for plugin commands.

    ``box`` is called for the crypto box only when a secret is read or written, so a device
    without secret settings never needs a key.
    """

    def __init__(self, box: Callable[[], Any], environ: Mapping[str, str]) -> None:
        """``box``: returns the deployment's ``CryptoBox``; ``environ``: for the overrides."""
        self._box = box
        self._environ = environ

    def stored(self, plugin: str) -> dict[str, str]:
        """The plugin's stored values as text, secrets decrypted."""
        from anthias_edge.models.plugin_setting import PluginSettingRow

        rows = PluginSettingRow.select().where(PluginSettingRow.plugin == plugin)
        return {row.key: self._box().decrypt(row.value) if row.secret else row.value
                for row in rows}

    def load(self, plugin: str, schema: Mapping[str, PluginSetting]) -> Mapping[str, Any]:
        """The plugin's validated settings (read-only); InvalidPluginSetting names each fault.

        A value stored for a key the plugin no longer declares is ignored (a newer version
        may have dropped it), never an error.
        """
        stored = self.stored(plugin) if schema else {}
        values: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for key, setting in schema.items():
            raw = self._environ.get(env_var(plugin, key), stored.get(key, setting.default))
            if raw is None or raw == "":
                if setting.required:
                    errors[key] = [f"is required (plugins set {plugin} {key} VALUE, or "
                                   f"{env_var(plugin, key)})"]
                values[key] = raw
                continue
            try:
                values[key] = _checked(setting, raw)
            except ValueError as exc:
                errors[key] = [str(exc)]
        if errors:
            raise InvalidPluginSetting(errors, _summary(plugin, errors))
        return MappingProxyType(values)

    def set(self, plugin: str, schema: Mapping[str, PluginSetting], key: str,
            value: str) -> None:
        """Validate and store one value (encrypted if the setting is secret)."""
        from anthias_edge.models.plugin_setting import PluginSettingRow

        setting = schema.get(key)
        if setting is None:
            raise InvalidPluginSetting({key: ["is not a setting of this plugin"]},
                                       f"Plugin {plugin} has no setting {key!r}.")
        try:
            _checked(setting, value)
        except ValueError as exc:
            raise InvalidPluginSetting({key: [str(exc)]},
                                       _summary(plugin, {key: [str(exc)]})) from exc
        stored = self._box().encrypt(value) if setting.secret else value
        (PluginSettingRow
         .insert(plugin=plugin, key=key, value=stored, secret=setting.secret,
                 updated_at=utcnow())
         .on_conflict(conflict_target=[PluginSettingRow.plugin, PluginSettingRow.key],
                      update={PluginSettingRow.value: stored,
                              PluginSettingRow.secret: setting.secret,
                              PluginSettingRow.updated_at: utcnow()})
         .execute())

    def unset(self, plugin: str, key: str) -> bool:
        """Remove a stored value (the default applies again); True if there was one."""
        from anthias_edge.models.plugin_setting import PluginSettingRow

        return bool(PluginSettingRow.delete().where(PluginSettingRow.plugin == plugin,
                                                    PluginSettingRow.key == key).execute())

    def shown(self, plugin: str, schema: Mapping[str, PluginSetting]) -> dict[str, Any]:
        """What an operator may see: each declared key's value, secrets masked."""
        from anthias_edge.models.plugin_setting import PluginSettingRow

        stored = {row.key: row for row in
                  PluginSettingRow.select().where(PluginSettingRow.plugin == plugin)}
        shown: dict[str, Any] = {}
        for key, setting in schema.items():
            present = key in stored or env_var(plugin, key) in self._environ
            if setting.secret:
                shown[key] = MASK if present else None
            elif env_var(plugin, key) in self._environ:
                shown[key] = self._environ[env_var(plugin, key)]
            else:
                shown[key] = stored[key].value if key in stored else setting.default
        return shown


def _checked(setting: PluginSetting, raw: str | int | bool) -> str | int | bool:
    value = setting.convert(raw)
    problem = setting.check(value) if setting.check is not None else None
    if problem:
        raise ValueError(problem)
    return value


def _summary(plugin: str, errors: Mapping[str, list[str]]) -> str:
    faults = "; ".join(f"{key} {' '.join(messages)}" for key, messages in errors.items())
    return f"Invalid settings of plugin {plugin}: {faults}"


def crypto_box_loader(settings: Any, *, cloud: bool) -> Callable[[], Any]:
    """A function returning the deployment's ``CryptoBox``, loaded on its first call only."""
    box: list[Any] = []

    def load() -> Any:
        if not box:
            from anthias_edge.services.auth.crypto_box import load_crypto_box

            box.append(load_crypto_box(settings.deployment, settings.home, cloud=cloud))
        return box[0]

    return load
