"""API v3: multi-tenant JSON API with Bearer tokens, per-action permissions and cursor paging.

Each route module registers its views on ``bp`` through ``routing.route``, which
authenticates, resolves the tenant, checks the permission and validates input
before the view runs. ``openapi.py`` documents whatever is registered.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("v3", __name__, url_prefix="/api/v3")

# Imported last: these modules register their routes on ``bp``.
from anthias_edge.api.v3 import (  # noqa: E402,F401
    assets,
    audit,
    auth_routes,
    auth_session,
    legacy_proxy,
    openapi,
    roles,
    tenant,
    tokens,
    uploads,
    users,
)
