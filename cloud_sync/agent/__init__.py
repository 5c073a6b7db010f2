"""The device's sync agent (issue 15): linking, the push/pull loop, media uploads, status.

It runs as its own process (``anthias-edge sync``) and never imports Flask; the dashboard's
Cloud page calls the linking functions and ``status`` from the server. Plain words for every
outcome: what the Cloud page and ``anthias-edge sync status`` show is written here.
"""

from cloud_sync.agent.errors import AlreadyLinked, CloudRefused, CloudUnreachable
from cloud_sync.agent.linking import (
    DeviceCodePoll,
    DeviceCodeTicket,
    UnlinkResult,
    link_with_code,
    link_with_fleet_token,
    poll_device_code,
    start_device_code,
    unlink,
)
from cloud_sync.agent.loop import run, sync_once
from cloud_sync.agent.status import status

__all__ = [
    "AlreadyLinked", "CloudRefused", "CloudUnreachable", "DeviceCodePoll", "DeviceCodeTicket",
    "UnlinkResult", "link_with_code", "link_with_fleet_token", "poll_device_code",
    "run", "start_device_code", "status", "sync_once", "unlink",
]
