"""Every failure Anthias Edge can report, one exception type each.

Services raise these; handlers never catch them. One app-level handler turns
them into each API version's error body (see ``api/*/errors.py``). ``status``
is the honest HTTP status used by v3 and the operations endpoints; the legacy
API (v1-v2) answers 500 for everything but validation errors, because Anthias
clients depend on that (docs/legacy-api.md Q0).
"""

from __future__ import annotations

from typing import Any


class AnthiasError(Exception):
    """Root of all domain errors: a stable ``code``, an HTTP ``status`` and a message."""

    status = 500
    code = "internal_error"
    default_message = "Internal error."

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.message = self.default_message if message is None else message
        self.details = details
        super().__init__(self.message)


class StartupError(AnthiasError):
    """The server or player could not start; wraps the cause with ``raise ... from``."""

    code = "startup_error"
    default_message = "Anthias Edge could not start."


class ValidationError(AnthiasError):
    """Request fields failed validation; ``field_errors`` maps field -> list of messages."""

    status = 400
    code = "validation_error"
    default_message = "Invalid input."

    def __init__(self, field_errors: dict[str, list[str]], message: str | None = None) -> None:
        super().__init__(message, details=field_errors)
        self.field_errors = field_errors


class MalformedRequest(AnthiasError):
    """The body could not be decoded at all (bad JSON, missing wrapper field)."""

    status = 400
    code = "malformed_request"
    default_message = "The request body could not be read."


class AssetNotFound(AnthiasError):
    """No asset with that id exists for the caller."""

    status = 404
    code = "asset_not_found"
    # Anthias's exact text: clients match on it (docs/legacy-api.md §1.4).
    default_message = "Asset matching query does not exist."


class InvalidUri(AnthiasError):
    """The asset URI is neither a supported URL nor an existing local file."""

    status = 400
    code = "invalid_uri"
    default_message = "Invalid URL. Failed to add asset."


class InvalidFilePath(InvalidUri):
    """A URI that starts with ``/`` does not name an existing regular file."""

    code = "invalid_file_path"
    default_message = "Invalid file path. Failed to add asset."


class UnknownUpload(InvalidFilePath):
    """An ``upload:`` reference (API v3) names no upload in the caller's own folder."""

    code = "unknown_upload"
    default_message = "No upload of yours has that reference. Failed to add asset."


class UnreachableUri(AnthiasError):
    """The reachability check could not fetch the asset URL."""

    status = 422
    code = "unreachable_uri"
    default_message = "Could not retrieve file. Check the asset URL."


class BlockedUri(AnthiasError):
    """In cloud mode the server refuses to fetch URLs that resolve to internal addresses."""

    status = 422
    code = "blocked_uri"
    default_message = "That URL points at an internal address and cannot be fetched."


class InvalidDuration(AnthiasError):
    """A duration that is not a whole number of seconds, or non-zero for a video."""

    status = 400
    code = "invalid_duration"
    default_message = "Duration must be a whole number of seconds."


class VideoDurationNotZero(InvalidDuration):
    """Videos are measured by the server; clients must send duration 0
    (docs/legacy-api.md Q4 fixed)."""

    code = "video_duration_not_zero"
    default_message = "Duration must be zero for video assets."


class BadVideoFormat(AnthiasError):
    """ffprobe could not read the video's duration."""

    status = 422
    code = "bad_video_format"
    default_message = "Bad video format"


class InvalidFileType(AnthiasError):
    """An uploaded file is not an image or a video."""

    status = 415
    code = "invalid_file_type"
    default_message = "Invalid file type."


class MissingUpload(AnthiasError):
    """A multipart upload arrived without its file field."""

    status = 400
    code = "missing_upload"
    # Anthias's text for the same case; v3 and the UI show a clearer message.
    default_message = "'NoneType' object has no attribute 'name'"
    clear_message = "No file was uploaded."


class InvalidContentRange(AnthiasError):
    """A chunk's ``Content-Range`` header does not fit the upload so far."""

    status = 416
    code = "invalid_content_range"
    default_message = "Content-Range does not match the upload so far."


