"""The hub's own refusals, beyond the signature's (cloud_sync.protocol.errors)."""

from __future__ import annotations

from anthias_edge.errors import AnthiasError, TooManyAttempts


class MediaHashMismatch(AnthiasError):
    """The whole upload's sha256 is not the one it was named by; the partial is discarded."""

    status = 409
    code = "media_hash_mismatch"
    default_message = "The uploaded bytes do not have the sha256 they were sent as; start again."


class MediaOffsetMismatch(AnthiasError):
    """A chunk does not start where the upload stands (the answer says where: Upload-Offset)."""

    status = 416
    code = "media_offset_mismatch"
    default_message = "This chunk does not start where the upload stands; resume from there."

    def __init__(self, offset: int) -> None:
        super().__init__(details={"upload_offset": offset})
        self.offset = offset


class MediaNotFound(AnthiasError):
    """No upload of that sha256 in this tenant."""

    status = 404
    code = "media_not_found"
    default_message = "No upload of that file here."


class RateLimited(TooManyAttempts):
    """Too many unsigned requests (enroll, device codes) from one address; see Retry-After."""

    code = "rate_limited"
    default_message = "Too many requests from this address; try again later."
