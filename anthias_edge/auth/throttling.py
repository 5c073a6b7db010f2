"""The device's password checks, throttled: HTTP Basic (API, pages, the cached list) and ``/login``.

A device has one account, so every guess counts against it whatever user name was sent
(guessing the name too gains nothing). The policy is ``services/auth/login_throttle.py``'s:
an address that keeps failing waits longer and longer, a clean address is never slowed.
No Flask here, so the WSGI fast path in front of Flask can use it too.
"""

from __future__ import annotations

from anthias_edge.auth.basic import AuthOutcome, AuthResult, check_basic_auth
from anthias_edge.errors import TooManyAttempts
from anthias_edge.runtime import Runtime
from anthias_edge.services.auth.login_throttle import LoginThrottle

# ':' is not allowed in user names, so no v3 account can share this key.
DEVICE_ACCOUNT = "device:basic"


def login_throttle(runtime: Runtime) -> LoginThrottle:
    """This server's throttle, on the runtime's clock (read late, so tests can move it)."""
    return runtime.login_throttle


def check_throttled_basic_auth(header: str | None, runtime: Runtime,
                               ip: str | None) -> AuthResult:
    """``check_basic_auth``, but a throttled address gets ``THROTTLED`` whatever it sent.

    Requests without credentials are not guesses and touch nothing; every other answer
    is counted: a failure against this address, a success clears it.
    """
    result = check_basic_auth(header, runtime.settings)
    if not result.credentials_given:
        return result
    throttle = login_throttle(runtime)
    try:
        had_failures = throttle.check(DEVICE_ACCOUNT, ip)
    except TooManyAttempts as exc:
        return AuthResult(AuthOutcome.THROTTLED, retry_after=exc.retry_after,
                          credentials_given=True)
    if not result.ok:
        throttle.record_failure(DEVICE_ACCOUNT, ip)
    elif had_failures:
        throttle.record_success(DEVICE_ACCOUNT, ip)
    return result


def clean_and_correct(header: str | None, runtime: Runtime, ip: str | None) -> bool:
    """Right credentials from an address with nothing on record: safe to answer at once.

    For the asset-list fast path, which must never count or clear anything itself (Flask
    does that when it gets the request), so a guess is never counted twice.
    """
    if not check_basic_auth(header, runtime.settings).ok:
        return False
    try:
        return not login_throttle(runtime).check(DEVICE_ACCOUNT, ip)
    except TooManyAttempts:
        return False
