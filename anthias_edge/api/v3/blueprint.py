"""The v3 blueprint, on its own so that ``routing`` imports it and not the package that
imports the route modules (which would make an import circle)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("v3", __name__, url_prefix="/api/v3")
