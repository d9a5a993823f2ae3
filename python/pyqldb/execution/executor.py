"""``Executor``: what a transaction lambda receives (``execute_statement``, ``abort``, ``transaction_id``)."""

from logging import getLogger

from .. import _native
from ..cursor.read_ahead_cursor import ReadAheadCursor
from ..cursor.stream_cursor import StreamCursor
from ..errors import LambdaAbortedError

logger = getLogger(__name__)


class Executor:
    """
    Runs statements in the transaction a lambda was given.

    :type transaction: object
    :param transaction: The transaction: a native one from the driver, or any object with
                        ``transaction_id`` and ``_execute_statement(statement, *parameters)``.
    """

    def __init__(self, transaction):
        self._transaction = transaction

    @property
    def transaction_id(self):
        """The **read-only** ID of this transaction."""
        return self._transaction.transaction_id

    def abort(self):
        """Abort the transaction and roll back any changes: the driver sends AbortTransaction and
        ``execute_lambda`` raises this error, without retrying.

        :raises LambdaAbortedError: Always.
        """
        if isinstance(self._transaction, _native.RawTransaction):
            self._transaction.abort()
        raise LambdaAbortedError

    def execute_statement(self, statement, *parameters):
        """
        Execute a statement.

        :type statement: str
        :param statement: The PartiQL statement.

        :type parameters: Variable length argument list
        :param parameters: Python natives (int, bool, float, Decimal, datetime, str, bytes, list, tuple,
                           dict, None) or ``amazon.ion`` ``IonPy*`` values, one per ``?``.

        :rtype: :py:class:`pyqldb.cursor.stream_cursor.StreamCursor`
        :return: A cursor on the result (a ``ReadAheadCursor`` when the driver reads ahead).

        :raises TypeError: When a parameter cannot be converted to Ion.
        :raises ClientError: When QLDB rejects the statement.
        """
        transaction = self._transaction
        if isinstance(transaction, _native.RawTransaction):
            raw = transaction.execute_statement(statement, *parameters)
            cls = ReadAheadCursor if transaction.read_ahead > 0 else StreamCursor
            return cls._from_native(raw)
        return transaction._execute_statement(statement, *parameters)
