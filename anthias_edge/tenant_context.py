"""Each cloud request on PostgreSQL is one transaction confined to its caller's tenant.

The transaction begins before the first view or auth hook runs, as role ``anthias_app`` with
no tenant (``services/row_security.py`` says why and how); authentication then sets the
tenant. It commits before the response leaves (a failed commit is a 500, never a success
whose write is lost), or rolls back on a 5xx or an unhandled error. An asset write commits
earlier, as soon as it is done, and the request goes on in a new transaction of the same
tenant (``row_security.commit_request_write``). Requests on a device, and on SQLite, are
untouched.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request

from anthias_edge.db import is_postgresql
from anthias_edge.runtime import Runtime
from anthias_edge.services.row_security import ConfinedTransaction
from anthias_edge.services.tenants import retire_device_tenant

logger = logging.getLogger(__name__)

_KEY = "_confined_transaction"
# Reads write only bookkeeping (a token's last use), which a crash may lose.
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask, runtime: Runtime) -> None:
    """Wrap cloud requests in a confined transaction (call after the connection teardown).

    Also settles the device tenant: a device has one (made if missing), the cloud none.
    """
    database = runtime.database
    with database.connection_context():
        if not runtime.is_cloud:
            runtime.local_tenant_id  # noqa: B018 (made now if missing: PostgreSQL after 0009)
            return
        retire_device_tenant()
    if not is_postgresql(database):
        return

    @app.before_request
    def _begin() -> None:
        transaction = ConfinedTransaction(database, durable=request.method not in _READS)
        transaction.__enter__()
        setattr(g, _KEY, transaction)

    @app.after_request
    def _commit(response: Response) -> Response:
        transaction = g.pop(_KEY, None)
        if transaction is not None:
            if response.status_code >= 500:
                transaction.__exit__(RuntimeError, None, None)  # roll back
            else:
                transaction.__exit__(None, None, None)  # commit
        return response

    # Registered after the hook that returns the connection to the pool, so it runs first.
    @app.teardown_request
    def _roll_back(exc: BaseException | None) -> None:
        transaction = g.pop(_KEY, None)
        if transaction is not None:
            transaction.__exit__(type(exc) if exc else RuntimeError, exc, None)
