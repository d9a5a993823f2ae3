"""``QldbSession``: pyqldb 2.x's session to a ledger, with its own retry loop.

A session runs one transaction at a time, in three ways:

- :py:meth:`QldbSession.execute_statement`: one statement in its own transaction, retried, result buffered;
- :py:meth:`QldbSession.execute_lambda`: a function of an :py:class:`pyqldb.execution.executor.Executor` in a
  transaction, retried;
- :py:meth:`QldbSession.start_transaction`: a :py:class:`pyqldb.transaction.transaction.Transaction` the caller
  commits or aborts; nothing is retried.

Retries (pyqldb-api.md §4, 2.x column): a ``ClientError`` that is an ``InvalidSessionException`` (transaction
expiry included), an ``OccConflictException``, HTTP 500/503, ``NoHttpResponseException`` or
``SocketTimeoutException`` is retried while fewer than ``retry_limit`` retries were made (``retry_limit + 1``
attempts; no free retry), after ``retry_indicator(attempt)`` and a full-jitter sleep of
``random() * (min(5000, 10 ** attempt) + 1)`` ms. After an ``InvalidSessionException`` the session starts a new
QLDB session (StartSession) and goes on with it; a failure of that StartSession is raised, not retried.

Before raising or retrying, the open transaction is aborted (errors logged), after every ``ClientError``
(OCC conflicts included) and ``LambdaAbortedError``, as pyqldb 2.x does, and also after any other exception
(pyqldb 2.x left the transaction open then, so the session's next StartTransaction failed until an abort).

The commands, Ion conversion and the commit digest run natively (see
:py:class:`pyqldb.communication.session_client.SessionClient`); the loop and the lambda run on the calling
thread, and the sleeps release the GIL.
"""

from __future__ import annotations

import random
from logging import getLogger
from time import sleep
from typing import Any, Callable, Optional

from ..communication.session_client import SessionClient
from ..cursor.buffered_cursor import BufferedCursor
from ..cursor.stream_cursor import StreamCursor
from ..errors import (
    RETRYABLE_HTTP_ERRORS,
    ClientError,
    SessionClosedError,
    is_invalid_session_exception,
    is_occ_conflict_exception,
)
from ..execution.executor import Executor
from ..transaction.transaction import Transaction
from .base_qldb_session import BaseQldbSession

logger = getLogger(__name__)
SLEEP_CAP_MS = 5000
SLEEP_BASE_MS = 10
LIST_TABLES_STATEMENT = "SELECT VALUE name FROM information_schema.user_tables WHERE status = 'ACTIVE'"
RETRYABLE_HTTP_STATUS = (500, 503)
RETRYABLE_ERROR_CODES = ("NoHttpResponseException", "SocketTimeoutException")


def _no_retry_indicator(execution_attempt: int) -> None:
    return None


def is_retryable_2x(error: BaseException) -> bool:
    """pyqldb 2.x's retry classification of a ``ClientError``: invalid session (any, transaction expiry
    included), OCC conflict, HTTP 500/503, ``NoHttpResponseException``, ``SocketTimeoutException``."""
    if not isinstance(error, ClientError):
        return False
    if is_invalid_session_exception(error) or is_occ_conflict_exception(error):
        return True
    response = error.response
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status in RETRYABLE_HTTP_STATUS or response.get("Error", {}).get("Code") in RETRYABLE_ERROR_CODES


