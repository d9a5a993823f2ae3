"""pyqldb 2.x sessions, transactions and ``SessionClient`` (pyqldb-api.md §4, §8), on the embedded engine and
against qldb-local with injected faults; the commands sent are recorded by the native client.

``QldbSession.execute_lambda``'s retry rules: OCC conflicts retried on the same session without an abort after a
failed commit, up to ``retry_limit`` retries; an ``InvalidSessionException`` (transaction expiry included,
unlike 3.x) retried on a new session with no free retry; HTTP 500 retried after an abort; other 400s, the
lambda's own exceptions and ``LambdaAbortedError`` aborted and raised; a failing StartSession during recovery
raised; ``retry_indicator`` before each full-jitter sleep, whose bounds are checked. ``Transaction``: the commit
digest (checked, and as pyqldb 3.x's ``_txn_hash``), statistics, read-ahead with an executor, cursors closed by
commit and abort, the context manager, pyqldb 3.x's private names. ``SessionClient``: made from a token, public
and private names, ``close()`` logging a failure, value holders."""

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from pyqldb import _native
from pyqldb.communication.session_client import SessionClient
from pyqldb.cursor.read_ahead_cursor import ReadAheadCursor
from pyqldb.errors import (
    ClientError,
    IllegalStateError,
    LambdaAbortedError,
    QldbClientError,
    ResultClosedError,
    SessionClosedError,
    TransactionClosedError,
)
from pyqldb.execution.executor import Executor
from pyqldb.session import qldb_session
from pyqldb.session.qldb_session import QldbSession, is_retryable_2x
from pyqldb.util.qldb_hash import QldbHash
from support import unique

LEDGER = "py-session"


@pytest.fixture
def no_sleep(monkeypatch):
    """The backoff sleeps, recorded instead of slept."""
    slept = []
    monkeypatch.setattr(qldb_session, "sleep", slept.append)
    return slept


def open_session(endpoint, ledger, retry_limit=4, read_ahead=0, executor=None, **client_options):
    client = _native.RawClient(endpoint, record_commands=True, **client_options)
    return QldbSession(SessionClient.start_session(ledger, client), read_ahead, retry_limit, executor), client


@pytest.fixture
def embedded(memory_endpoint):
    """A ``QldbSession`` on a fresh embedded ledger and its recording client."""
    session, client = open_session(memory_endpoint, "ledger")
    yield session, client
    session.close()


@pytest.fixture
def remote(faults, no_sleep):
    """``remote(retry_limit=4)`` → a ``QldbSession`` on qldb-local (faults cleared around the test), a table in
    it and its recording client (emptied)."""
    made = []

    def make(retry_limit=4):
        session, client = open_session(faults.endpoint, LEDGER, retry_limit)
        made.append(session)
        table = unique("S")
        session.execute_statement(f"CREATE TABLE {table}")
        client.clear_recorded_commands()
        return session, table, client

    yield make
    for s in made:
        s.close()


def sent(client):
    recorded = client.recorded_commands()
    client.clear_recorded_commands()
    return recorded


def insert(table, marker="x"):
    return lambda executor: list(executor.execute_statement(f"INSERT INTO {table} ?", {"m": marker}))


TXN = ["StartTransaction", "ExecuteStatement", "CommitTransaction"]


def test_occ_is_retried_on_the_same_session(remote, faults, no_sleep):
    session, table, client = remote()
    token = session.session_token
    faults.fault("CommitTransaction", "occ", times=2)
    indicated = []
    session.execute_lambda(insert(table), retry_indicator=indicated.append)
    assert indicated == [1, 2] and len(no_sleep) == 2
    assert session.session_token == token
    assert sent(client) == TXN * 3, "no abort after a failed commit: the transaction is closed"
    assert len(list(session.execute_statement(f"SELECT * FROM {table}"))) == 1


