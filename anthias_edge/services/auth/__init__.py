"""Who may act: logins and tokens, password hashing, login throttling, secrets at rest,
and changes to the device's login.

``tokens`` (logins, refresh rotation, API tokens) builds on ``jwt_tokens`` (access tokens),
``passwords``, ``login_throttle`` and ``member_login``; ``crypto_box`` keeps the signing keys
encrypted; ``login_change`` holds the device's rules for changing its Basic login. The HTTP side
(headers, cookies, CSRF) is ``anthias_edge/auth/``, which calls these.
"""
