"""Peewee models, one module per aggregate. Query helpers are model methods."""

from anthias_edge.models.asset import Asset
from anthias_edge.models.base import BaseModel

__all__ = ["Asset", "BaseModel"]
