"""The code a screen shows, held by the server for the Cloud page and the splash page.

The hub's answer to "was it claimed?" never holds up a page: a hub that does not answer
must not leave the screen's splash page blank. The agent here is a stand-in whose poll waits
for the test to let it go, so the test can see a page answer while the question is open.
(The real agent against a real hub: test_cloud_page_route.py.)
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

from anthias_edge.services.device.cloud_link import AgentFunctions, CloudLink
from anthias_edge.timeutil import utcnow


@dataclass
class Ticket:
    code: str
    claim_url: str
    expires_at: dt.datetime
    cloud_url: str
    name: str


@dataclass
class Poll:
    status: str


class SlowHub:
    """An agent whose poll blocks until ``answer`` is set (then says ``reply``)."""

    def __init__(self) -> None:
        self.answer = threading.Event()
        self.asking = threading.Event()
        self.reply = "pending"
        self.asked = 0
        self.linked = False

    def functions(self) -> AgentFunctions:
        return AgentFunctions(
            status=lambda _settings: {"linked": self.linked, "last_success_at": None},
            link_with_code=lambda *args: None,
            start_device_code=lambda _settings, url, name: Ticket(
                "ABCD2345", f"{url}/#/screens/claim/ABCD2345",
                utcnow() + dt.timedelta(minutes=10), url, name),
            poll_device_code=self.poll, unlink=lambda *args, **kwargs: None,
            problem_words=str)

    def poll(self, _ticket: Any) -> Poll:
        self.asked += 1
        self.asking.set()
        assert self.answer.wait(30), "the test never let the poll go"
        if self.reply == "claimed":
            self.linked = True
        return Poll(self.reply)


def test_a_page_never_waits_for_the_hub_and_a_claim_shows_once_answered():
    hub = SlowHub()
    clock = [utcnow()]
    link = CloudLink({"player_name": "Lobby"}, lambda: clock[0], agent=hub.functions())
    started = link.start_device_code("https://cloud.example", "")
    assert started["device_code"]["code"] == "ABCD2345"
    assert started["device_code"]["name"] == "Lobby"  # the screen's own name by default
    assert hub.asking.wait(10)  # the status read asked the hub, in the background

    # While that question is open, pages answer at once and ask nothing more.
    assert link.pending_code()["code"] == "ABCD2345"
    clock[0] += dt.timedelta(seconds=5)
    assert link.status()["device_code"]["code"] == "ABCD2345"
    assert hub.asked == 1

    hub.reply = "claimed"
    hub.answer.set()
    for _ in range(200):  # the poll's thread finishes; the next read shows the link
        status = link.status()
        if status["linked"]:
            break
        threading.Event().wait(0.05)
    assert status["linked"] is True and status["device_code"] is None
    assert link.pending_code() is None


def test_an_expired_code_is_no_longer_shown():
    hub = SlowHub()
    hub.answer.set()
    clock = [utcnow()]
    link = CloudLink({"player_name": ""}, lambda: clock[0], agent=hub.functions())
    assert link.start_device_code("https://cloud.example", "Hall")["device_code"]["name"] == "Hall"
    clock[0] += dt.timedelta(minutes=10, seconds=1)
    assert link.pending_code() is None
    assert link.status()["device_code"] is None
