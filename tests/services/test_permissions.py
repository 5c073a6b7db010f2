"""permissions.py: the one role table, grants and revokes, and the per-action check."""

import pytest

from anthias_edge.errors import PermissionDenied, ValidationError
from anthias_edge.permissions import (
    ROLE_PERMISSIONS,
    Principal,
    check_permissions,
    effective_permissions,
    require,
)

VIEWER = {"assets.view", "qr.view", "tenant.view", "devices.view"}
EDITOR = VIEWER | {"assets.create", "assets.edit", "assets.delete", "qr.create", "qr.edit",
                   "qr.delete"}
ADMIN = EDITOR | {"users.view", "users.manage", "tenant.edit", "devices.manage", "audit.view",
                  "tokens.manage", "billing.view"}
OWNER = ADMIN | {"billing.manage", "tenant.delete"}


@pytest.mark.parametrize(("role", "expected"), [
    ("viewer", VIEWER), ("editor", EDITOR), ("admin", ADMIN), ("owner", OWNER)])
def test_each_role_has_exactly_the_listed_permissions(role, expected):
    assert effective_permissions(role) == frozenset(expected)
    assert ROLE_PERMISSIONS[role] == frozenset(expected)


def test_a_grant_adds_one_permission_and_a_revoke_removes_one():
    permissions = effective_permissions("viewer", grants=["assets.create"],
                                        revokes=["qr.view"])
    assert permissions == frozenset(VIEWER - {"qr.view"} | {"assets.create"})


def test_a_revoke_wins_over_a_grant_of_the_same_permission():
    permissions = effective_permissions("editor", grants=["users.view"], revokes=["users.view"])
    assert "users.view" not in permissions


def test_an_unknown_granted_name_grants_nothing():
    assert effective_permissions("viewer", grants=["root.everything"]) == frozenset(VIEWER)


def test_an_unknown_role_is_a_validation_error():
    with pytest.raises(ValidationError) as caught:
        effective_permissions("superuser")
    assert "role" in caught.value.field_errors


def test_require_raises_permission_denied_with_status_403():
    with pytest.raises(PermissionDenied) as caught:
        require(effective_permissions("viewer"), "assets.create")
    assert (caught.value.status, caught.value.code) == (403, "permission_denied")
    assert caught.value.details == {"permission": "assets.create"}


def test_require_passes_when_the_permission_is_held():
    principal = Principal("u", "t", "editor", effective_permissions("editor"))
    principal.require("assets.delete")
    assert principal.actor == "u"


def test_check_permissions_sorts_deduplicates_and_refuses_unknown_names():
    assert check_permissions(["qr.view", "assets.view", "qr.view"]) == ["assets.view", "qr.view"]
    with pytest.raises(ValidationError):
        check_permissions(["assets.view", "nope"])
