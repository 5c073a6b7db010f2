"""``anthias-edge link``, ``unlink`` and ``sync``: the cloud link and the sync agent daemon.

``link`` exits 0 when linked (or, with ``--fleet-token-file``, when there is nothing to do),
1 on an error, 2 when the cloud refused (a wrong code, a revoked or used-up token). ``sync``
is a systemd ``Type=notify`` daemon with a watchdog, stopping within a second on SIGTERM or
Ctrl-C; its work runs in a thread so the main thread can always take the signal.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from anthias_edge.cli.common import BadUsage, configure_logging, load_settings
from anthias_edge.stop_signals import StopSignals

if TYPE_CHECKING:
    from anthias_edge.settings import Settings

logger = logging.getLogger(__name__)

REFUSED_EXIT = 2
STOP_GRACE_S = 0.8
DEVICE_CODE_POLL_S = 3.0


class Refused(click.ClickException):
    """The cloud said no: one ``Error:`` line and exit code 2."""

    exit_code = REFUSED_EXIT


def _default_name(settings: Settings, given: str | None) -> str:
    return (given or settings["player_name"] or socket.gethostname() or "Screen").strip()


def _linked_line(link: Any) -> str:
    tenant = f" ({link.tenant_name})" if link.tenant_name else ""
    return f"Linked to {link.cloud_url}{tenant} as {link.device_name or link.device_id}."


@click.command("link")
@click.option("--cloud", "cloud_url", metavar="URL",
              help="The cloud's address, e.g. https://cloud.example.com (default: the token "
                   "file's cloud= line, else the cloud_url setting).")
@click.option("--code", metavar="CODE", help="A pairing code made in the cloud console.")
@click.option("--fleet-token", metavar="TOKEN", help="A fleet enrolment token (aft_...).")
@click.option("--fleet-token-file", type=click.Path(dir_okay=False, path_type=Path),
              metavar="PATH", help="A file holding a fleet token (token=, cloud=, name= "
                                   "lines, or just the token); deleted once used.")
@click.option("--device-code", is_flag=True,
              help="Show a code here for an admin to claim in the cloud console, and wait.")
@click.option("--name", metavar="NAME",
              help="This screen's name in the cloud (default: the player name or host name).")
@click.option("--wait", is_flag=True,
              help="When the cloud cannot be reached, keep trying (with growing pauses) "
                   "instead of failing.")
def link_command(cloud_url: str | None, code: str | None, fleet_token: str | None,
                 fleet_token_file: Path | None, device_code: bool, name: str | None,
                 wait: bool) -> None:
    """Link this device to a cloud tenant with exactly one of --code, --fleet-token,
    --fleet-token-file or --device-code."""
    chosen = [flag for flag, value in (("--code", code), ("--fleet-token", fleet_token),
                                       ("--fleet-token-file", fleet_token_file),
                                       ("--device-code", device_code)) if value]
    if len(chosen) != 1:
        given = f" (not {' and '.join(chosen)})" if chosen else ""
        raise BadUsage("Give exactly one of --code, --fleet-token, --fleet-token-file or "
                       f"--device-code{given}.")
    # No logging set up: what a person needs is said with click.echo, and the log's INFO
    # lines (migrations, say) would bury it; warnings still reach stderr.
    settings = load_settings()
    from cloud_sync.agent import linking, status

    if fleet_token_file is not None:
        found = _read_token_file(settings, fleet_token_file)
        if found is None:
            return
        cloud_url = cloud_url or found.cloud_url
        name = name or found.name
        fleet_token = found.token
    url = linking.check_cloud_url(cloud_url or settings["cloud_url"]
                                  or _missing_cloud(fleet_token_file))
    device_name = linking.check_name(_default_name(settings, name))
    if device_code:
        _link_with_device_code(settings, url, device_name)
        return

    def attempt() -> Any:
        if code is not None:
            return linking.link_with_code(settings, url, code, device_name)
        return linking.link_with_fleet_token(settings, url, fleet_token or "", device_name)

    link = _with_retries(attempt, wait)
    click.echo(_linked_line(link))
    if fleet_token_file is not None:
        from cloud_sync.agent.token_file import consume_token_file

        try:
            done = consume_token_file(fleet_token_file)
            click.echo(f"The token file {fleet_token_file} was {done}.")
        except OSError as exc:
            click.echo(f"Warning: the token file {fleet_token_file} could not be deleted or "
                       f"blanked ({exc.strerror}); remove it by hand.", err=True)
    if not status(settings)["agent_running"]:
        click.echo("Start the sync agent (anthias-edge sync, or the anthias-sync service) to "
                   "begin syncing.")


def _missing_cloud(token_file: Path | None) -> str:
    where = "the token file's cloud= line, " if token_file else ""
    raise BadUsage(f"Which cloud? Give --cloud URL ({where}or set the cloud_url setting).")


def _read_token_file(settings: Settings, path: Path) -> Any:
    """The token file's contents, or None (after saying so) when there is nothing to do."""
    from cloud_sync.agent.database import connected, ensure_database
    from cloud_sync.agent.token_file import read_token_file
    from cloud_sync.device import link_store

    found = read_token_file(path)
    if found is None:
        click.echo(f"Nothing to do: {path} holds no fleet token.")
        return None
    ensure_database(settings)
    with connected():
        link = link_store.load()
    if link is not None:
        already = _linked_line(link).replace("Linked", "this device is already linked", 1)
        click.echo(f"Nothing to do: {already}")
        return None
    return found


