"""API v3: multi-tenant JSON API with Bearer tokens, per-action permissions and cursor paging.

Each route module registers its views on ``bp`` through ``routing.route``, which
authenticates, resolves the tenant, checks the permission and validates input
before the view runs. ``openapi.py`` documents whatever is registered.
"""

from __future__ import annotations

# Importing these modules registers their routes on ``bp``, in this order.
from anthias_edge.api.v3 import (  # noqa: F401
    assets,
    audit,
    auth_routes,
    auth_session,
    billing,
    devices,
    fleet_enrolment,
    legacy_proxy,
    openapi,
    payments,
    qr_content,
    reports,
    roles,
    tenant,
    tokens,
    uploads,
    users,
)
from anthias_edge.api.v3.blueprint import bp  # noqa: F401  (registered by create_app)
