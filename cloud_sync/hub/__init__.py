"""The sync hub: the cloud's end of the device sync wire (``/api/v3/sync/...``).

A Flask blueprint mounted in cloud mode only (``init_hub``), plus a WSGI fast path for the
busiest request, a conditional pull that has not changed (``fast_path.py``). The services it
calls (push, state, media, auth) import no Flask. docs/sync-protocol.md describes the wire.
"""

from __future__ import annotations

from typing import Any

from anthias_edge.runtime import Runtime


def init_hub(app: Any, runtime: Runtime) -> None:
    """Mount the hub on a cloud app and put its fast path in front of the app."""
    from cloud_sync.hub.fast_path import StateFastPath
    from cloud_sync.hub.hub import EXTENSION_KEY, make_hub
    from cloud_sync.hub.routes import bp

    hub = make_hub(runtime)
    app.extensions[EXTENSION_KEY] = hub
    app.register_blueprint(bp)
    app.wsgi_app = StateFastPath(app.wsgi_app, hub)
