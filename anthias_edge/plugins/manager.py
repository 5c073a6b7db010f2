"""Finding, loading and checking plugins; what the running server keeps of them (``PluginHost``).

``load_plugins`` is called from ``create_app`` (and by the command line), never at import time.
Built-in plugins (``builtin.DEFAULT_PLUGINS``) load first, then the entry points of the group
``anthias_edge.plugins`` sorted by name, each the same way, one at a time:

1. skipped if the ``disabled_plugins`` setting names it, or, for a third-party one, in safe
   mode (``plugins_safe_mode`` setting, ``--safe``);
2. imported and registered, then ``check_pending()``: a hook function whose name is no hook
   is refused at once rather than silently never called;
3. its settings declared and validated (``settings.py``), then its contributions collected
   (payment providers, blueprints), each checked against those already taken.

A failure at any step disables that plugin alone: it is unregistered, logged with its name
and kept in ``records`` with the reason, and the server starts without it. pluggy's own
``load_setuptools_entrypoints`` is not used because its first failing plugin stops the rest.
Only a fault of the built-ins (ours) stops the start, as ``StartupError``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

from anthias_edge import __version__
from anthias_edge.errors import StartupError
from anthias_edge.plugins import ENTRY_POINT_GROUP, PROJECT_NAME, hookspecs
from anthias_edge.plugins.builtin import DEFAULT_PLUGINS
from anthias_edge.plugins.events import PluginEvents

if TYPE_CHECKING:
    import click
    from flask import Flask

    from anthias_edge.plugins.payment import PaymentProvider
    from anthias_edge.plugins.settings import PluginSettingsStore

logger = logging.getLogger(__name__)

BUILTIN = "builtin"
# A plugin's name is part of URLs (/plugins/<name>/) and environment variable names.
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
URL_PREFIX = "/plugins/"


@dataclass
class PluginRecord:
    """What ``anthias-edge plugins list`` shows of one plugin, loaded or not."""

    name: str
    version: str
    source: str  # "builtin", or "entry point <module> (<distribution>)"
    enabled: bool = False
    problem: str | None = None
    hooks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The record as plain JSON values."""
        return {"name": self.name, "version": self.version, "source": self.source,
                "enabled": self.enabled, "problem": self.problem, "hooks": self.hooks}


@dataclass(frozen=True)
class Candidate:
    """A plugin found but not yet imported: how to import it and what to call it."""

    name: str
    version: str
    source: str
    load: Callable[[], object]
    builtin: bool = False


@dataclass
class PluginHost:
    """The loaded plugins of one server: the pluggy manager, records and contributions."""

    manager: pluggy.PluginManager
    records: list[PluginRecord]
    payment_providers: dict[str, PaymentProvider] = field(default_factory=dict)
    # (plugin name, blueprint) to mount under /plugins/<plugin name>.
    blueprints: list[tuple[str, Any]] = field(default_factory=list)
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Build the event sink over the plugins that are now registered."""
        self.events = PluginEvents(self.manager)

    def record(self, name: str) -> PluginRecord | None:
        """The record of the plugin called ``name``, if it was found at all."""
        return next((r for r in self.records if r.name == name), None)

    def payment_provider(self, name: str) -> PaymentProvider:
        """The enabled provider called ``name``; KeyError if none is."""
        return self.payment_providers[name]

    def mount_blueprints(self, app: Flask) -> None:
        """Mount each plugin's blueprints at ``/plugins/<plugin name>``."""
        for plugin, blueprint in self.blueprints:
            own_prefix = (blueprint.url_prefix or "").rstrip("/")
            app.register_blueprint(blueprint, name=f"plugin.{plugin}.{blueprint.name}",
                                   url_prefix=f"{URL_PREFIX}{plugin}{own_prefix}")

    def add_commands(self, cli: click.Group, taken: Collection[str]) -> None:
        """Add each enabled plugin's commands to ``cli``; a clash of names keeps them out.

        ``taken``: the core's command names. A plugin offering a taken name is recorded with
        the reason and none of its commands are added.
        """
        import click

        names = set(taken)
        for plugin in self.enabled_plugins():
            caller = _only(self.manager, plugin, "register_commands")
            if not caller.get_hookimpls():
                continue
            name = self.manager.get_name(plugin)
            group = click.Group(name)
            try:
                caller(cli=group)
                clash = sorted(set(group.commands) & names)
                if clash:
                    raise ValueError(f"command {', '.join(clash)} is already taken")
            except Exception as exc:
                _refuse(self.record(name), f"register_commands failed: {_describe(exc)}")
                continue
            for command in group.commands.values():
                cli.add_command(command)
            names.update(group.commands)

    def enabled_plugins(self) -> list[object]:
        """The registered plugin objects, in load order."""
        return [self.manager.get_plugin(r.name) for r in self.records if r.enabled]