class YoutubeUnavailable(AnthiasError):
    """A YouTube asset was asked for but ``yt-dlp`` is not installed."""

    status = 501
    code = "youtube_unavailable"
    default_message = "YouTube assets need yt-dlp, which is not installed on this device."


class YoutubeFailed(AnthiasError):
    """``yt-dlp`` could not read the video's details."""

    status = 422
    code = "youtube_failed"
    default_message = "Could not read that YouTube video."


class PlayerUnavailable(AnthiasError):
    """The player did not answer in time."""

    status = 504
    code = "player_unavailable"
    # Anthias answers an empty message here (docs/legacy-api.md §3.13).
    default_message = ""


class IncorrectArchiveExtension(AnthiasError):
    """A backup upload whose name is not a tar archive."""

    status = 400
    code = "incorrect_archive_extension"
    default_message = "Incorrect file extension."


class WrongArchive(AnthiasError):
    """A backup archive without the ``.screenly`` and ``screenly_assets`` folders."""

    status = 400
    code = "wrong_archive"
    default_message = "Archive is wrong."


class UnreadableArchive(AnthiasError):
    """A backup archive that is not a readable gzip tar (truncated, corrupt, other format)."""

    status = 400
    code = "unreadable_archive"
    default_message = "The archive could not be read."


class UnsafeArchive(AnthiasError):
    """A backup member would land outside HOME or is not a plain file or folder."""

    status = 400
    code = "unsafe_archive"
    default_message = "The archive contains an unsafe member."


class SettingsSaveFailed(AnthiasError):
    """Saving the device settings failed, including a refused authentication change."""

    status = 400
    code = "settings_save_failed"
    default_message = "Settings could not be saved."


class AuthChangeRefused(SettingsSaveFailed):
    """A change of user, password or auth backend broke the rules of docs/legacy-api.md §6.3."""

    code = "auth_change_refused"


class InvalidSetting(AnthiasError):
    """A value in ``screenly.conf`` or the environment does not parse as its type."""

    status = 400
    code = "invalid_setting"
    default_message = "Invalid setting."


class HostLevelSetting(InvalidSetting):
    """Something other than the administrator's screenly.conf or environment tried to set a
    host-level setting (a command, a path, an address)."""

    code = "host_level_setting"
    default_message = "Host-level settings can only be set on the device itself."


class HostCommandFailed(AnthiasError):
    """The configured reboot or shutdown command failed to start."""

    status = 500
    code = "host_command_failed"
    default_message = "The host command could not be run."


class NotAcceptable(AnthiasError):
    """The ``Accept`` header allows no format we render."""

    status = 406
    code = "not_acceptable"
    default_message = "Could not satisfy the request Accept header."


class MethodNotAllowed(AnthiasError):
    """The URL exists but not for this HTTP method."""

    status = 405
    code = "method_not_allowed"

    def __init__(self, method: str) -> None:
        super().__init__(f'Method "{method}" not allowed.')
        self.method = method


class ImportFailed(AnthiasError):
    """``import-anthias`` could not read the given HOME folder or archive."""

    status = 400
    code = "import_failed"
    default_message = "Nothing could be imported."


class PermissionDenied(AnthiasError):
    """The caller is known but lacks the permission this action needs."""

    status = 403
    code = "permission_denied"
    default_message = "You do not have permission to do that."


class CrossSiteRequest(AnthiasError):
    """A browser says a page of another site sent this state-changing request."""

    status = 403
    code = "cross_site_request"
    default_message = ("Refused: this change was requested by a page of another site. "
                       "Make it from this server's own pages, or from a script.")


class CsrfTokenInvalid(AnthiasError):
    """A call authenticated by the console's refresh cookie lacks its matching CSRF token."""

    status = 403
    code = "csrf_token_invalid"
    default_message = ("This request was refused because its security token is missing or "
                       "out of date. Reload the page and try again.")


class AuthenticationFailed(AnthiasError):
    """Wrong password, unknown user or not a member: one answer, so users cannot be probed."""

    status = 401
    code = "authentication_failed"
    default_message = "Invalid username, password or tenant."


class TooManyAttempts(AnthiasError):
    """Too many failed logins for this user or address; ``retry_after`` is in seconds."""

    status = 429
    code = "too_many_attempts"
    default_message = "Too many failed attempts. Try again later."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after = retry_after