@pytest.mark.parametrize("retry_limit", [0, 1, 3])
def test_occ_exhausts_the_retry_limit(remote, faults, no_sleep, retry_limit):
    session, table, client = remote(retry_limit)
    faults.fault("CommitTransaction", "occ", times=10)
    indicated = []
    with pytest.raises(ClientError) as error:
        session.execute_lambda(insert(table), retry_indicator=indicated.append)
    assert error.value.response["Error"]["Code"] == "OccConflictException"
    assert indicated == list(range(1, retry_limit + 1))
    assert sent(client) == TXN * (retry_limit + 1)


@pytest.mark.parametrize("command", ["StartTransaction", "ExecuteStatement"])
def test_invalid_session_continues_on_a_new_session(remote, faults, command):
    session, table, client = remote()
    token = session.session_token
    faults.fault(command, "invalid-session")
    indicated = []
    session.execute_lambda(insert(table), retry_indicator=indicated.append)
    assert indicated == [1], "no free retry in 2.x"
    assert session.session_token != token
    failed = TXN[: TXN.index(command) + 1]
    # The abort after the failure goes to the forgotten session and fails (logged); then StartSession.
    assert sent(client) == failed + ["AbortTransaction", "StartSession"] + TXN


def test_expired_transaction_is_retried(remote, faults):
    session, table, client = remote()
    faults.fault("CommitTransaction", "expired")
    indicated = []
    session.execute_lambda(insert(table, "expired"), retry_indicator=indicated.append)
    assert indicated == [1]
    assert sent(client) == TXN + ["AbortTransaction", "StartSession"] + TXN
    assert len(list(session.execute_statement(f"SELECT * FROM {table} WHERE m = 'expired'"))) == 1


@pytest.mark.parametrize("reaction", ["http500", "http503", "capacity"])
def test_server_errors_are_retried_after_an_abort(remote, faults, reaction):
    session, table, client = remote()
    token = session.session_token
    faults.fault("ExecuteStatement", reaction)
    indicated = []
    session.execute_lambda(insert(table), retry_indicator=indicated.append)
    assert indicated == [1] and session.session_token == token
    assert sent(client) == ["StartTransaction", "ExecuteStatement", "AbortTransaction"] + TXN


def test_other_client_errors_are_aborted_and_raised(remote, faults):
    session, table, client = remote()
    faults.fault("ExecuteStatement", "rate")
    with pytest.raises(ClientError) as error:
        session.execute_lambda(insert(table), retry_indicator=pytest.fail)
    assert error.value.response["Error"]["Code"] == "RateExceededException"
    assert sent(client) == ["StartTransaction", "ExecuteStatement", "AbortTransaction"]


def test_failed_start_session_during_recovery_is_raised(remote, faults):
    session, table, client = remote()
    faults.fault("StartTransaction", "invalid-session")
    faults.fault("StartSession", "http500")
    with pytest.raises(ClientError) as error:
        session.execute_lambda(insert(table), retry_indicator=pytest.fail)
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert sent(client) == ["StartTransaction", "AbortTransaction", "StartSession"]


def test_lambda_errors_abort_and_are_raised_unchanged(embedded):
    session, client = embedded
    table = unique()
    session.execute_statement(f"CREATE TABLE {table}")
    sent(client)
    raised = KeyError("mine")

    def failing(executor):
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"m": 1}))
        raise raised

    with pytest.raises(KeyError) as error:
        session.execute_lambda(failing)
    assert error.value is raised
    assert sent(client) == ["StartTransaction", "ExecuteStatement", "AbortTransaction"]

    def aborting(executor):
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"m": 2}))
        executor.abort()

    with pytest.raises(LambdaAbortedError):
        session.execute_lambda(aborting)
    assert sent(client) == ["StartTransaction", "ExecuteStatement", "AbortTransaction"]
    with pytest.raises(TypeError) as error:
        session.execute_statement(f"SELECT * FROM {table} WHERE m = ?", object())
    assert str(error.value) == "Failed to convert parameter to Ion; unsupported data type: <class 'object'>"
    assert sent(client) == ["StartTransaction", "AbortTransaction"]
    assert list(session.execute_statement(f"SELECT * FROM {table}")) == []


