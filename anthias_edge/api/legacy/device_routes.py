"""Endpoints v1 and v2 share: content, uploads, order, control, backup, recover, power."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, request

from anthias_edge.api.legacy.blueprint import named, runtime
from anthias_edge.api.legacy.http import empty, read_data, render
from anthias_edge.errors import IncorrectArchiveExtension, MethodNotAllowed, MissingUpload
from anthias_edge.services import backup, host_commands, uploads

logger = logging.getLogger(__name__)


def register_device_routes(bp: Blueprint, suffix: str) -> None:
    """Mount the shared endpoints on a v1 or v2 blueprint (``suffix`` names the DRF views)."""

    @named(f"AssetContentView{suffix}")
    def asset_content(asset_id: str) -> Any:
        return render(runtime().assets().content(asset_id))

    @named(f"FileAssetView{suffix}")
    def file_asset() -> Any:
        upload = request.files.get("file_upload")
        upload_key = request.headers.get("X-Upload-Id") or request.remote_addr or ""
        result = uploads.receive_upload(
            runtime().settings.asset_dir,
            upload.filename if upload else None,
            upload.stream if upload else None,
            content_range=request.headers.get("Content-Range"),
            upload_key=upload_key,
        )
        return render({"uri": str(result.path), "ext": result.ext})

    @named(f"PlaylistOrderView{suffix}")
    def playlist_order() -> Any:
        ids = read_data().get("ids") or ""
        if ids:
            runtime().assets().set_order(ids.split(","))
        return empty(204)

    @named(f"PlaylistOrderView{suffix}")
    def playlist_order_wrong_method() -> Any:
        raise MethodNotAllowed(request.method)

    @named(f"AssetsControlView{suffix}")
    def control(command: str) -> Any:
        runtime().messenger.send_to_viewer(command)
        return render("Asset switched")

    @named(f"BackupView{suffix}")
    def make_backup() -> Any:
        rt = runtime()
        settings = rt.settings
        name = backup.create_backup(
            home=settings.home, asset_dir=settings.asset_dir, static_dir=settings.static_dir,
            player_name=settings["player_name"], before_archive=rt.checkpoint_database,
        )
        return render(name, 201)

    @named(f"RecoverView{suffix}")
    def recover() -> Any:
        upload = request.files.get("backup_upload")
        if upload is None or not upload.filename:
            raise MissingUpload()
        if not backup.is_tar_name(upload.filename):
            raise IncorrectArchiveExtension()
        rt = runtime()
        rt.messenger.send_to_viewer("stop")
        try:
            with tempfile.TemporaryDirectory(dir=rt.settings.home) as folder:
                archive = Path(folder) / "upload"
                upload.save(archive)
                backup.recover_backup(
                    archive, upload.filename, home=rt.settings.home,
                    asset_dir=rt.settings.asset_dir, before_swap=rt.close_database,
                    after_swap=rt.after_restore,
                )
        finally:
            rt.messenger.send_to_viewer("play")
        return render("Recovery successful.")

    @named(f"RebootView{suffix}")
    def reboot() -> Any:
        host_commands.run_host_command(runtime().settings["reboot_command"])
        return empty(200)

    @named(f"ShutdownView{suffix}")
    def shutdown() -> Any:
        host_commands.run_host_command(runtime().settings["shutdown_command"])
        return empty(200)

    bp.add_url_rule("/assets/<asset_id>/content", "asset_content", asset_content)
    bp.add_url_rule("/file_asset", "file_asset", file_asset, methods=["POST"])
    bp.add_url_rule("/assets/order", "playlist_order", playlist_order, methods=["POST"])
    bp.add_url_rule("/assets/order", "playlist_order_wrong_method", playlist_order_wrong_method,
                    methods=["GET", "PUT", "PATCH", "DELETE"])
    bp.add_url_rule("/assets/control/<command>", "control", control)
    bp.add_url_rule("/backup", "backup", make_backup, methods=["POST"])
    bp.add_url_rule("/recover", "recover", recover, methods=["POST"])
    bp.add_url_rule("/reboot", "reboot", reboot, methods=["POST"])
    bp.add_url_rule("/shutdown", "shutdown", shutdown, methods=["POST"])
