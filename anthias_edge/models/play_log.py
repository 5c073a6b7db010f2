"""Proof of play: one row per asset the player showed (or had to skip)."""

from __future__ import annotations

import datetime as dt

from peewee import AutoField, TextField

from anthias_edge.models.base import BaseModel, UtcDateTimeField

# What ended a play: the whole duration (or a video's natural end), a command or data change,
# a renderer failure, an unreachable URL (never shown), or nothing yet.
OUTCOMES = ("completed", "interrupted", "failed", "skipped", "playing")


class PlayLog(BaseModel):
    """One play of one asset, kept ``play_log_retention_days`` days."""

    id = AutoField()
    asset_id = TextField()
    asset_name = TextField(null=True)
    started_at = UtcDateTimeField(index=True)
    ended_at = UtcDateTimeField(null=True)
    renderer = TextField()
    outcome = TextField(default="playing")

    class Meta:
        table_name = "play_log"

    @classmethod
    def since(cls, moment: dt.datetime | None):
        """Plays that started at or after ``moment`` (all when None), oldest first."""
        query = cls.select()
        if moment is not None:
            query = query.where(cls.started_at >= moment)
        return query.order_by(cls.started_at, cls.id)
