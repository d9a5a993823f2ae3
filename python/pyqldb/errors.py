"""Exceptions and error predicates of pyqldb 3.x (``pyqldb.errors``), with pyqldb's messages.

Errors answered by QLDB (or by the embedded ledger) are raised as :class:`QldbClientError`: when
botocore is installed it is a subclass of ``botocore.exceptions.ClientError`` with the same
``response`` dict (``Error.Code``, ``Error.Message``, ``ResponseMetadata.HTTPStatusCode`` and
``RequestId``), so existing ``except ClientError`` clauses and the predicates below keep working;
without botocore, ``ClientError`` here is a compatible stand-in with the same constructor and fields.
A request that got no answer raises :class:`QldbTransportError`, a ``ConnectionClosedError`` (one
of :data:`RETRYABLE_HTTP_ERRORS`).
"""

import re

try:  # botocore is optional: only needed to catch errors as botocore's own classes.
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    HAS_BOTOCORE = True
except ImportError:  # pragma: no cover - exercised in environments without botocore
    HAS_BOTOCORE = False

    class ClientError(Exception):
        """Stand-in for ``botocore.exceptions.ClientError`` (same constructor, message and fields)."""

        MSG_TEMPLATE = "An error occurred ({error_code}) when calling the {operation_name} operation: {error_message}"

        def __init__(self, error_response, operation_name):
            error = error_response.get("Error", {})
            super().__init__(
                self.MSG_TEMPLATE.format(
                    error_code=error.get("Code", "Unknown"),
                    error_message=error.get("Message", "Unknown"),
                    operation_name=operation_name,
                )
            )
            self.response = error_response
            self.operation_name = operation_name

        def __reduce__(self):
            return ClientError, (self.response, self.operation_name)

    class _BotoCoreError(Exception):
        fmt = "An unspecified error occurred"

        def __init__(self, **kwargs):
            super().__init__(self.fmt.format(**kwargs))
            self.kwargs = kwargs

    class ReadTimeoutError(_BotoCoreError):
        fmt = 'Read timeout on endpoint URL: "{endpoint_url}"'

    class EndpointConnectionError(_BotoCoreError):
        fmt = 'Could not connect to the endpoint URL: "{endpoint_url}"'

    class ConnectionClosedError(_BotoCoreError):
        fmt = 'Connection was closed before we received a valid response from endpoint URL: "{endpoint_url}".'

    class ConnectTimeoutError(_BotoCoreError):
        fmt = 'Connect timeout on endpoint URL: "{endpoint_url}"'


RETRYABLE_HTTP_ERRORS = (ReadTimeoutError, EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError)


class QldbClientError(ClientError):
    """An error answered by QLDB: a ``ClientError`` of the ``SendCommand`` operation."""

    @classmethod
    def _from_native(cls, code, message, http_status, request_id):
        if code is None:
            code = str(http_status) if http_status is not None else "Unknown"
        metadata = {"HTTPStatusCode": http_status, "HTTPHeaders": {}, "RetryAttempts": 0}
        if request_id is not None:
            metadata["RequestId"] = request_id
            metadata["HTTPHeaders"]["x-amzn-requestid"] = request_id
        response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": metadata}
        return cls(response, "SendCommand")

    def __reduce__(self):
        return QldbClientError, (self.response, self.operation_name)


class QldbTransportError(ConnectionClosedError):
    """A request that got no answer (connection refused, reset or dropped, or a timeout)."""

    fmt = "{message}"

    def __init__(self, message, endpoint_url=None):
        super().__init__(message=message, endpoint_url=endpoint_url)

    def __reduce__(self):
        return QldbTransportError, (str(self), self.kwargs.get("endpoint_url"))


class IllegalStateError(Exception):
    pass


class DriverClosedError(IllegalStateError):
    def __init__(self):
        super().__init__("Cannot invoke methods on a closed driver. Please create a new driver and retry.")


class ResultClosedError(IllegalStateError):
    def __init__(self, session_token):
        super().__init__(
            "A streamed result is only valid when the parent transaction is open. Please start a new "
            "transaction and retry.\nSessionToken: {}".format(session_token)
        )


class SessionClosedError(IllegalStateError):
    def __init__(self):
        super().__init__("Cannot invoke methods on a closed session. Please start a new session and retry.")


class TransactionClosedError(IllegalStateError):
    def __init__(self):
        super().__init__("Cannot invoke methods on a closed transaction. Please start a new transaction and retry.")


class LambdaAbortedError(Exception):
    def __init__(self):
        super().__init__("Abort invoked; halting execution of lambda function.")


class SessionPoolEmptyError(Exception):
    def __init__(self, timeout):
        super().__init__(
            "Session pool is empty after waiting for {} seconds. Please close existing sessions first "
            "before retrying.".format(str(timeout))
        )


class StartTransactionError(Exception):
    def __init__(self, error):
        super().__init__("Failed to start transaction")
        self.error = error


class ExecuteError(Exception):
    def __init__(self, error, is_retryable, is_invalid_session_exception, transaction_id=None):
        super().__init__("Error containing the context of a failure during execute.")
        self.error = error
        self.is_retryable = is_retryable
        self.is_invalid_session_exception = is_invalid_session_exception
        self.transaction_id = transaction_id


def _code(e):
    return e.response.get("Error", {}).get("Code")


def is_occ_conflict_exception(e):
    """Whether ``e`` is a ``ClientError`` with code ``OccConflictException``."""
    if isinstance(e, ClientError):
        return _code(e) == "OccConflictException"
    return False


def is_bad_request_exception(e):
    """Whether ``e`` is a ``ClientError`` with code ``BadRequestException``."""
    if isinstance(e, ClientError):
        return _code(e) == "BadRequestException"
    return False


def is_invalid_session_exception(e):
    """Whether ``e`` is a ``ClientError`` with code ``InvalidSessionException``."""
    if isinstance(e, ClientError):
        return _code(e) == "InvalidSessionException"
    return False


def is_transaction_expired_exception(e):
    """Whether ``e`` is an ``InvalidSessionException`` saying ``Transaction <id> has expired``: the
    match object (truthy) or a false value, as pyqldb returns."""
    if isinstance(e, ClientError):
        is_invalid_session = _code(e) == "InvalidSessionException"
        if "Message" in e.response.get("Error", {}):
            return is_invalid_session and re.search("Transaction .* has expired", e.response["Error"]["Message"])
    return False


def is_retriable_exception(e):
    """pyqldb 3.x's retry classification: HTTP 500/503, ``NoHttpResponseException``,
    ``SocketTimeoutException``, OCC conflicts, invalid sessions other than transaction expiry, and
    :data:`RETRYABLE_HTTP_ERRORS`."""
    if isinstance(e, ClientError):
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status in (500, 503) or _code(e) in ("NoHttpResponseException", "SocketTimeoutException"):
            return True
    return bool(
        isinstance(e, RETRYABLE_HTTP_ERRORS)
        or is_occ_conflict_exception(e)
        or (is_invalid_session_exception(e) and not is_transaction_expired_exception(e))
    )