def test_digest_mismatch(memory_endpoint):
    session, client = open_session(memory_endpoint, "ledger", corrupt_commit_digest=2)
    with session:
        txn = session.start_transaction()
        txn.execute_statement("SELECT * FROM information_schema.user_tables")
        with pytest.raises(IllegalStateError) as error:
            txn.commit()
        assert str(error.value) == (
            "Transaction's commit digest did not match returned value from QLDB. Please retry with a new "
            "transaction. Transaction ID: {}".format(txn.transaction_id)
        )
        assert txn.is_closed
        with pytest.raises(IllegalStateError):
            session.execute_lambda(lambda ex: None, retry_indicator=pytest.fail)
        assert session.execute_lambda(lambda ex: "ok") == "ok"


@pytest.mark.parametrize(
    "code, status, retryable",
    [
        ("OccConflictException", 400, True),
        ("InvalidSessionException", 400, True),
        ("CapacityExceededException", 503, True),
        ("InternalFailure", 500, True),
        ("NoHttpResponseException", 400, True),
        ("SocketTimeoutException", 400, True),
        ("BadRequestException", 400, False),
        ("RateExceededException", 400, False),
        ("LimitExceededException", 400, False),
    ],
)
def test_retry_classification(code, status, retryable):
    assert is_retryable_2x(QldbClientError._from_native(code, "m", status, None)) is retryable


def test_expiry_and_non_client_errors_classified():
    expired = QldbClientError._from_native("InvalidSessionException", "Transaction abc has expired", 400, None)
    assert is_retryable_2x(expired)
    assert not is_retryable_2x(LambdaAbortedError()) and not is_retryable_2x(ValueError())


@pytest.mark.parametrize("attempt, cap_ms", [(1, 10), (2, 100), (3, 1000), (4, 5000), (9, 5000)])
def test_full_jitter_backoff(monkeypatch, no_sleep, attempt, cap_ms):
    monkeypatch.setattr(qldb_session.random, "random", lambda: 1.0)
    QldbSession._retry_sleep(attempt)
    monkeypatch.setattr(qldb_session.random, "random", lambda: 0.0)
    QldbSession._retry_sleep(attempt)
    assert no_sleep == [pytest.approx((cap_ms + 1) / 1000), 0.0]
    assert (qldb_session.SLEEP_CAP_MS, qldb_session.SLEEP_BASE_MS) == (5000, 10)


def test_closed_session(embedded):
    session, client = embedded
    session.close()
    session.close()
    assert sent(client) == ["StartSession", "EndSession"]
    for call in (
        lambda: session.execute_statement("SELECT 1 FROM x"),
        lambda: session.execute_lambda(lambda ex: None),
        session.list_tables,
        session.start_transaction,
        session.throw_if_closed,
    ):
        with pytest.raises(SessionClosedError):
            call()
    assert session.ledger_name == "ledger" and session.session_token


def test_abort_or_close_checks_liveness(embedded):
    session, client = embedded
    assert session._abort_or_close() is True
    session._session.end_session()
    assert session._abort_or_close() is False and session._is_closed
    assert session._abort_or_close() is False


def test_transaction(embedded):
    session, client = embedded
    table = unique()
    session.execute_statement(f"CREATE TABLE {table}")
    sent(client)
    txn = session.start_transaction()
    assert txn._txn_hash == QldbHash.to_qldb_hash(txn.transaction_id)
    executor = Executor(txn)
    assert executor.transaction_id == txn.transaction_id
    with pytest.raises(LambdaAbortedError):
        executor.abort()
    cursor = executor.execute_statement(f"INSERT INTO {table} ?", {"n": 1})
    assert [set(r) for r in cursor] == [{"documentId"}]
    assert cursor.get_consumed_ios() is not None and cursor.get_timing_information() is not None
    expected = _native.RawCommitDigest(txn.transaction_id)
    expected.add_statement(f"INSERT INTO {table} ?", [{"n": 1}])
    assert txn._txn_hash.get_qldb_hash() == expected.digest
    leftover = txn._execute_statement(f"SELECT * FROM {table}")
    txn._commit()
    assert txn.is_closed
    with pytest.raises(ResultClosedError) as error:
        next(leftover)
    assert str(error.value).endswith("SessionToken: " + session.session_token)
    with pytest.raises(TransactionClosedError):
        txn.execute_statement(f"SELECT * FROM {table}")
    with txn:
        pass  # closing a committed transaction sends nothing
    txn.abort()
    assert sent(client) == ["StartTransaction", "ExecuteStatement", "ExecuteStatement", "CommitTransaction"]


