"""The device's side of cloud sync, without HTTP: the outbox every local write path fills, the
link record, the limits pulled from the cloud, and applying pulled state (issue 15).

The agent (``cloud_sync/agent``) moves these over the wire; nothing here imports Flask.
"""
