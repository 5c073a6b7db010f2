"""services/assets.py on a real database: the rules every legacy version shares."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from anthias_edge.errors import (
    AssetNotFound,
    InvalidDuration,
    InvalidFilePath,
    InvalidUri,
    UnreachableUri,
    VideoDurationNotZero,
)
from anthias_edge.models import Asset
from anthias_edge.services.assets import AssetService, relocate_asset_uris, to_duration

NOW = dt.datetime(2024, 6, 3, 12, 0)


class Unreachable:
    """A checker that finds nothing reachable."""

    def check_allowed(self, uri: str) -> None:
        """Every URL may be probed."""

    def is_reachable(self, uri: str) -> bool:
        """Nothing answers."""
        return False


@pytest.fixture
def service(app):
    runtime = app.extensions["anthias"]
    with runtime.database.connection_context():
        yield AssetService(asset_dir=runtime.settings.asset_dir, clock=lambda: NOW)


def values(**fields):
    base = {"name": "Page", "uri": "https://example.org", "mimetype": "webpage", "duration": 10,
            "start_date": NOW - dt.timedelta(days=1), "end_date": NOW + dt.timedelta(days=1),
            "is_enabled": True, "skip_asset_check": True, "play_order": 0}
    base.update(fields)
    return base


def test_to_duration_reports_python_text_for_bad_input():
    assert to_duration("12") == 12
    with pytest.raises(InvalidDuration, match="invalid literal for int"):
        to_duration("abc")
    with pytest.raises(InvalidDuration, match="NoneType"):
        to_duration(None)
    with pytest.raises(InvalidDuration):
        to_duration(True)


def test_created_assets_are_listed_in_insertion_order(service):
    for name in ("b", "a", "c"):
        service.create(values(name=name))
    assert [a.name for a in service.list_assets()] == ["b", "a", "c"]


def test_a_url_without_a_supported_scheme_is_invalid(service):
    with pytest.raises(InvalidUri):
        service.create(values(uri="ftp://example.org"))
    assert service.list_assets() == []


def test_a_missing_local_file_is_an_invalid_file_path(service, tmp_path):
    with pytest.raises(InvalidFilePath):
        service.create(values(uri=str(tmp_path / "nope.png")))


def test_an_unreachable_url_is_refused_unless_the_check_is_skipped(service):
    service.checker = Unreachable()
    with pytest.raises(UnreachableUri):
        service.create(values(skip_asset_check=False))
    assert service.create(values(skip_asset_check=True)).name == "Page"


def test_streams_are_never_probed(service):
    service.checker = Unreachable()
    created = service.create(values(uri="rtmp://198.51.100.7/live", skip_asset_check=False))
    assert created.uri == "rtmp://198.51.100.7/live"


def test_a_video_with_a_non_zero_duration_is_refused(service):
    with pytest.raises(VideoDurationNotZero, match="Duration must be zero for video assets"):
        service.create(values(mimetype="video", duration=5))


def test_a_file_elsewhere_on_the_device_is_refused_unless_allowed(service, tmp_path):
    outside = tmp_path / "usb.png"
    outside.write_bytes(b"png")
    with pytest.raises(InvalidFilePath):
        service.create(values(uri=str(outside), mimetype="image"), ext=".png")
    service.allow_files_outside_asset_dir = True
    created = service.create(values(uri=str(outside), mimetype="image"), ext=".png")
    assert created.uri == str(outside)
    service.delete(created.asset_id)
    assert outside.exists()


def test_deleting_an_unknown_asset_is_not_found(service):
    with pytest.raises(AssetNotFound):
        service.delete("missing")


def test_update_ignores_duration_for_videos_and_never_changes_uri(service):
    created = service.create(values(mimetype="webpage"))
    Asset.update(mimetype="video").where(Asset.asset_id == created.asset_id).execute()
    updated = service.update(created.asset_id, {"duration": 99, "uri": "https://x.org"},
                             renumber=False)
    assert (updated.duration, updated.uri) == (10, "https://example.org")


@pytest.mark.parametrize("renumber", [False, True])
def test_the_later_of_two_updates_wins_though_its_row_was_read_before_the_other(service, renumber):
    # Two clients set one field back and forth: the second read the row, then the first wrote
    # "B", then the second wrote "A". "A" was compared with its stale read, found unchanged and
    # never written, so "B" stayed: a lost update (issue 11).
    created = service.create(values(name="A"))
    stale = service.get(created.asset_id)
    service.update(created.asset_id, {"name": "B", "duration": 20}, renumber=renumber)
    service.update(created.asset_id, {"name": "A", "duration": 10}, renumber=renumber,
                   current=stale)
    row = service.get(created.asset_id)
    assert (row.name, row.duration) == ("A", 10)


def test_unique_names_skip_taken_suffixes(service):
    service.create(values(name="Show"))
    service.create(values(name="Show-1"))
    assert service.unique_name("Show") == "Show-2"
    assert service.unique_name("Other") == "Other"


def test_relocation_points_old_asset_paths_at_this_asset_folder(service):
    service.create(values(name="web"))
    Asset.insert(asset_id="f" * 32, name="file", uri="/data/screenly_assets/x.png",
                 mimetype="image", duration=5).execute()
    assert relocate_asset_uris(service.asset_dir) == 1
    assert Asset.get_by_id("f" * 32).uri == str(Path(service.asset_dir) / "x.png")
    assert relocate_asset_uris(service.asset_dir) == 0


def test_on_change_is_called_after_every_write(service):
    calls = []
    service.on_change = lambda: calls.append(1)
    created = service.create(values())
    service.update(created.asset_id, {"name": "x"}, renumber=True)
    service.set_order([created.asset_id])
    service.delete(created.asset_id)
    assert len(calls) == 4
