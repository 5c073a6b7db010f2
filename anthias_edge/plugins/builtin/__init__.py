"""The built-in plugins: core behaviour written as plugins, loaded before third-party ones.

``DEFAULT_PLUGINS`` lists their modules (datasette's ``DEFAULT_PLUGINS``); the manager
registers them exactly as it registers an entry point, named after the module's last part.
"""

from __future__ import annotations

DEFAULT_PLUGINS: tuple[str, ...] = (
    "anthias_edge.plugins.builtin.event_log",
    "anthias_edge.plugins.builtin.midtrans",
)
