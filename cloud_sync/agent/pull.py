"""Pulling the tenant's state with ``If-None-Match``, and handing it to the device side.

A 304 costs the hub one indexed lookup and the device nothing. A new state is checked as a
whole before anything of it is applied (``cloud_sync.protocol.validate_state``); its ETag is
kept only after ``apply_state`` succeeded, so a state that failed to apply is fetched again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from anthias_edge.errors import AnthiasError, ValidationError
from cloud_sync.agent.database import connected
from cloud_sync.agent.errors import CloudUnreachable
from cloud_sync.agent.http import HubClient
from cloud_sync.device import link_store
from cloud_sync.device.link_store import LinkState
from cloud_sync.protocol.messages import validate_state

logger = logging.getLogger(__name__)

STATE = "/api/v3/sync/state"


@dataclass(frozen=True)
class PullOutcome:
    """Whether the state changed, and the interval the hub asks for."""

    changed: bool
    interval_s: int | None = None
    result: Any = None


def pull(client: HubClient, link: LinkState, messenger: Any, reboot_command: str = ""
         ) -> PullOutcome:
    """GET the state (conditionally) and apply it when it changed."""
    headers = {"If-None-Match": link.state_etag} if link.state_etag else {}
    answer = client.call("GET", STATE, headers=headers)
    if answer.status == 304:
        return PullOutcome(changed=False)
    try:
        state = validate_state(answer.json())
    except ValidationError as exc:
        logger.warning("The pulled state is not valid: %s", exc.details)
        raise CloudUnreachable("its state did not have the expected form") from exc
    from cloud_sync.device.apply import apply_state

    with connected():
        result = apply_state(state, messenger, reboot_command=reboot_command)
        link_store.update(state_etag=answer.headers.get("ETag"),
                          interval_s=int(state["interval_s"]))
    if getattr(result, "qr_upserted", 0) or getattr(result, "qr_deactivated", 0):
        _tell_player(messenger)
    return PullOutcome(changed=True, interval_s=int(state["interval_s"]), result=result)


def _tell_player(messenger: Any) -> None:
    """The codes drawn on screen changed: have the player read them again (as the server
    does after a local change). A player out of reach reads them at its next reload."""
    try:
        messenger.send_to_viewer("refresh")
    except AnthiasError as exc:
        logger.info("Could not tell the player the codes changed: %s", exc.message)