def _with_retries(attempt: Any, wait: bool) -> Any:
    """Run ``attempt``; on CloudUnreachable retry with backoff if ``wait``, else fail."""
    from cloud_sync.agent.backoff import Backoff
    from cloud_sync.agent.errors import CloudRefused, CloudUnreachable
    from cloud_sync.agent.wording import refusal_words, retrying

    backoff = Backoff()
    while True:
        try:
            return attempt()
        except CloudRefused as exc:
            raise Refused(refusal_words(exc)) from exc
        except CloudUnreachable as exc:
            if not wait:
                raise click.ClickException(f"{exc.message} Try again, or add --wait.") from exc
            delay = backoff.failed(exc.retry_after_s)
            click.echo(retrying(exc, delay), err=True)
            time.sleep(delay)


def _link_with_device_code(settings: Settings, url: str, name: str) -> None:
    from cloud_sync.agent import linking
    from cloud_sync.agent.errors import CloudRefused, CloudUnreachable
    from cloud_sync.agent.wording import refusal_words

    ticket = _with_retries(lambda: linking.start_device_code(settings, url, name), False)
    code = f"{ticket.code[:4]}-{ticket.code[4:]}" if len(ticket.code) == 8 else ticket.code
    click.echo(f"In the cloud console, claim this screen with the code {code}, or open "
               f"{ticket.claim_url}")
    click.echo(f"Waiting until {ticket.expires_at:%H:%M} UTC (Ctrl-C stops)...")
    while dt.datetime.now(dt.UTC) < ticket.expires_at:
        try:
            result = linking.poll_device_code(ticket)
        except CloudRefused as exc:
            raise Refused(refusal_words(exc)) from exc
        except CloudUnreachable as exc:
            click.echo(f"{exc.message} Still waiting.", err=True)
            result = None
        if result is not None and result.status == "claimed":
            click.echo(_linked_line(result.link))
            return
        time.sleep(DEVICE_CODE_POLL_S)
    raise Refused("The code expired before anyone claimed it. Run the command again for "
                  "a new one.")


@click.command("unlink")
@click.option("--local-only", is_flag=True,
              help="Forget the link here without telling the cloud (the cloud still lists "
                   "this screen until an admin revokes it).")
def unlink_command(local_only: bool) -> None:
    """Unlink this device from its cloud tenant; its assets and codes stay on it."""
    settings = load_settings()
    from cloud_sync.agent import unlink

    result = unlink(settings, remote=not local_only)
    if not result.was_linked:
        click.echo("Nothing to do: this device is not linked.")
        return
    if local_only:
        click.echo("Unlinked here. The cloud was not told: revoke the screen in the cloud "
                   "console.")
    elif result.told_cloud:
        click.echo("Unlinked, here and in the cloud.")
    else:
        click.echo(f"Unlinked here. The cloud could not be told ({result.problem}); revoke "
                   "the screen in the cloud console.")


