"""One stored setting of one plugin (migration 0011): per deployment, never per tenant.

Values are text as the operator gave them; a secret one holds Fernet ciphertext
(``services/auth/crypto_box.py``). ``plugins/settings.py`` reads and writes them.
"""

from __future__ import annotations

from peewee import BooleanField, CompositeKey, TextField

from anthias_edge.models.base import BaseModel, UtcDateTimeField
from anthias_edge.timeutil import utcnow


class PluginSettingRow(BaseModel):
    """``plugin``'s value for ``key``; ``secret``: ``value`` is encrypted."""

    plugin = TextField()
    key = TextField()
    value = TextField()
    secret = BooleanField(default=False)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "plugin_settings"
        primary_key = CompositeKey("plugin", "key")