def test_transaction_abort_closes_cursors_and_context_manager(embedded):
    session, client = embedded
    table = unique()
    session.execute_statement(f"CREATE TABLE {table}")
    with session.start_transaction() as txn:
        cursor = txn.execute_statement(f"INSERT INTO {table} ?", {"n": 1})
    with pytest.raises(ResultClosedError):
        next(cursor)
    txn = session.start_transaction()
    txn._update_hash("SELECT 1", [5])
    expected = _native.RawCommitDigest(txn.transaction_id)
    expected.add_statement("SELECT 1", [5])
    assert txn._txn_hash.get_qldb_hash() == expected.digest
    txn.abort()
    assert list(session.execute_statement(f"SELECT * FROM {table}")) == []


def test_to_ion():
    from amazon.ion.core import IonType
    from amazon.ion.simple_types import IonPyInt, IonPyText
    from pyqldb.transaction.transaction import Transaction

    value = Transaction._to_ion(5)
    assert isinstance(value, IonPyInt) and value == 5
    text = IonPyText.from_value(IonType.STRING, "kept")
    assert Transaction._to_ion(text) is text
    with pytest.raises(TypeError):
        Transaction._to_ion(object())


@pytest.mark.parametrize("use_executor", [False, True])
def test_read_ahead_across_pages(memory_endpoint, use_executor):
    pool = ThreadPoolExecutor(2) if use_executor else None
    session, client = open_session(memory_endpoint, "ledger", read_ahead=2, executor=pool)
    with session:
        table = unique()
        session.execute_statement(f"CREATE TABLE {table}")
        session.execute_statement(f"INSERT INTO {table} << " + ", ".join("?" for _ in range(30)) + " >>",
                                  *[{"n": i} for i in range(30)])  # fmt: skip
        with session.start_transaction() as txn:
            cursor = txn.execute_statement(f"SELECT a.n AS x, b.n AS y FROM {table} AS a, {table} AS b")
            assert isinstance(cursor, ReadAheadCursor)
            pairs = sorted((int(r["x"]), int(r["y"])) for r in cursor)
            txn.commit()
        assert pairs == sorted((x, y) for x in range(30) for y in range(30))
        assert "FetchPage" in client.recorded_commands()
    if pool is not None:
        pool.shutdown()


def test_session_client(memory_endpoint, caplog):
    client = _native.RawClient(memory_endpoint)
    started = SessionClient.start_session("ledger", client)
    assert (started.ledger_name, started.client) == ("ledger", client)
    assert started.token and started.id is not None
    same = SessionClient("ledger", started.token, client, started.id)  # from the token: nothing sent
    txid = same.start_transaction()["TransactionId"]
    result = same.execute_statement(txid, "SELECT * FROM information_schema.user_tables", [])
    assert set(result) >= {"FirstPage"} and result["FirstPage"]["Values"] == []
    assert started._abort_transaction() == {}
    assert SessionClient._to_value_holder(5) == {"IonBinary": bytes.fromhex("e00100ea2105")}
    for name in ("start_transaction", "execute_statement", "fetch_page", "commit_transaction", "abort_transaction",
                 "end_session", "close", "start_session"):  # fmt: skip
        assert getattr(SessionClient, "_" + name) is getattr(SessionClient, name)
    with same:
        pass  # EndSession
    with pytest.raises(ClientError) as error:
        started.start_transaction()
    assert error.value.response["Error"]["Code"] == "InvalidSessionException"
    with caplog.at_level(logging.WARNING, logger="pyqldb.communication.session_client"):
        started.close()  # the session is gone: logged, not raised
    assert "Errors closing session" in caplog.text
