"""The plugin host: pluggy hook specifications, the manager that loads plugins, the built-ins.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names are hooks of
``hookspecs.py``. Third-party plugins are found through the entry-point group
``anthias_edge.plugins`` (``ENTRY_POINT_GROUP``); built-in behaviour is registered the same way
from ``builtin.DEFAULT_PLUGINS``. docs/plugins.md is the guide for plugin authors and operators.
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "anthias_edge"
ENTRY_POINT_GROUP = "anthias_edge.plugins"

# What a plugin marks its hook functions with: ``from anthias_edge.plugins import hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
