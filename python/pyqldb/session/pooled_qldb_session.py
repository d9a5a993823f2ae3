"""``PooledQldbSession``: a session lent by :py:class:`pyqldb.driver.pooled_qldb_driver.PooledQldbDriver`
(pyqldb 2.x). It delegates to a :py:class:`pyqldb.session.qldb_session.QldbSession`; ``close()`` gives that
session back to the pool (no EndSession) and frees the pool permit, after which every member raises
``SessionClosedError``."""

from __future__ import annotations

from logging import getLogger
from typing import Any, Callable, Optional

from ..cursor.buffered_cursor import BufferedCursor
from ..errors import SessionClosedError
from ..execution.executor import Executor
from ..transaction.transaction import Transaction
from .base_qldb_session import BaseQldbSession
from .qldb_session import QldbSession, _no_retry_indicator

logger = getLogger(__name__)


class PooledQldbSession(BaseQldbSession):
    """
    A pooled session: see :py:class:`pyqldb.session.qldb_session.QldbSession` for the members. Close it (or use
    it as a context manager) to return it to the pool; a session never closed keeps its pool permit.

    :type qldb_session: :py:class:`pyqldb.session.qldb_session.QldbSession`
    :param qldb_session: The session lent.

    :type return_session_to_pool: function
    :param return_session_to_pool: Called with ``qldb_session`` once, by :py:meth:`close`.
    """

    def __init__(self, qldb_session: QldbSession, return_session_to_pool: Callable[[QldbSession], Any]) -> None:
        self._qldb_session = qldb_session
        self._return_session_to_pool = return_session_to_pool
        self._is_closed = False

    @property
    def ledger_name(self) -> str:
        """The **read-only** ledger name.

        :raises SessionClosedError: When this session is closed."""
        return self._invoke_on_session(lambda: self._qldb_session.ledger_name)

    @property
    def session_id(self) -> Optional[str]:
        """The **read-only** session ID.

        :raises SessionClosedError: When this session is closed."""
        return self._invoke_on_session(lambda: self._qldb_session.session_id)

    @property
    def session_token(self) -> str:
        """The **read-only** session token.

        :raises SessionClosedError: When this session is closed."""
        return self._invoke_on_session(lambda: self._qldb_session.session_token)

    def close(self) -> None:
        """Return the session to the pool. No-op when already closed."""
        if not self._is_closed:
            self._is_closed = True
            self._return_session_to_pool(self._qldb_session)

    def execute_statement(
        self, statement: str, *parameters: Any, retry_indicator: Callable[[int], Any] = _no_retry_indicator
    ) -> BufferedCursor:
        """See :py:meth:`pyqldb.session.qldb_session.QldbSession.execute_statement`.

        :raises SessionClosedError: When this session is closed."""
        return self._invoke_on_session(
            lambda: self._qldb_session.execute_statement(statement, *parameters, retry_indicator=retry_indicator)
        )

    def execute_lambda(
        self, query_lambda: Callable[[Executor], Any], retry_indicator: Callable[[int], Any] = _no_retry_indicator
    ) -> Any:
        """See :py:meth:`pyqldb.session.qldb_session.QldbSession.execute_lambda`.

        :raises SessionClosedError: When this session is closed."""
        return self._invoke_on_session(lambda: self._qldb_session.execute_lambda(query_lambda, retry_indicator))

    def list_tables(self) -> BufferedCursor:
        """See :py:meth:`pyqldb.session.qldb_session.QldbSession.list_tables`.

        :raises SessionClosedError: When this session is closed."""
        return self._invoke_on_session(self._qldb_session.list_tables)

    def start_transaction(self) -> Transaction:
        """See :py:meth:`pyqldb.session.qldb_session.QldbSession.start_transaction`.

        :raises SessionClosedError: When this session is closed."""
        return self._invoke_on_session(self._qldb_session.start_transaction)

    def throw_if_closed(self) -> None:
        """
        :raises SessionClosedError: When this session is closed.
        """
        if self._is_closed:
            raise SessionClosedError

    _throw_if_closed = throw_if_closed

    def _invoke_on_session(self, session_function: Callable[[], Any]) -> Any:
        self.throw_if_closed()
        return session_function()
