"""Errors (pyqldb-api.md §1.5, wire-protocol.md §3): QLDB errors reach the caller as botocore
``ClientError`` (``isinstance`` checked where botocore is importable) with
``response['Error']['Code']``, ``['Error']['Message']`` and ``['ResponseMetadata']['HTTPStatusCode']``:
BadRequestException (400) for bad PartiQL, unknown tables, duplicate tables and a DML on a missing
table, not retried and with nothing committed; the ``pyqldb.errors`` predicates on those real errors
and on non-ClientError exceptions; the classes of ``pyqldb.errors`` with their bases, messages and
fields."""

import pytest
from compatlib import BOTOCORE, assert_client_error, count, create_table
from pyqldb import errors
from pyqldb.config.retry_config import RetryConfig
from pyqldb.errors import (
    DriverClosedError,
    ExecuteError,
    IllegalStateError,
    LambdaAbortedError,
    ResultClosedError,
    SessionClosedError,
    SessionPoolEmptyError,
    StartTransactionError,
    TransactionClosedError,
    is_bad_request_exception,
    is_invalid_session_exception,
    is_occ_conflict_exception,
    is_retriable_exception,
    is_transaction_expired_exception,
)


@pytest.fixture(scope="module")
def table(driver):
    return create_table(driver, "Errs")


def failing(driver, table, statement, calls):
    def work(executor):
        calls.append(1)
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"marker": "before-error"}))
        return list(executor.execute_statement(statement))

    with pytest.raises(Exception) as error:
        driver.execute_lambda(work, RetryConfig(retry_limit=4, custom_backoff=lambda *a: 0))
    return error.value


@pytest.mark.parametrize("statement, message", [
    ("SELEKT * FROM Errs", None),
    ("SELECT * FROM NoSuchTable", None),
    ("CREATE TABLE Errs", None),
    ("DELETE FROM NoSuchTable", None),
    ("SELECT * FROM Errs WHERE a = ?", r"^Query expects 1 parameters, but statement has 0$"),
], ids=["syntax", "unknown-table", "duplicate-table", "delete-missing-table", "parameter-count"])
def test_bad_request(driver, table, statement, message):
    calls = []
    error = failing(driver, table, statement, calls)
    code, text, status = assert_client_error(error, code="BadRequestException", status=400, message=message)
    assert text, "a Message is always sent"
    assert calls == [1], "BadRequestException is not retried"
    assert count(driver, table, "WHERE marker = 'before-error'") == 0
    assert is_bad_request_exception(error) is True
    assert is_occ_conflict_exception(error) is False
    assert is_invalid_session_exception(error) is False
    assert is_retriable_exception(error) is False
    assert not is_transaction_expired_exception(error)
    if BOTOCORE:
        from botocore.exceptions import ClientError
        assert isinstance(error, ClientError)
        assert error.operation_name == "SendCommand"
        assert "BadRequestException" in str(error)


@pytest.mark.parametrize("exception", [ValueError("x"), KeyError("k"), RuntimeError(), LambdaAbortedError()])
def test_predicates_on_other_exceptions(exception):
    assert is_occ_conflict_exception(exception) is False
    assert is_bad_request_exception(exception) is False
    assert is_invalid_session_exception(exception) is False
    assert is_retriable_exception(exception) is False
    assert is_transaction_expired_exception(exception) is False


def test_error_classes():
    assert issubclass(IllegalStateError, Exception)
    for cls in (DriverClosedError, ResultClosedError, SessionClosedError, TransactionClosedError):
        assert issubclass(cls, IllegalStateError), cls
    for cls in (LambdaAbortedError, SessionPoolEmptyError, StartTransactionError, ExecuteError):
        assert issubclass(cls, Exception) and not issubclass(cls, IllegalStateError), cls

    assert str(DriverClosedError()) == \
        "Cannot invoke methods on a closed driver. Please create a new driver and retry."
    assert str(ResultClosedError("tok-123")) == (
        "A streamed result is only valid when the parent transaction is open. Please start a new transaction "
        "and retry.\nSessionToken: tok-123")
    assert str(SessionClosedError()) == \
        "Cannot invoke methods on a closed session. Please start a new session and retry."
    assert str(TransactionClosedError()) == \
        "Cannot invoke methods on a closed transaction. Please start a new transaction and retry."
    assert str(LambdaAbortedError()) == "Abort invoked; halting execution of lambda function."
    assert str(SessionPoolEmptyError(0.001)) == (
        "Session pool is empty after waiting for 0.001 seconds. Please close existing sessions first before "
        "retrying.")
    assert str(SessionPoolEmptyError(30)) == (
        "Session pool is empty after waiting for 30 seconds. Please close existing sessions first before "
        "retrying.")
    assert str(IllegalStateError("free text")) == "free text"

    cause = ValueError("cause")
    start = StartTransactionError(cause)
    assert str(start) == "Failed to start transaction" and start.error is cause
    execute = ExecuteError(cause, True, False, "txn-id")
    assert str(execute) == "Error containing the context of a failure during execute."
    assert (execute.error, execute.is_retryable, execute.is_invalid_session_exception, execute.transaction_id) == \
        (cause, True, False, "txn-id")
    assert ExecuteError(cause, False, True).transaction_id is None


def test_retryable_http_errors():
    names = sorted(cls.__name__ for cls in errors.RETRYABLE_HTTP_ERRORS)
    assert names == ["ConnectTimeoutError", "ConnectionClosedError", "EndpointConnectionError", "ReadTimeoutError"]
    assert all(issubclass(cls, Exception) for cls in errors.RETRYABLE_HTTP_ERRORS)


@pytest.mark.requires("botocore")
def test_predicates_on_synthetic_client_errors():
    """The predicates read only the response dict of a botocore ClientError."""
    from botocore.exceptions import ClientError, ReadTimeoutError

    def client_error(code, status=400, message=None):
        body = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
        if message is not None:
            body["Error"]["Message"] = message
        return ClientError(body, "SendCommand")

    expired = client_error("InvalidSessionException", message="Transaction 1234567890123456789012 has expired")
    assert is_transaction_expired_exception(expired)
    assert is_invalid_session_exception(expired) is True
    assert is_retriable_exception(expired) is False
    no_session = client_error("InvalidSessionException", message="No such session")
    assert not is_transaction_expired_exception(no_session)
    assert is_retriable_exception(no_session) is True
    assert is_retriable_exception(client_error("OccConflictException")) is True
    assert is_retriable_exception(client_error("InternalFailure", 500)) is True
    assert is_retriable_exception(client_error("ServiceUnavailable", 503)) is True
    assert is_retriable_exception(client_error("CapacityExceededException", 503)) is True
    assert is_retriable_exception(client_error("NoHttpResponseException")) is True
    assert is_retriable_exception(client_error("SocketTimeoutException")) is True
    assert is_retriable_exception(client_error("RateExceededException")) is False
    assert is_retriable_exception(client_error("LimitExceededException")) is False
    assert is_retriable_exception(client_error("BadRequestException")) is False
    assert is_retriable_exception(ReadTimeoutError(endpoint_url="http://x")) is True
    assert is_bad_request_exception(client_error("BadRequestException")) is True
