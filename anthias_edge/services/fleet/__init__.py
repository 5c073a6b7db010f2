"""The fleet (issue 15): devices linked to a tenant, how they link, what they report.

- ``linking``: the hub's entry points (``enroll_with_code``, ``enroll_with_fleet_token``,
  ``start_device_code``, ``poll_device_code``) and the admin's ``claim_device_code``.
- ``enrolment``: pairing codes and fleet tokens an admin makes (``EnrolmentService``).
- ``devices``: the fleet view, rename, revoke, commands, inventory, plays (``FleetService``).
- ``reports``: proof of play per day, device and asset, as JSON rows or CSV.
- ``errors``: one exception per refusal, with its v3 status and code.
"""

from anthias_edge.services.fleet.devices import FleetService, device_status
from anthias_edge.services.fleet.enrolment import EnrolmentService
from anthias_edge.services.fleet.linking import (
    INTERVAL_S,
    DeviceCodePoll,
    DeviceCodeTicket,
    active_device_count,
    claim_device_code,
    enroll_with_code,
    enroll_with_fleet_token,
    poll_device_code,
    start_device_code,
)

__all__ = [
    "INTERVAL_S",
    "DeviceCodePoll",
    "DeviceCodeTicket",
    "EnrolmentService",
    "FleetService",
    "active_device_count",
    "claim_device_code",
    "device_status",
    "enroll_with_code",
    "enroll_with_fleet_token",
    "poll_device_code",
    "start_device_code",
]
