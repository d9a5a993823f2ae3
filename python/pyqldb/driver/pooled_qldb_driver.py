"""``PooledQldbDriver``: pyqldb 2.x's pooling driver (pyqldb-api.md §5, §8).

A pool of ``pool_limit`` permits (``threading.BoundedSemaphore``) and a FIFO of idle sessions:

- :py:meth:`PooledQldbDriver.get_session` waits up to ``timeout`` seconds (default 30) for a permit, else
  raises ``SessionPoolEmptyError``; it then reuses the oldest idle session that passes a check (an
  AbortTransaction, which also ends a transaction left open; sessions failing it are dropped), or starts a new
  one. A failure to start a session gives the permit back and is raised (not retried).
- The :py:class:`pyqldb.session.pooled_qldb_session.PooledQldbSession` it returns gives its session back to the
  pool on ``close()`` (no EndSession) and frees the permit.
- :py:meth:`PooledQldbDriver.execute_statement` / :py:meth:`PooledQldbDriver.execute_lambda` take a session this
  way and run the session's retry loop (see :py:mod:`pyqldb.session.qldb_session`) on it.
- :py:meth:`PooledQldbDriver.close` ends the idle sessions; sessions in use are ended when given back (pyqldb 2.x
  pooled them again and never ended them).

Sessions, commands, Ion conversion and commit digests are native (``pyqldb._native.RawSessionClient``,
``RawIonParam``, ``RawCommitDigest``); the pool and the retry loop are Python, so that sessions lent by
``get_session()`` and those used by ``execute_*`` share one pool and one set of permits.
"""

from __future__ import annotations

from logging import getLogger
from queue import Empty, Queue
from threading import BoundedSemaphore, Lock
from typing import Any, Callable, Optional

from ..cursor.buffered_cursor import BufferedCursor
from ..errors import DriverClosedError, SessionPoolEmptyError
from ..execution.executable import Executable
from ..execution.executor import Executor
from ..session.pooled_qldb_session import PooledQldbSession
from ..session.qldb_session import QldbSession, _no_retry_indicator
from ..util.atomic_integer import AtomicInteger
from .base_qldb_driver import BaseQldbDriver

logger = getLogger(__name__)
DEFAULT_TIMEOUT_SECONDS = 30


