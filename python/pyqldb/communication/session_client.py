"""``SessionClient``: one QLDB session and its commands (pyqldb 2.x's public names, 3.x's private ones).

The commands go through the native session (``pyqldb._native.RawSessionClient``): the request is sent with
the GIL released, parameters are converted to Ion natively, and each result is a dict shaped like the
botocore ``send_command`` output for that command (``{'FirstPage': {'Values': [{'IonBinary': b'...'}],
'NextPageToken': ...}, 'ConsumedIOs': ..., 'TimingInformation': ...}`` for ExecuteStatement,
``{'Page': ...}`` for FetchPage, ``{'TransactionId', 'CommitDigest', ...}`` for CommitTransaction). Nothing
is retried and the commit digest is not checked here: that is the caller's job
(:py:class:`pyqldb.transaction.transaction.Transaction`). Failures are raised as ``ClientError``
(:py:class:`pyqldb.errors.QldbClientError`) or, with no answer, :py:class:`pyqldb.errors.QldbTransportError`.

``client`` is the driver's client (a ``pyqldb._native.RawClient``), not a boto3 client.
"""

from __future__ import annotations

from logging import getLogger
from typing import Any, Iterable, Optional

from .. import _native
from ..errors import RETRYABLE_HTTP_ERRORS, ClientError

logger = getLogger(__name__)


class SessionClient:
    """
    An independent session to a QLDB ledger that sends the session's commands. Used by the drivers and
    :py:class:`pyqldb.session.qldb_session.QldbSession`; not meant to be used directly.

    :type ledger_name: str
    :param ledger_name: The QLDB ledger name.

    :type token: str
    :param token: The session token (from StartSession).

    :type client: :py:class:`pyqldb._native.RawClient`
    :param client: The driver's client.

    :type session_id: str
    :param session_id: The session ID (StartSession's request ID).
    """

    def __init__(self, ledger_name: str, token: str, client: Any, session_id: Optional[str]) -> None:
        self._ledger_name = ledger_name
        self._token = token
        self._client = client
        self._session_id = session_id
        self._raw: Optional[_native.RawSessionClient] = None

    def __enter__(self):
        """Context manager: returns the session client."""
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> None:
        """Context manager: closes the session (errors are logged)."""
        self.close()

    @property
    def client(self) -> Any:
        """The **read-only** client."""
        return self._client

    @property
    def id(self) -> Optional[str]:
        """The **read-only** ID of this session."""
        return self._session_id

    @property
    def ledger_name(self) -> str:
        """The **read-only** ledger name."""
        return self._ledger_name

    @property
    def token(self) -> str:
        """The **read-only** session token."""
        return self._token

    @property
    def _session(self) -> _native.RawSessionClient:
        raw = self._raw
        if raw is None:
            # Made from a token (the constructor): a native session over the client's endpoint.
            raw = self._raw = _native.RawSessionClient(
                self._client, self._ledger_name, self._token, self._session_id or ""
            )
        return raw

    @staticmethod
    def start_session(ledger_name: str, client: Any) -> SessionClient:
        """
        Start a new session on ``ledger_name`` (StartSession).

        :type ledger_name: str
        :param ledger_name: The ledger name.

        :type client: :py:class:`pyqldb._native.RawClient`
        :param client: The driver's client.

        :rtype: :py:class:`pyqldb.communication.session_client.SessionClient`
        :return: The new session.

        :raises ClientError: When QLDB refuses the session (e.g. an unknown ledger: ``BadRequestException``).
        """
        logger.debug("Initiating new session.")
        raw = _native.RawSessionClient.start_session(client, ledger_name)
        session = SessionClient(ledger_name, raw.token, client, raw.id)
        session._raw = raw
        return session

    def start_transaction(self) -> dict:
        """
        Start a transaction (StartTransaction).

        :rtype: dict
        :return: ``{'TransactionId': id}``.
        """
        return self._session.start_transaction()

    def execute_statement(self, transaction_id: str, statement: str, parameters: Iterable[Any]) -> dict:
        """
        Execute a statement (ExecuteStatement).

        :type transaction_id: str
        :param transaction_id: The ID of the transaction.

        :type statement: str
        :param statement: The statement.

        :type parameters: list
        :param parameters: Python or ``IonPy*`` values (or ``pyqldb._native.RawIonParam``), one per ``?``.

        :rtype: dict
        :return: ``{'FirstPage': {'Values': [...], 'NextPageToken': ...}, 'ConsumedIOs': ..., 'TimingInformation': ...}``.

        :raises TypeError: When a parameter cannot be converted to Ion.
        """
        return self._session.execute_statement(transaction_id, statement, list(parameters))

    def fetch_page(self, transaction_id: str, next_page_token: str) -> dict:
        """
        Fetch the next page of a result (FetchPage).

        :rtype: dict
        :return: ``{'Page': {'Values': [...], 'NextPageToken': ...}, 'ConsumedIOs': ..., 'TimingInformation': ...}``.
        """
        return self._session.fetch_page(transaction_id, next_page_token)

    def commit_transaction(self, transaction_id: str, commit_digest: bytes) -> dict:
        """
        Commit a transaction (CommitTransaction) with its 32-byte commit digest.

        :rtype: dict
        :return: ``{'TransactionId': id, 'CommitDigest': digest, ...}``: the digest QLDB returned, not checked.
        """
        return self._session.commit_transaction(transaction_id, commit_digest)

    def abort_transaction(self) -> dict:
        """
        Abort the open transaction, if any (AbortTransaction).

        :rtype: dict
        """
        return self._session.abort_transaction()

    def end_session(self) -> dict:
        """
        End this session (EndSession).

        :rtype: dict
        """
        return self._session.end_session()

    def close(self) -> None:
        """End this session; a failure is only logged (QLDB ends idle sessions itself)."""
        try:
            self.end_session()
        except (ClientError, *RETRYABLE_HTTP_ERRORS) as e:
            logger.warning("Errors closing session: %s", e)

    # pyqldb 3.x's private names of the same commands.
    _start_session = start_session
    _start_transaction = start_transaction
    _execute_statement = execute_statement
    _fetch_page = fetch_page
    _commit_transaction = commit_transaction
    _abort_transaction = abort_transaction
    _end_session = end_session
    _close = close

    @staticmethod
    def _to_value_holder(parameter: Any) -> dict:
        """The ``{'IonBinary': ...}`` value holder sent for a parameter (a complete binary Ion stream)."""
        if not isinstance(parameter, _native.RawIonParam):
            parameter = _native.RawIonParam(parameter)
        return {"IonBinary": parameter.binary}
