"""``/api/v3/uploads``: receive a file for a new asset, whole or in ``Content-Range`` chunks.

The same receiver as v2's ``file_asset`` (services/uploads.py), into the caller's own media
folder, so it works in the cloud too. The answer's ``uri`` is an ``upload:<id>`` reference,
not the file's place on the server; ``POST /assets`` takes it as the asset's ``uri`` once
``complete`` is true.
"""

from __future__ import annotations

from typing import Any

from flask import request

from anthias_edge.api.v3.routing import Call, route
from anthias_edge.services import uploads
from anthias_edge.services.billing.limits import check_storage_quota

FIELD = "file"
UPLOADED = {"type": "object", "required": ["uri", "ext", "complete"], "properties": {
    "uri": {"type": "string", "pattern": "^upload:[0-9a-f]{32}$",
            "description": "The upload's reference, for POST /assets' uri."},
    "ext": {"type": "string"}, "complete": {"type": "boolean"}}}


@route("/uploads", "POST", permission="assets.create", returns=UPLOADED, errors=(400, 409),
       tag="assets")
def upload_receive(call: Call) -> Any:
    """Store an uploaded file (multipart field ``file``) or one chunk of it.

    Chunks carry ``Content-Range: bytes START-END/TOTAL`` and one ``X-Upload-Id`` per file.
    """
    folder = call.runtime.media_dir(call.tenant_id)
    # Before reading the body: a request (a whole file or one chunk) past the plan's quota
    # is refused with what it would need (409 storage_quota_reached).
    check_storage_quota(call.tenant_id, folder, request.content_length or 0)
    upload = request.files.get(FIELD)
    result = uploads.receive_upload(
        folder,
        upload.filename if upload else None,
        upload.stream if upload else None,
        content_range=request.headers.get("Content-Range"),
        # Keyed by the caller too: two members uploading the same name never share a file.
        upload_key=f"{call.principal.user_id}\0{request.headers.get('X-Upload-Id', '')}",
    )
    return {"uri": uploads.upload_reference(result), "ext": result.ext,
            "complete": result.complete}