class QldbSession(BaseQldbSession):
    """
    A session to a QLDB ledger (see the module docs). Used by one thread at a time. When it is no longer
    needed, :py:meth:`close` ends it; sessions from a
    :py:class:`pyqldb.driver.pooled_qldb_driver.PooledQldbDriver` are wrapped in a
    :py:class:`pyqldb.session.pooled_qldb_session.PooledQldbSession` whose ``close()`` returns them to the pool.

    :type session: :py:class:`pyqldb.communication.session_client.SessionClient`
    :param session: The QLDB session.

    :type read_ahead: int
    :param read_ahead: 0, or the number of result pages buffered ahead plus one (2 or more).

    :type retry_limit: int
    :param retry_limit: The number of retries of ``execute_statement`` and ``execute_lambda``.

    :type executor: :py:class:`concurrent.futures.Executor`
    :param executor: Runs read-ahead retrievals; without one a daemon thread does.
    """

    def __init__(self, session: SessionClient, read_ahead: int, retry_limit: int, executor: Any) -> None:
        self._is_closed = False
        self._read_ahead = read_ahead
        self._retry_limit = retry_limit
        self._session = session
        self._executor = executor

    @property
    def ledger_name(self) -> str:
        """The **read-only** ledger name."""
        return self._session.ledger_name

    @property
    def session_id(self) -> Optional[str]:
        """The **read-only** session ID."""
        return self._session.id

    @property
    def session_token(self) -> str:
        """The **read-only** session token."""
        return self._session.token

    def close(self) -> None:
        """End this session (EndSession; a failure is logged). No-op when already closed."""
        if not self._is_closed:
            self._is_closed = True
            self._session.close()

    def execute_statement(
        self, statement: str, *parameters: Any, retry_indicator: Callable[[int], Any] = _no_retry_indicator
    ) -> BufferedCursor:
        """
        Execute one statement in its own transaction, with retries, and return its whole result.

        :type statement: str
        :param statement: The PartiQL statement.

        :type parameters: Variable length argument list
        :param parameters: Python natives or ``IonPy*`` values, one per ``?``.

        :type retry_indicator: function
        :param retry_indicator: Called with the attempt number (from 1) before each retry.

        :rtype: :py:class:`pyqldb.cursor.buffered_cursor.BufferedCursor`

        :raises SessionClosedError: When this session is closed.
        :raises IllegalStateError: When the commit digest returned by QLDB does not match.
        :raises ClientError: When QLDB rejects a command (after the retries, if retryable).
        :raises TypeError: When a parameter cannot be converted to Ion.
        """
        return self.execute_lambda(lambda executor: executor.execute_statement(statement, *parameters), retry_indicator)

    def execute_lambda(
        self, query_lambda: Callable[[Executor], Any], retry_indicator: Callable[[int], Any] = _no_retry_indicator
    ) -> Any:
        """
        Run ``query_lambda(executor)`` in a transaction, commit, and return its result, retrying the whole
        transaction on OCC conflicts and other retryable errors (see the module docs). The lambda may therefore
        run several times and must not have side effects besides its statements. A cursor it returns is read into
        a :py:class:`pyqldb.cursor.buffered_cursor.BufferedCursor` before the commit.

        After an ``InvalidSessionException`` this session continues on a new QLDB session, so it can become
        usable again.

        :type query_lambda: function
        :param query_lambda: Receives a :py:class:`pyqldb.execution.executor.Executor`.

        :type retry_indicator: function
        :param retry_indicator: Called with the attempt number (from 1) before each retry.

        :return: What the lambda returned.

        :raises SessionClosedError: When this session is closed.
        :raises IllegalStateError: When the commit digest returned by QLDB does not match.
        :raises ClientError: When QLDB rejects a command (after the retries, if retryable).
        :raises LambdaAbortedError: When the lambda called :py:meth:`pyqldb.execution.executor.Executor.abort`.
        """
        self.throw_if_closed()
        execution_attempt = 0
        while True:
            transaction = None
            try:
                transaction = self.start_transaction()
                result = query_lambda(Executor(transaction))
                if isinstance(result, StreamCursor):
                    # A cursor is closed by the commit: read it now.
                    result = BufferedCursor(result)
                transaction.commit()
                return result
            except ClientError as ce:
                self._no_throw_abort(transaction)
                if not is_retryable_2x(ce):
                    raise
                logger.warning("OCC conflict or retriable exception occurred: %s", ce)
                if execution_attempt >= self._retry_limit:
                    raise
                if is_invalid_session_exception(ce):
                    logger.info("Creating a new session to QLDB; previous session is no longer valid: %s", ce)
                    self._session = SessionClient.start_session(self._session.ledger_name, self._session.client)
            except Exception:
                # LambdaAbortedError, the lambda's own exceptions, parameter TypeErrors, a digest mismatch, a
                # transport failure: abort and raise, without retry.
                self._no_throw_abort(transaction)
                raise
            execution_attempt += 1
            retry_indicator(execution_attempt)
            self._retry_sleep(execution_attempt)

    def list_tables(self) -> BufferedCursor:
        """
        The names of the ledger's active tables (with retries, as :py:meth:`execute_statement`).

        :rtype: :py:class:`pyqldb.cursor.buffered_cursor.BufferedCursor`
        :return: The table names as :py:class:`amazon.ion.simple_types.IonPyText` values.

        :raises SessionClosedError: When this session is closed.
        """
        return self.execute_statement(LIST_TABLES_STATEMENT)

    def start_transaction(self) -> Transaction:
        """
        Start a transaction (StartTransaction) that the caller commits or aborts; it is not retried.

        :rtype: :py:class:`pyqldb.transaction.transaction.Transaction`

        :raises SessionClosedError: When this session is closed.
        :raises ClientError: When QLDB refuses the transaction.
        """
        self.throw_if_closed()
        transaction_id = self._session.start_transaction().get("TransactionId")
        return Transaction(self._session, self._read_ahead, transaction_id, self._executor)

    def throw_if_closed(self) -> None:
        """
        :raises SessionClosedError: When this session is closed.
        """
        if self._is_closed:
            raise SessionClosedError

    def _abort_or_close(self) -> bool:
        """Whether this session is alive, checked with an AbortTransaction (which also ends a transaction left
        open). A session that fails the check is marked closed. Only for a session not in use."""
        if self._is_closed:
            return False
        try:
            self._session.abort_transaction()
            return True
        except (ClientError, *RETRYABLE_HTTP_ERRORS) as e:
            logger.debug("Session %s failed its check and is discarded: %s", self.session_id, e)
            self._is_closed = True
            return False

    def _no_throw_abort(self, transaction: Optional[Transaction]) -> None:
        """Abort ``transaction`` (or, without one, whatever transaction is open); failures are logged."""
        try:
            if transaction is None:
                self._session.abort_transaction()
            else:
                transaction.abort()
        except (ClientError, *RETRYABLE_HTTP_ERRORS) as e:
            logger.warning("Ignored error aborting transaction during execution: %s", e)

    @staticmethod
    def _retry_sleep(attempt_number: int) -> None:
        """Sleeps ``random() * (min(5000, 10 ** attempt_number) + 1)`` milliseconds (full jitter)."""
        exponential_back_off = min(SLEEP_CAP_MS, pow(SLEEP_BASE_MS, attempt_number))
        sleep(random.random() * (exponential_back_off + 1) / 1000)
