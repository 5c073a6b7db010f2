"""The replay store: a jti is kept while its token could be accepted, then cleaned up."""

from __future__ import annotations

import datetime as dt

from cloud_sync.hub.auth import forget_expired, nonce_expiry
from cloud_sync.protocol import read_token, sign_request
from tests.sync_hub.conftest import Hub, SimDevice

STATE = "/api/v3/sync/state"


def test_a_jti_is_kept_until_its_token_expires_plus_the_skew(hub: Hub, device: SimDevice):
    auth = sign_request(device.key, device.device_id, "GET", STATE, b"", now=1_800_000_000)
    token = read_token(auth)
    assert nonce_expiry(token, 1_800_000_000) == dt.datetime(2027, 1, 15, 8, 1, 30)


def test_expired_jtis_are_deleted_and_live_ones_kept(hub: Hub, device: SimDevice):
    hub.signed(device, "GET", STATE)
    hub.sql("INSERT INTO sync_nonces (device_id, jti, expires_at) VALUES "
            "(%s, 'old-old-old-old-old-old-1', '2020-01-01 00:00:00')", (device.device_id,))
    assert hub.sql("SELECT count(*) FROM sync_nonces")[0][0] == 2
    database = hub.runtime.database
    with hub.db():
        assert forget_expired(database, dt.datetime(2026, 1, 1)) == 1
    [(jti,)] = hub.sql("SELECT jti FROM sync_nonces")
    assert jti != "old-old-old-old-old-old-1"


def test_the_hub_cleans_up_as_requests_arrive(hub: Hub, device: SimDevice):
    hub.sql("INSERT INTO sync_nonces (device_id, jti, expires_at) VALUES "
            "(%s, 'old-old-old-old-old-old-2', '2020-01-01 00:00:00')", (device.device_id,))
    hub.app.extensions["sync_hub"]._next_clean = 0.0  # due now
    hub.signed(device, "GET", STATE)
    assert [row[0] for row in hub.sql("SELECT jti FROM sync_nonces")] != [
        "old-old-old-old-old-old-2"]
    assert hub.sql("SELECT count(*) FROM sync_nonces WHERE jti = 'old-old-old-old-old-old-2'"
                   ) == [(0,)]
