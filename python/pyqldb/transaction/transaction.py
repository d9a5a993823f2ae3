"""``Transaction``: an open QLDB transaction on a session, driven by hand (pyqldb 2.x's public class).

Made by :py:meth:`pyqldb.session.qldb_session.QldbSession.start_transaction`. Statements are sent through the
session's native client; each parameter is converted to Ion once, natively (``pyqldb._native.RawIonParam``),
and the commit digest is folded natively (``pyqldb._native.RawCommitDigest``) from the same values that are
sent. Nothing here is retried: an OCC conflict at :py:meth:`Transaction.commit` reaches the caller.

Cursors returned by :py:meth:`Transaction.execute_statement` are valid while the transaction is open; commit,
abort and close close them (iterating then raises ``ResultClosedError``). They also report the statement's
statistics (``get_consumed_ios()``, ``get_timing_information()``), which pyqldb 2.x cursors did not have.

pyqldb 3.x's private names (``_commit``, ``_execute_statement``, ``_close_child_cursors``, ``_update_hash``,
``_to_ion``, ``_txn_hash``) are kept as well.
"""

from __future__ import annotations

from logging import getLogger
from typing import Any, List, Optional

from .. import _native
from ..cursor.read_ahead_cursor import ReadAheadCursor
from ..cursor.stream_cursor import StreamCursor
from ..errors import (
    RETRYABLE_HTTP_ERRORS,
    ClientError,
    IllegalStateError,
    TransactionClosedError,
    is_occ_conflict_exception,
)

logger = getLogger(__name__)


class Transaction:
    """
    A QLDB transaction on one session. Only one transaction can be open per session at a time: commit or abort
    it (or use it as a context manager, which aborts it unless it was committed) before starting another.

    After an unexpected error the transaction's state is ambiguous: start a new one rather than retrying on it.
    An OCC conflict closes the transaction; re-run its statements in a new one.

    :type session: :py:class:`pyqldb.communication.session_client.SessionClient`
    :param session: The session the transaction runs on.

    :type read_ahead: int
    :param read_ahead: 0, or the number of result pages buffered ahead plus one (2 or more).

    :type transaction_id: str
    :param transaction_id: The ID StartTransaction returned.

    :type executor: :py:class:`concurrent.futures.Executor`
    :param executor: Runs read-ahead retrievals; without one a daemon thread does.
    """

    def __init__(self, session: Any, read_ahead: int, transaction_id: str, executor: Any) -> None:
        self._session = session
        self._read_ahead = read_ahead
        self._cursors: List[StreamCursor] = []
        self._is_closed = False
        self._id = transaction_id
        self._digest = _native.RawCommitDigest(transaction_id)
        self._executor = executor

    def __enter__(self):
        """Context manager: returns the transaction."""
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> None:
        """Context manager: closes the transaction (aborts it unless committed or aborted)."""
        self.close()

    @property
    def is_closed(self) -> bool:
        """The **read-only** flag: whether this transaction was committed or aborted."""
        return self._is_closed

    @property
    def transaction_id(self) -> str:
        """The **read-only** ID of this transaction."""
        return self._id

    @property
    def _txn_hash(self):
        """The commit digest so far (a :py:class:`pyqldb.util.qldb_hash.QldbHash`): the hash of the transaction
        ID, ``dot`` each statement's hash."""
        from ..util.qldb_hash import QldbHash

        return QldbHash(self._digest.digest)

    def abort(self) -> None:
        """
        Abort this transaction (AbortTransaction) and close its cursors. No-op once committed or aborted.

        :raises ClientError: When QLDB refuses the abort.
        """
        if not self._is_closed:
            self._internal_close()
            self._session.abort_transaction()

    def close(self) -> None:
        """Close this transaction: abort it unless committed or aborted; a failed abort is only logged."""
        try:
            self.abort()
        except (ClientError, *RETRYABLE_HTTP_ERRORS) as e:
            logger.warning("Ignored error aborting transaction when closing: %s", e)

    def commit(self) -> None:
        """
        Commit this transaction (CommitTransaction with the commit digest) and close its cursors. On a
        ``ClientError`` other than an OCC conflict the transaction is aborted before the error is raised.

        :raises TransactionClosedError: When this transaction is already committed or aborted.
        :raises IllegalStateError: When the commit digest QLDB returned does not match.
        :raises ClientError: When QLDB refuses the commit (``OccConflictException`` after a conflict).
        """
        if self._is_closed:
            raise TransactionClosedError
        try:
            digest = self._digest.digest
            result = self._session.commit_transaction(self._id, digest)
            if result.get("CommitDigest") != digest:
                raise IllegalStateError(
                    "Transaction's commit digest did not match returned value from QLDB. Please retry with a new "
                    "transaction. Transaction ID: {}".format(self._id)
                )
        except ClientError as ce:
            if not is_occ_conflict_exception(ce):
                # An OCC conflict already ended the transaction on the server: no abort for it.
                self.close()
            raise
        finally:
            self._internal_close()

    def execute_statement(self, statement: str, *parameters: Any) -> StreamCursor:
        """
        Execute a statement in this transaction.

        :type statement: str
        :param statement: The PartiQL statement.

        :type parameters: Variable length argument list
        :param parameters: Python natives (int, bool, float, Decimal, datetime, str, bytes, list, tuple, dict,
                           None) or ``amazon.ion`` ``IonPy*`` values, one per ``?``.

        :rtype: :py:class:`pyqldb.cursor.stream_cursor.StreamCursor`
        :return: A cursor on the result (a :py:class:`pyqldb.cursor.read_ahead_cursor.ReadAheadCursor` with
                 read-ahead), valid until the transaction ends.

        :raises TransactionClosedError: When this transaction is committed or aborted.
        :raises TypeError: When a parameter cannot be converted to Ion.
        :raises ClientError: When QLDB rejects the statement.
        """
        if self._is_closed:
            raise TransactionClosedError
        params = [_native.RawIonParam(p) for p in parameters]
        self._digest.add_statement(statement, params)
        statement_result = self._session.execute_statement(self._id, statement, params)
        if self._read_ahead > 0:
            cursor = ReadAheadCursor(statement_result, self._session, self._id, self._read_ahead, self._executor)
        else:
            cursor = StreamCursor(statement_result, self._session, self._id)
        self._cursors.append(cursor)
        return cursor

    def _internal_close(self) -> None:
        """Marks this transaction closed and closes its cursors (read-ahead retrievals stop)."""
        self._is_closed = True
        self._close_child_cursors()

    def _close_child_cursors(self) -> None:
        """Closes the cursors of this transaction's statements."""
        while self._cursors:
            self._cursors.pop().close()

    def _update_hash(self, statement: str, parameters: Optional[List[Any]] = None) -> None:
        """Folds a statement and its parameters into the commit digest (without sending anything)."""
        self._digest.add_statement(statement, [_native.RawIonParam(p) for p in parameters or ()])

    @staticmethod
    def _to_ion(obj: Any) -> Any:
        """``obj`` as an ``IonPy*`` value: as is when it already is one, else converted through Ion.

        :raises TypeError: When ``obj`` cannot be converted.
        """
        if hasattr(obj, "ion_annotations"):
            return obj
        return _native.ion_loads(_native.RawIonParam(obj).binary)

    # pyqldb 3.x's private names.
    _abort = abort
    _close = close
    _commit = commit
    _execute_statement = execute_statement
