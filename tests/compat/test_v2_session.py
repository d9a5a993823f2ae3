"""The pyqldb 2.x sessions and transactions (pyqldb-api.md §8), reached through
``PooledQldbDriver.get_session()`` (the original 3.2.4 has none of this; the peer run excludes this
file): ``PooledQldbSession`` (a ``BaseQldbSession``) as a context manager with ``ledger_name``,
``session_token``, ``execute_statement``, ``execute_lambda``, ``list_tables`` and ``start_transaction``,
each raising ``SessionClosedError`` once the session is closed; the public ``Transaction``:
``transaction_id``, ``is_closed``, ``execute_statement`` → ``StreamCursor`` (``ReadAheadCursor`` with
read-ahead, across pages), ``commit()`` (then ``TransactionClosedError`` for commit and statements, and
``ResultClosedError`` for its cursors), ``abort()`` and ``close()`` (idempotent, nothing committed), the
context manager aborting an uncommitted transaction, an OCC conflict at a manual ``commit()`` raised
to the caller without retry; ``SessionClient``'s public 2.x method names."""

import pytest
from compatlib import ID_RE, RESULT_CLOSED_PREFIX, Conflicter, assert_client_error, count, create_table, run

pytestmark = pytest.mark.v2


@pytest.fixture(scope="module")
def v2_driver(ledger, capabilities, qldb_server, embedded_endpoint):
    from pyqldb.driver.pooled_qldb_driver import PooledQldbDriver
    kwargs = {} if capabilities.http else {"endpoint_url": embedded_endpoint}
    d = PooledQldbDriver(ledger, **kwargs)
    yield d
    d.close()


@pytest.fixture(scope="module")
def table(v2_driver):
    return create_table(v2_driver, "V2Session")


def test_pooled_session(v2_driver, ledger, table):
    from pyqldb.cursor.buffered_cursor import BufferedCursor
    from pyqldb.session.base_qldb_session import BaseQldbSession
    from pyqldb.session.pooled_qldb_session import PooledQldbSession
    with v2_driver.get_session() as session:
        assert isinstance(session, PooledQldbSession) and isinstance(session, BaseQldbSession)
        assert session.ledger_name == ledger
        assert isinstance(session.session_token, str) and session.session_token
        inserted = session.execute_statement(f"INSERT INTO {table} ?", {"who": "session"})
        assert isinstance(inserted, BufferedCursor) and len(list(inserted)) == 1
        assert session.execute_lambda(lambda ex: [str(v) for v in ex.execute_statement(
            f"SELECT VALUE who FROM {table} WHERE who = ?", "session")]) == ["session"]
        assert table in list(session.list_tables())


def test_closed_session(v2_driver):
    from pyqldb.errors import IllegalStateError, SessionClosedError
    session = v2_driver.get_session()
    session.close()
    session.close()  # idempotent
    calls = [
        lambda: session.execute_statement("SELECT * FROM information_schema.user_tables"),
        lambda: session.execute_lambda(lambda ex: None),
        lambda: session.list_tables(),
        lambda: session.start_transaction(),
        lambda: session.ledger_name,
        lambda: session.session_token,
    ]
    for call in calls:
        with pytest.raises(SessionClosedError) as error:
            call()
        assert isinstance(error.value, IllegalStateError)
        assert str(error.value) == "Cannot invoke methods on a closed session. Please start a new session and retry."