class PooledQldbDriver(BaseQldbDriver, Executable):
    """
    A factory of pooled sessions to one ledger, and the entry point of pyqldb 2.x's ``execute_statement`` /
    ``execute_lambda`` (see the module docs). Shared by threads; each session is used by one thread at a time.
    Close sessions from :py:meth:`get_session` when done (or use them as context managers): a session never
    closed keeps its pool permit. Close the driver when no longer needed.

    Arguments as :py:class:`pyqldb.driver.base_qldb_driver.BaseQldbDriver`, and:

    :type pool_limit: int
    :param pool_limit: The number of sessions lent at a time; 0 means ``config.max_pool_connections`` (10 by
                       default), which it may not exceed.

    :type timeout: float
    :param timeout: How long :py:meth:`get_session` waits for a free session, in seconds.

    :raises TypeError: When ``config`` or ``boto3_session`` has the wrong type.
    :raises ValueError: When ``retry_limit``, ``pool_limit`` or ``timeout`` is negative, ``read_ahead`` is 1 or
                        negative, or ``pool_limit`` exceeds ``config.max_pool_connections``.
    """

    def __init__(
        self,
        ledger_name: str,
        retry_limit: int = 4,
        read_ahead: int = 0,
        executor: Any = None,
        region_name: Optional[str] = None,
        verify: Any = None,
        endpoint_url: Optional[str] = None,
        aws_access_key_id: Optional[str] = None,
        aws_secret_access_key: Optional[str] = None,
        aws_session_token: Optional[str] = None,
        config: Any = None,
        boto3_session: Any = None,
        pool_limit: int = 0,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(
            ledger_name,
            retry_limit,
            read_ahead,
            executor,
            region_name,
            verify,
            endpoint_url,
            aws_access_key_id,
            aws_secret_access_key,
            aws_session_token,
            config,
            boto3_session,
        )
        if pool_limit < 0:
            raise ValueError("Value for pool_limit cannot be negative.")
        if timeout < 0:
            raise ValueError("Value for timeout cannot be negative.")

        client_pool_limit = self._config.max_pool_connections
        self._pool_limit = client_pool_limit if pool_limit == 0 else pool_limit
        if self._pool_limit > client_pool_limit:
            raise ValueError(
                "The session pool limit given, {}, exceeds the limit set by the client, {}. Please lower the "
                "limit and retry.".format(str(self._pool_limit), str(client_pool_limit))
            )

        self._pool_permits = BoundedSemaphore(self._pool_limit)
        self._pool_permits_counter = AtomicInteger(self._pool_limit)
        self._pool: Queue[QldbSession] = Queue()
        self._timeout = timeout
        # Orders a session's return against close(): either it is queued before close() drains the queue, or it
        # sees the driver closed and is ended.
        self._pool_lock = Lock()

    def close(self) -> None:
        """Close the driver: later calls raise ``DriverClosedError``; idle sessions are ended now (EndSession,
        failures logged), sessions in use when they are given back."""
        with self._pool_lock:
            super().close()
            idle = []
            while True:
                try:
                    idle.append(self._pool.get_nowait())
                except Empty:
                    break
        for session in idle:
            session.close()

    def execute_statement(
        self, statement: str, *parameters: Any, retry_indicator: Callable[[int], Any] = _no_retry_indicator
    ) -> BufferedCursor:
        """
        Execute one statement in its own transaction on a pooled session, with retries, and return its whole
        result.

        :type statement: str
        :param statement: The PartiQL statement.

        :type parameters: Variable length argument list
        :param parameters: Python natives or ``IonPy*`` values, one per ``?``.

        :type retry_indicator: function
        :param retry_indicator: Called with the attempt number (from 1) before each retry.

        :rtype: :py:class:`pyqldb.cursor.buffered_cursor.BufferedCursor`

        :raises DriverClosedError: When this driver is closed.
        :raises SessionPoolEmptyError: When no session was free within ``timeout`` seconds.
        :raises IllegalStateError: When the commit digest returned by QLDB does not match.
        :raises ClientError: When QLDB rejects a command (after the retries, if retryable).
        :raises TypeError: When a parameter cannot be converted to Ion.
        """
        with self.get_session() as session:
            return session.execute_statement(statement, *parameters, retry_indicator=retry_indicator)

    def execute_lambda(
        self, query_lambda: Callable[[Executor], Any], retry_indicator: Callable[[int], Any] = _no_retry_indicator
    ) -> Any:
        """
        Run ``query_lambda(executor)`` in a transaction on a pooled session, commit, and return its result,
        retrying the whole transaction on OCC conflicts and other retryable errors (see
        :py:meth:`pyqldb.session.qldb_session.QldbSession.execute_lambda`). A cursor it returns is read into a
        :py:class:`pyqldb.cursor.buffered_cursor.BufferedCursor` before the commit.

        :type query_lambda: function
        :param query_lambda: Receives a :py:class:`pyqldb.execution.executor.Executor`.

        :type retry_indicator: function
        :param retry_indicator: Called with the attempt number (from 1) before each retry.

        :return: What the lambda returned.

        :raises DriverClosedError: When this driver is closed.
        :raises SessionPoolEmptyError: When no session was free within ``timeout`` seconds.
        :raises IllegalStateError: When the commit digest returned by QLDB does not match.
        :raises ClientError: When QLDB rejects a command (after the retries, if retryable).
        :raises LambdaAbortedError: When the lambda called :py:meth:`pyqldb.execution.executor.Executor.abort`.
        """
        with self.get_session() as session:
            return session.execute_lambda(query_lambda, retry_indicator)

    def get_session(self) -> PooledQldbSession:
        """
        A session from the pool: an idle one that passes its check, else a new one (StartSession), waiting up to
        ``timeout`` seconds while ``pool_limit`` sessions are lent. Close it to give it back.

        :rtype: :py:class:`pyqldb.session.pooled_qldb_session.PooledQldbSession`

        :raises DriverClosedError: When this driver is closed.
        :raises SessionPoolEmptyError: When no session was free within ``timeout`` seconds.
        :raises ClientError: When a new session cannot be started.
        """
        if self._is_closed:
            raise DriverClosedError
        logger.debug(
            "Getting session. Current free session count: %d. Current available permit count: %d.",
            self._pool.qsize(),
            self._pool_permits_counter.value,
        )
        if not self._pool_permits.acquire(timeout=self._timeout):
            raise SessionPoolEmptyError(self._timeout)
        self._pool_permits_counter.decrement()
        try:
            while True:
                try:
                    session = self._pool.get_nowait()
                except Empty:
                    break
                if session._abort_or_close():
                    logger.debug("Reusing session from pool. Session ID: %s.", session.session_id)
                    return PooledQldbSession(session, self._release_session)
            logger.debug("Creating new pooled session.")
            return PooledQldbSession(self._create_new_session(), self._release_session)
        except BaseException:
            # No session lent: no permit used.
            self._release_permit()
            raise

    def _release_session(self, session: QldbSession) -> None:
        """Gives a session back: into the idle queue, or, once the driver is closed, ended. Frees its permit."""
        with self._pool_lock:
            closed = self._is_closed
            if not closed:
                self._pool.put(session)
        try:
            if closed:
                session.close()
        finally:
            self._release_permit()
        logger.debug("Session returned to pool; size is now: %d", self._pool.qsize())

    def _release_permit(self) -> None:
        self._pool_permits.release()
        self._pool_permits_counter.increment()