def parse_names(value: str) -> list[str]:
    """The plugin names of the comma-separated ``disabled_plugins`` setting."""
    return [name.strip() for name in value.split(",") if name.strip()]


def get_plugin_manager() -> pluggy.PluginManager:
    """A fresh pluggy manager that knows the hook specifications and holds no plugin."""
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    return manager


def builtin_candidates(modules: Sequence[str] = DEFAULT_PLUGINS) -> list[Candidate]:
    """The built-in plugins: named after their module's last part, at the core's version."""
    return [Candidate(name=module.rsplit(".", 1)[-1], version=__version__, source=BUILTIN,
                      load=lambda module=module: importlib.import_module(module), builtin=True)
            for module in modules]


def entry_point_candidates() -> list[Candidate]:
    """The third-party plugins installed in this environment, sorted by name."""
    found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    candidates = []
    for entry in sorted(found, key=lambda e: (e.name, e.value)):
        dist = entry.dist
        candidates.append(Candidate(
            name=entry.name, version=dist.version if dist is not None else "unknown",
            source=f"entry point {entry.value} ({dist.name if dist is not None else '?'})",
            load=entry.load))
    return candidates


def load_plugins(
    store: PluginSettingsStore | None,
    *,
    safe: bool = False,
    disabled: Collection[str] = (),
    builtins: Iterable[Candidate] | None = None,
    third_party: Iterable[Candidate] | None = None,
) -> PluginHost:
    """Load every plugin as the module docstring says and return what loaded.

    ``store``: where each plugin's settings are read; None only lists and registers plugins
    (the command line finding plugin commands), without reading settings or collecting
    providers and blueprints. ``builtins``/``third_party`` default to ``DEFAULT_PLUGINS`` and
    the installed entry points.
    """
    manager = get_plugin_manager()
    host = PluginHost(manager, [])
    builtins = builtin_candidates() if builtins is None else list(builtins)
    if third_party is None:  # found even in safe mode (not imported), to be listed with why
        third_party = entry_point_candidates()
    for candidate in [*builtins, *third_party]:
        _load_one(host, candidate, store, safe=safe, disabled=set(disabled))
    manager.check_pending()  # every plugin left registered passed it alone
    host.events = PluginEvents(manager)
    return host


def _load_one(host: PluginHost, candidate: Candidate, store: PluginSettingsStore | None, *,
              safe: bool, disabled: Collection[str]) -> None:
    record = PluginRecord(candidate.name, candidate.version, candidate.source)
    earlier = host.record(candidate.name)
    host.records.append(record)
    fault = _name_fault(candidate, earlier)
    if fault is not None:  # a packaging mistake: as loud as a plugin that fails
        _refuse(record, fault, builtin=candidate.builtin)
        return
    choice = _switched_off(candidate, safe=safe, disabled=disabled)
    if choice is not None:  # the operator's choice: said, not alarmed about
        record.problem = choice
        logger.info("plugin %s not loaded: %s", candidate.name, choice)
        return
    manager = host.manager
    plugin = None
    try:
        plugin = candidate.load()
        manager.register(plugin, name=candidate.name)
        manager.check_pending()
        _collect(host, plugin, candidate.name, store)
    except Exception as exc:
        if plugin is not None and manager.is_registered(plugin):
            manager.unregister(plugin)
        stage = "import failed" if plugin is None else "refused"
        _refuse(record, f"{stage}: {_describe(exc)}", builtin=candidate.builtin, exc=exc)
        return
    record.enabled = True
    record.hooks = sorted(caller.name for caller in manager.get_hookcallers(plugin) or ())
    logger.info("plugin %s %s loaded (%s)", record.name, record.version, record.source)


