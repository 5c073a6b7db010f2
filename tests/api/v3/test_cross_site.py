"""Cross-site requests on v3: refused in v3's error shape; only this very host is same-origin."""

from __future__ import annotations

from anthias_edge.messaging import ViewerEndpoint
from tests.api.v3.conftest import World
from tests.helpers import viewer_commands

EVIL = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
ASSET = {"name": "x", "uri": "https://example.com/", "mimetype": "webpage",
         "skip_asset_check": True}


def _viewer_of(world: World) -> ViewerEndpoint:
    """The player's end of the world's ZeroMQ sockets, proven to receive."""
    messenger = world.runtime.messenger
    endpoint = ViewerEndpoint(messenger.publisher_endpoint, messenger.collector_endpoint)
    endpoint.start()
    for _ in range(200):  # ZeroMQ's slow joiner: publish until the subscription is live
        messenger.send_to_viewer("probe")
        if endpoint.receive(timeout_s=0.05) is not None:
            break
    while endpoint.receive(timeout_s=0.05) is not None:
        pass
    return endpoint


def test_v3_refuses_in_its_own_error_shape(world: World):
    response = world.client.post("/api/v3/assets", headers={**world.auth(), **EVIL}, json=ASSET)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "cross_site_request"
    assert world.client.get("/api/v3/assets", headers=world.auth()).get_json()["items"] == []


def test_v3_legacy_control_is_refused_from_another_site(world: World):
    viewer = _viewer_of(world)
    try:
        refused = world.client.get("/api/v3/legacy/assets/control/next",
                                   headers={**world.auth(), "Sec-Fetch-Site": "cross-site"})
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "cross_site_request"
        assert viewer_commands(viewer) == []
        ours = world.client.get("/api/v3/legacy/assets/control/next", headers=world.auth())
        assert ours.status_code == 200
        assert viewer_commands(viewer) == ["next"]
    finally:
        viewer.close()


def test_another_tenants_subdomain_is_another_origin(world: World):
    """Tenants share the base domain's site, so only the very same host counts."""
    world.app.config["ANTHIAS_BASE_DOMAIN"] = "example.com"
    for headers in ({"Origin": "https://beta.example.com"}, {"Sec-Fetch-Site": "same-site"},
                    {"Origin": "https://example.com"}):
        refused = world.client.post("/api/v3/assets", json=ASSET,
                                    base_url="https://alpha.example.com",
                                    headers={**world.auth(), **headers})
        assert refused.status_code == 403, headers
    own = world.client.post("/api/v3/assets", json=ASSET, base_url="https://alpha.example.com",
                            headers={**world.auth(), "Origin": "https://alpha.example.com"})
    assert own.status_code == 201, own.get_data(as_text=True)