class TokenInvalid(AnthiasError):
    """An access, refresh or API token that is malformed, expired, revoked or unknown."""

    status = 401
    code = "token_invalid"
    default_message = "The token is invalid or has expired."


class TenantMismatch(AnthiasError):
    """The host, custom domain or ``X-Tenant-ID`` names another tenant than the token."""

    status = 403
    code = "tenant_mismatch"
    default_message = "The request names a different tenant than its credentials."


class TenantInactive(AnthiasError):
    """The tenant exists but has been deactivated."""

    status = 403
    code = "tenant_inactive"
    default_message = "This tenant is not active."


class TenantNotFound(AnthiasError):
    """No tenant with that id, subdomain or domain."""

    status = 404
    code = "tenant_not_found"
    default_message = "Tenant not found."


class UserNotFound(AnthiasError):
    """No such user in the caller's tenant (another tenant's user is not found either)."""

    status = 404
    code = "user_not_found"
    default_message = "User not found."


class ApiTokenNotFound(AnthiasError):
    """No such API token in the caller's tenant."""

    status = 404
    code = "token_not_found"
    default_message = "API token not found."


class QRContentNotFound(AnthiasError):
    """No QR content with that code in the caller's tenant (issue 13)."""

    status = 404
    code = "qr_content_not_found"
    default_message = "No QR content of yours has that code."


class Conflict(AnthiasError):
    """The change clashes with existing data: a taken subdomain or username, the last owner."""

    status = 409
    code = "conflict"
    default_message = "That conflicts with existing data."


class SecretKeyUnusable(StartupError):
    """The key that encrypts secrets at rest is missing, unreadable, malformed or too open."""

    code = "secret_key_unusable"
    default_message = "The secret key for encrypting stored secrets cannot be used."


class DatabaseUnreachable(AnthiasError):
    """The PostgreSQL server named by a URL does not answer or refuses the connection."""

    status = 503
    code = "database_unreachable"
    default_message = "The database cannot be reached."


class UnsupportedMediaType(AnthiasError):
    """A v3 body that is not JSON."""

    status = 415
    code = "unsupported_media_type"
    default_message = "Send the body as application/json."


class PathNotFound(AnthiasError):
    """A path argument no object can have."""

    status = 404
    code = "not_found"
    default_message = "Not found."


class LegacyRouteNotFound(AnthiasError):
    """No v2 endpoint is reachable through v3 at that path."""

    status = 404
    code = "not_found"
    default_message = "No such legacy endpoint for this tenant."


class AssetLimitReached(AnthiasError):
    """The tenant already has as many assets as its plan allows."""

    status = 409
    code = "asset_limit_reached"
    default_message = "This tenant has reached its asset limit."


class WriteContention(AnthiasError):
    """Concurrent writes to one tenant's asset library still clashed after every retry."""

    status = 503
    code = "write_contention"
    default_message = "The asset library is busy with other changes. Try again."


class SharedCodeNotFound(AnthiasError):
    """No shared content answers to that code (on this host): the landing page's 404."""

    status = 404
    code = "shared_code_not_found"
    default_message = "Nothing is shared under this code."


class SharedCodeGone(AnthiasError):
    """The code existed but was deactivated or has expired: the landing page's 410."""

    status = 410
    code = "shared_code_gone"
    default_message = "This shared content is no longer available."


class PluginNotFound(AnthiasError):
    """No plugin of that name is installed (``anthias-edge plugins ...``)."""

    status = 404
    code = "plugin_not_found"
    default_message = "No plugin of that name is installed."


class InvalidPluginSetting(ValidationError):
    """A plugin's setting is unknown, missing or not of its declared type."""

    code = "invalid_plugin_setting"
    default_message = "Invalid plugin setting."


class NotificationRejected(AnthiasError):
    """A payment notification failed its provider's verification (signature, confirmation)."""

    status = 400
    code = "notification_rejected"
    default_message = "The payment notification was not accepted."


class PaymentProviderError(AnthiasError):
    """The payment gateway could not be reached or answered with an error."""

    status = 502
    code = "payment_provider_error"
    default_message = "The payment provider could not be reached."
