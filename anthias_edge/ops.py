"""Operations endpoints: liveness, readiness and Prometheus metrics (filled by its helper)."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("ops", __name__)


def init_request_metrics(app: Flask) -> None:
    """Placeholder until the metrics module lands."""
