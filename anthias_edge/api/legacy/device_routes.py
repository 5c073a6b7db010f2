"""Endpoints v1 and v2 share: content, uploads, order, control, backup, recover, power."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, request

from anthias_edge.api.legacy.blueprint import legacy_tenant_id, named
from anthias_edge.api.legacy.fields import CharField, validate
from anthias_edge.api.legacy.http import empty, render
from anthias_edge.api.request_body import read_data
from anthias_edge.api.schema import Body, openapi
from anthias_edge.errors import IncorrectArchiveExtension, MethodNotAllowed, MissingUpload
from anthias_edge.runtime import current_runtime
from anthias_edge.services import backup, uploads
from anthias_edge.services.device import host_commands

logger = logging.getLogger(__name__)

# What these views answer and read, for /api/schema/.
CONTENT = {"type": "object", "required": ["type"], "properties": {
    "type": {"type": "string", "enum": ["file", "url"]}, "url": {"type": "string"},
    "filename": {"type": "string"}, "content": {"type": "string", "format": "byte"},
    "mimetype": {"type": "string"}}}
UPLOADED = {"type": "object", "required": ["uri", "ext"],
            "properties": {"uri": {"type": "string"}, "ext": {"type": "string"}}}
# Anthias split whatever came; only a string of ids can be split (a number 500'd there).
ORDER = Body({"ids": CharField(allow_blank=True, allow_null=True, text_only=True,
                              max_length=None)},
             descriptions={"ids": "Asset ids, comma-separated, in the new order."})


def register_device_routes(bp: Blueprint, suffix: str) -> None:
    """Mount the shared endpoints on a v1 or v2 blueprint (``suffix`` names the DRF views)."""

    @named(f"AssetContentView{suffix}")
    @openapi(returns=CONTENT)
    def asset_content(asset_id: str) -> Any:
        """A local asset's file in base64, or a remote asset's URL."""
        return render(current_runtime().assets(legacy_tenant_id()).content(asset_id))

    @named(f"FileAssetView{suffix}")
    @openapi(request=Body(files=("file_upload",)), returns=UPLOADED)
    def file_asset() -> Any:
        """Upload a file; create the asset with the returned uri and ext."""
        upload = request.files.get("file_upload")
        upload_key = request.headers.get("X-Upload-Id") or request.remote_addr or ""
        result = uploads.receive_upload(
            current_runtime().media_dir(legacy_tenant_id()),  # the uploader's own folder
            upload.filename if upload else None,
            upload.stream if upload else None,
            content_range=request.headers.get("Content-Range"),
            upload_key=upload_key,
        )
        return render({"uri": str(result.path), "ext": result.ext})

    @named(f"PlaylistOrderView{suffix}")
    @openapi(request=ORDER, status=204)
    def playlist_order() -> Any:
        """Set the playlist order."""
        ids = validate(ORDER.fields, read_data()).get("ids") or ""
        if ids:
            current_runtime().assets(legacy_tenant_id()).set_order(ids.split(","))
        return empty(204)

    @named(f"PlaylistOrderView{suffix}")
    @openapi(status=500)
    def playlist_order_wrong_method() -> Any:
        """Any other method on the order URL is Anthias's 500 error."""
        raise MethodNotAllowed(request.method)

    @named(f"AssetsControlView{suffix}")
    @openapi(returns=str)
    def control(command: str) -> Any:
        """Send the player a playback command, such as next or previous."""
        current_runtime().messenger.send_to_viewer(command)
        return render("Asset switched")

    @named(f"BackupView{suffix}")
    @openapi(status=201, returns=str)
    def make_backup() -> Any:
        """Archive the database and assets; answer the archive's file name."""
        rt = current_runtime()
        settings = rt.settings
        name = backup.create_backup(
            home=settings.home, asset_dir=settings.asset_dir, static_dir=settings.static_dir,
            player_name=settings["player_name"], before_archive=rt.checkpoint_database,
        )
        return render(name, 201)

    @named(f"RecoverView{suffix}")
    @openapi(request=Body(files=("backup_upload",)), returns=str)
    def recover() -> Any:
        """Restore a backup archive (.tar.gz)."""
        upload = request.files.get("backup_upload")
        if upload is None or not upload.filename:
            raise MissingUpload()
        if not backup.is_tar_name(upload.filename):
            raise IncorrectArchiveExtension()
        rt = current_runtime()
        rt.messenger.send_to_viewer("stop")
        try:
            # The answer stays Anthias's; kept host-level settings are logged by the service.
            backup.recover_backup(
                upload.stream, upload.filename, home=rt.settings.home,
                asset_dir=rt.settings.asset_dir, before_swap=rt.close_database,
                after_swap=rt.after_restore,
            )
        finally:
            rt.messenger.send_to_viewer("play")
        return render("Recovery successful.")

    @named(f"RebootView{suffix}")
    @openapi()
    def reboot() -> Any:
        """Reboot the device."""
        host_commands.run_host_command(current_runtime().settings["reboot_command"])
        return empty(200)

    @named(f"ShutdownView{suffix}")
    @openapi()
    def shutdown() -> Any:
        """Power the device off."""
        host_commands.run_host_command(current_runtime().settings["shutdown_command"])
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