def _name_fault(candidate: Candidate, earlier: PluginRecord | None) -> str | None:
    if not NAME.match(candidate.name):
        return ("its name is not lower-case letters, digits, '-' and '_' "
                "(it is used in URLs and variable names)")
    if earlier is not None:
        return f"the name is already taken by {earlier.source}"
    return None


def _switched_off(candidate: Candidate, *, safe: bool, disabled: Collection[str]) -> str | None:
    if candidate.name in disabled:
        return "disabled by the disabled_plugins setting"
    if safe and not candidate.builtin:
        return "safe mode: third-party plugins are not loaded"
    return None


def _collect(host: PluginHost, plugin: object, name: str,
             store: PluginSettingsStore | None) -> None:
    """Validate the plugin's settings and take its contributions, or raise and take none."""
    from anthias_edge.plugins.settings import schema_of

    manager = host.manager
    schema = schema_of(_flatten(_only(manager, plugin, "declare_settings")()))
    host.schemas[name] = schema
    if store is None:
        return
    settings = store.load(name, schema)
    providers = list(_flatten(_only(manager, plugin, "register_payment_providers")(
        settings=settings)))
    blueprints = list(_flatten(_only(manager, plugin, "register_blueprints")(
        settings=settings)))
    new_providers = _check_providers(providers, host.payment_providers)
    _check_blueprints(blueprints)
    host.payment_providers.update(new_providers)
    host.blueprints.extend((name, blueprint) for blueprint in blueprints)


def _check_providers(providers: list[Any], taken: dict[str, Any]) -> dict[str, Any]:
    from anthias_edge.plugins.payment import PaymentProvider

    new: dict[str, Any] = {}
    for provider in providers:
        if not isinstance(provider, PaymentProvider) or not isinstance(
                getattr(provider, "name", None), str):
            raise TypeError(f"{provider!r} is not a PaymentProvider (payment.py)")
        if provider.name in taken or provider.name in new:
            raise ValueError(f"payment provider {provider.name!r} is already registered")
        new[provider.name] = provider
    return new


def _check_blueprints(blueprints: list[Any]) -> None:
    from flask import Blueprint

    names = set()
    for blueprint in blueprints:
        if not isinstance(blueprint, Blueprint):
            raise TypeError(f"{blueprint!r} is not a flask.Blueprint")
        if blueprint.name in names:
            raise ValueError(f"blueprint {blueprint.name!r} is registered twice")
        names.add(blueprint.name)


def _only(manager: pluggy.PluginManager, plugin: object, hook: str) -> Any:
    """A caller of ``hook`` that reaches ``plugin`` alone."""
    others = [p for p in manager.get_plugins() if p is not plugin]
    return manager.subset_hook_caller(hook, remove_plugins=others)


def _flatten(results: list[Any]) -> Iterable[Any]:
    """One plugin's answer (pluggy gives a list of answers, here of one or none)."""
    for result in results:
        if isinstance(result, (str, bytes)) or not isinstance(result, Iterable):
            raise TypeError(f"the hook returned {result!r}, not a list")
        yield from result


def _refuse(record: PluginRecord | None, problem: str, *, builtin: bool = False,
            exc: BaseException | None = None) -> None:
    """Disable the plugin with the reason, loudly.

    A built-in that fails is our bug and stops the start; a built-in whose settings the
    operator got wrong (a sandbox key in production, say) is only disabled, like any plugin:
    the server and its screens keep running while the log and ``plugins list`` say why.
    """
    if record is None:
        return
    record.enabled = False
    record.problem = problem
    if builtin and not _operator_fault(exc):
        raise StartupError(f"Built-in plugin {record.name} failed: {problem}") from exc
    logger.error("plugin %s disabled: %s", record.name, problem,
                 exc_info=exc if exc is not None and not _expected(exc) else None)


def _operator_fault(exc: BaseException | None) -> bool:
    from anthias_edge.errors import InvalidPluginSetting

    return isinstance(exc, InvalidPluginSetting)


def _expected(exc: BaseException) -> bool:
    # Faults the message already explains need no traceback in the log.
    from anthias_edge.errors import InvalidPluginSetting

    return isinstance(exc, (InvalidPluginSetting, ImportError, pluggy.PluginValidationError))


def _describe(exc: BaseException) -> str:
    from anthias_edge.errors import AnthiasError

    if isinstance(exc, AnthiasError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"