def test_transaction_commit(v2_driver, table):
    from pyqldb.cursor.stream_cursor import StreamCursor
    from pyqldb.errors import ResultClosedError, TransactionClosedError
    from pyqldb.transaction.transaction import Transaction
    with v2_driver.get_session() as session:
        txn = session.start_transaction()
        assert isinstance(txn, Transaction)
        assert ID_RE.match(txn.transaction_id), txn.transaction_id
        assert txn.is_closed is False
        cursor = txn.execute_statement(f"INSERT INTO {table} ?", {"who": "commit"})
        assert isinstance(cursor, StreamCursor)
        assert len(list(cursor)) == 1
        leftover = txn.execute_statement(f"SELECT * FROM {table}")
        txn.commit()
        assert txn.is_closed is True
        with pytest.raises(ResultClosedError) as error:
            next(leftover)
        assert str(error.value).startswith(RESULT_CLOSED_PREFIX)
        with pytest.raises(TransactionClosedError) as error:
            txn.commit()
        assert str(error.value) == \
            "Cannot invoke methods on a closed transaction. Please start a new transaction and retry."
        with pytest.raises(TransactionClosedError):
            txn.execute_statement(f"SELECT * FROM {table}")
        txn.abort()  # no-op when closed
        txn.close()
        second = session.start_transaction()
        assert second.transaction_id != txn.transaction_id
        second.abort()
    assert count(v2_driver, table, "WHERE who = 'commit'") == 1


def test_transaction_abort(v2_driver, table):
    from pyqldb.errors import TransactionClosedError
    with v2_driver.get_session() as session:
        txn = session.start_transaction()
        txn.execute_statement(f"INSERT INTO {table} ?", {"who": "abort"})
        txn.abort()
        assert txn.is_closed is True
        txn.abort()
        with pytest.raises(TransactionClosedError):
            txn.commit()
    assert count(v2_driver, table, "WHERE who = 'abort'") == 0


def test_transaction_context_manager_aborts(v2_driver, table):
    with v2_driver.get_session() as session:
        with session.start_transaction() as txn:
            txn.execute_statement(f"INSERT INTO {table} ?", {"who": "context"})
        assert txn.is_closed is True
        with session.start_transaction() as committed:
            committed.execute_statement(f"INSERT INTO {table} ?", {"who": "context-commit"})
            committed.commit()
    assert count(v2_driver, table, "WHERE who = 'context'") == 0
    assert count(v2_driver, table, "WHERE who = 'context-commit'") == 1


def test_manual_commit_occ_is_not_retried(v2_driver, v2_driver_factory):
    table = create_table(v2_driver)
    conflict = Conflicter(v2_driver_factory(), table)
    with v2_driver.get_session() as session:
        txn = session.start_transaction()
        list(txn.execute_statement(f"SELECT * FROM {table}"))
        txn.execute_statement(f"INSERT INTO {table} ?", {"who": "manual"})
        conflict()
        with pytest.raises(Exception) as error:
            txn.commit()
        assert_client_error(error.value, code="OccConflictException")
        assert txn.is_closed is True
        # The session is usable afterwards.
        assert len(list(session.execute_statement(f"SELECT * FROM {table}"))) == 1
    assert count(v2_driver, table, "WHERE who = 'manual'") == 0


def test_read_ahead_transaction_cursor(v2_driver_factory, table):
    from pyqldb.cursor.read_ahead_cursor import ReadAheadCursor
    d = v2_driver_factory(read_ahead=3)
    grid = create_table(d)
    run(d, f"INSERT INTO {grid} << " + ", ".join("?" for _ in range(25)) + " >>", *[{"n": i} for i in range(25)])
    with d.get_session() as session:
        txn = session.start_transaction()
        cursor = txn.execute_statement(f"SELECT a.n AS x, b.n AS y FROM {grid} AS a, {grid} AS b")
        assert isinstance(cursor, ReadAheadCursor)
        rows = sorted((int(r["x"]), int(r["y"])) for r in cursor)
        txn.commit()
    assert rows == sorted((x, y) for x in range(25) for y in range(25))


def test_session_client_public_methods():
    from pyqldb.communication.session_client import SessionClient
    for name in ("start_session", "start_transaction", "execute_statement", "fetch_page", "commit_transaction",
                 "abort_transaction", "end_session", "close"):
        assert callable(getattr(SessionClient, name, None)), name
    assert isinstance(inspect_static(SessionClient, "start_session"), staticmethod)


def inspect_static(cls, name):
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    return None