@click.group("sync", invoke_without_command=True)
@click.option("--once", is_flag=True, help="Sync once (push, pull, upload) and exit.")
@click.pass_context
def sync_group(ctx: click.Context, once: bool) -> None:
    """Run the sync agent until SIGTERM or Ctrl-C (or --once); 'sync status' tells its state."""
    if ctx.invoked_subcommand is not None:
        if once:
            raise BadUsage("--once goes with sync alone, not with a subcommand.")
        return
    settings = load_settings()
    configure_logging(settings)
    from cloud_sync.agent.loop import interval_of

    interval_of(settings, None)  # a bad sync_interval is one clear error, before anything
    if once:
        _sync_once(settings)
        return
    sys.exit(_run_daemon(settings))


def _sync_once(settings: Settings) -> None:
    from cloud_sync.agent import status, sync_once

    agent = sync_once(settings)
    state = status(settings)
    if agent.last_problem:
        raise click.ClickException(agent.last_problem)
    if not state["linked"]:
        click.echo("Not linked: nothing to sync.")
        return
    click.echo(f"Synced with {state['cloud_url']}; {state['pending_outbox']} change(s) still "
               "to send.")


def _run_daemon(settings: Settings) -> int:
    """The daemon: the loop in a thread, the main thread waiting for a signal."""
    from anthias_edge import sd_notify
    from cloud_sync.agent import run

    stop = threading.Event()
    failed = threading.Event()

    def work() -> None:
        try:
            run(settings, stop)
        except BaseException:
            logger.exception("The sync agent stopped on an error")
            failed.set()
            stop.set()

    with StopSignals(logger) as stop_signals:
        worker = threading.Thread(target=work, name="sync-agent", daemon=True)
        worker.start()
        click.echo("Anthias Edge sync agent started.")
        sd_notify.ready()
        heartbeat = sd_notify.start_heartbeat(worker.is_alive)
        try:
            stop_signals.wait(stop)
        finally:
            stop.set()  # tells the loop; from here, not from the handler (see stop_signals)
            sd_notify.stopping()
            if heartbeat is not None:
                heartbeat.stop()
            # A request in flight is abandoned: nothing is acknowledged until the hub
            # answered, so it is sent again next time (the hub keeps each entry once).
            worker.join(STOP_GRACE_S)
    logger.info("Sync agent stopped")
    return 1 if failed.is_set() else 0


@sync_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status_command(as_json: bool) -> None:
    """Say whether this device is linked, when it last synced, and what went wrong last."""
    settings = load_settings()
    from cloud_sync.agent import status

    state = status(settings)
    if as_json:
        click.echo(json.dumps({key: _iso(value) for key, value in state.items()}, indent=2))
        return
    for line in status_lines(state):
        click.echo(line)


def status_lines(state: dict[str, Any]) -> list[str]:
    """The status in sentences."""
    lines = []
    if state["linked"]:
        tenant = f" ({state['tenant_name']})" if state["tenant_name"] else ""
        lines.append(f"Linked to {state['cloud_url']}{tenant} as "
                     f"{state['device_name'] or state['device_id']}, since "
                     f"{_when(state['linked_at'])}.")
        lines.append(f"Last successful sync: {_when(state['last_success_at'])}.")
        lines.append(f"Changes waiting to be sent: {state['pending_outbox']}.")
    else:
        lines.append("Not linked to a cloud.")
    if state["last_error"]:
        lines.append(f"Last problem ({_when(state['last_error_at'])}): {state['last_error']}")
    if state["agent_running"]:
        nxt = state["next_attempt_at"]
        lines.append("The sync agent is running" + (f"; next attempt {_when(nxt)}." if nxt
                                                     else "."))
    else:
        lines.append("The sync agent is not running (start anthias-edge sync, or the "
                     "anthias-sync service).")
    return lines


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "never"
    return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value
