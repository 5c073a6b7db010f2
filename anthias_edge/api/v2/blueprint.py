"""The v2 blueprint, on its own so that route modules import it and not the package that
imports them (which would make an import circle)."""

from __future__ import annotations

from anthias_edge.api.legacy.blueprint import make_blueprint

bp = make_blueprint("v2", "/api/v2")
