"""``/api/v3/pairing-codes``: the codes waiting for a screen, and revoking one.

The list shows the tenant's unused, unexpired codes (never the codes themselves); ``DELETE
/pairing-codes/<id>`` deletes an unused one, audit-logged, so no screen can link with it. A used
code stays as the record of its link, and another tenant's is as unknown as none: both 404.
"""

from __future__ import annotations

import pytest

from anthias_edge.models import AuditLog, PairingCode
from anthias_edge.services.fleet.errors import PairingCodeInvalid
from tests.fleet.conftest import as_tenant, call
from tests.fleet.test_linking import enroll_code, pairing_code

CODES = "/api/v3/pairing-codes"


def test_the_list_shows_waiting_codes_with_who_made_them_and_when_they_expire(cloud, clock):
    made = pairing_code(cloud, "Lobby")
    clock.move(minutes=9)
    later = pairing_code(cloud)
    clock.move(minutes=1)  # the first is past its 10 minutes now

    listed = call(cloud, "GET", CODES).get_json()["items"]

    assert [item["id"] for item in listed] == [later["id"]]
    item = listed[0]
    assert item["created_by"] == cloud.users[(cloud.a, "owner")]
    assert item["expires_at"] == later["expires_at"] and item["used_at"] is None
    assert "code" not in item and made["id"] != later["id"]


def test_revoking_a_code_refuses_the_screen_that_types_it_and_is_audited(cloud):
    made = pairing_code(cloud, "Lobby")

    revoked = call(cloud, "DELETE", f"{CODES}/{made['id']}")

    assert revoked.status_code == 204 and revoked.data == b""
    assert call(cloud, "GET", CODES).get_json()["items"] == []
    with pytest.raises(PairingCodeInvalid):
        enroll_code(cloud, made["code"])
    again = call(cloud, "DELETE", f"{CODES}/{made['id']}")
    assert again.status_code == 404
    assert again.get_json()["error"] == {
        "code": "pairing_code_not_found", "message": "No unused pairing code of yours has that id.",
        "details": None}
    with as_tenant(cloud, cloud.a):
        entry = AuditLog.get(AuditLog.action == "pairing_code.revoke")
    assert (entry.actor, entry.object_type, entry.summary) == (
        cloud.users[(cloud.a, "owner")], "pairing_code", "Lobby")


def test_a_used_code_is_not_revoked_it_stays_as_the_record_of_its_link(cloud):
    made = pairing_code(cloud)
    device = enroll_code(cloud, made["code"])

    refused = call(cloud, "DELETE", f"{CODES}/{made['id']}")

    assert refused.status_code == 404
    with as_tenant(cloud, cloud.a):
        assert PairingCode.get().device_id == device.device_id


def test_another_tenants_code_is_unknown_and_stays_usable(cloud):
    made = pairing_code(cloud)

    refused = call(cloud, "DELETE", f"{CODES}/{made['id']}", tenant=cloud.b)

    assert refused.status_code == 404
    assert refused.get_json()["error"]["code"] == "pairing_code_not_found"
    assert enroll_code(cloud, made["code"]).tenant == cloud.a


@pytest.mark.parametrize("code_id", ["abc", "g" * 16, "%" * 16, "0" * 17, "ABCDEF0123456789"])
def test_malformed_ids_are_not_found(cloud, code_id):
    pairing_code(cloud)
    response = call(cloud, "DELETE", f"{CODES}/{code_id}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] in ("pairing_code_not_found", "not_found")
    assert len(call(cloud, "GET", CODES).get_json()["items"]) == 1


def test_only_devices_managers_may_revoke(cloud):
    made = pairing_code(cloud)
    refused = call(cloud, "DELETE", f"{CODES}/{made['id']}", role="editor")
    assert refused.status_code == 403
    assert len(call(cloud, "GET", CODES).get_json()["items"]) == 1
