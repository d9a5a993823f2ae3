"""The pyqldb 2.x ``PooledQldbDriver`` (pyqldb-api.md §4.2, §5, §8), which our package keeps next to the
3.x API and the original 3.2.4 does not have (the peer run excludes this file): signature and defaults;
argument checks in order with their messages (retry_limit, read_ahead, config, boto3_session, pool_limit,
timeout, the client's connection limit); properties without deprecation; ``execute_statement(statement,
*parameters)`` → ``BufferedCursor``; ``execute_lambda`` returning values and buffering cursors;
``retry_indicator`` called with 1..N before each retry of a forced OCC conflict, 5 attempts by default,
``retry_limit=0`` → one attempt; ``LambdaAbortedError`` and user exceptions leave nothing committed;
``close()`` / context manager → ``DriverClosedError``; the pool waits ``timeout`` seconds before
``SessionPoolEmptyError`` and hands a released session out again; unsupported parameter types; an
InvalidSessionException at StartTransaction is retried (HTTP targets, fault injection)."""

import inspect
import time
import warnings

import pytest
from compatlib import ID_RE, Conflicter, assert_client_error, count, create_table

pytestmark = pytest.mark.v2

READ_AHEAD_MESSAGE = "Value for read_ahead must be 0 or 2 or greater."


@pytest.fixture(scope="module")
def v2_driver(ledger, capabilities, qldb_server, embedded_endpoint):
    from pyqldb.driver.pooled_qldb_driver import PooledQldbDriver
    kwargs = {} if capabilities.http else {"endpoint_url": embedded_endpoint}
    d = PooledQldbDriver(ledger, **kwargs)
    yield d
    d.close()


@pytest.fixture(scope="module")
def table(v2_driver):
    cursor = v2_driver.execute_statement("CREATE TABLE V2Driver")
    assert len(list(cursor)) == 1
    return "V2Driver"


def test_signature():
    from pyqldb.driver.pooled_qldb_driver import DEFAULT_TIMEOUT_SECONDS, PooledQldbDriver
    assert DEFAULT_TIMEOUT_SECONDS == 30
    parameters = inspect.signature(PooledQldbDriver).parameters
    assert list(parameters) == [
        "ledger_name", "retry_limit", "read_ahead", "executor", "region_name", "verify", "endpoint_url",
        "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "config", "boto3_session",
        "pool_limit", "timeout"]
    defaults = {name: p.default for name, p in parameters.items() if p.default is not inspect.Parameter.empty}
    assert defaults == {
        "retry_limit": 4, "read_ahead": 0, "executor": None, "region_name": None, "verify": None,
        "endpoint_url": None, "aws_access_key_id": None, "aws_secret_access_key": None, "aws_session_token": None,
        "config": None, "boto3_session": None, "pool_limit": 0, "timeout": 30}


def test_class_hierarchy():
    from pyqldb.driver.base_qldb_driver import BaseQldbDriver
    from pyqldb.driver.pooled_qldb_driver import PooledQldbDriver
    from pyqldb.execution.executable import Executable
    assert issubclass(PooledQldbDriver, BaseQldbDriver)
    assert issubclass(PooledQldbDriver, Executable)
    assert inspect.isabstract(BaseQldbDriver)


@pytest.mark.parametrize("args, kwargs, error, message", [
    ((-1,), {}, ValueError, "Value for retry_limit cannot be negative."),
    ((), {"retry_limit": -1, "read_ahead": 1}, ValueError, "Value for retry_limit cannot be negative."),
    ((), {"read_ahead": 1}, ValueError, READ_AHEAD_MESSAGE),
    ((), {"read_ahead": -2, "config": "x"}, ValueError, READ_AHEAD_MESSAGE),
    ((), {"config": "x", "boto3_session": "x"}, TypeError, "config must be of type botocore.config.Config. Found: str"),
    ((), {"boto3_session": 5, "pool_limit": -1}, TypeError,
     "boto3_session must be of type boto3.session.Session. Found: int"),
    ((), {"pool_limit": -1, "timeout": -1}, ValueError, "Value for pool_limit cannot be negative."),
    ((), {"timeout": -1}, ValueError, "Value for timeout cannot be negative."),
    ((), {"pool_limit": 11}, ValueError,
     "The session pool limit given, 11, exceeds the limit set by the client, 10. Please lower the limit and retry."),
])
def test_argument_checks(v2_driver_factory, args, kwargs, error, message):
    with pytest.raises(error) as raised:
        v2_driver_factory(*args, **kwargs)
    assert str(raised.value) == message


@pytest.mark.parametrize("kwargs", [{"retry_config": None}, {"max_concurrent_transactions": 1},
                                    {"botocore_session": None}])
def test_unknown_keyword_rejected(v2_driver_factory, kwargs):
    with pytest.raises(TypeError):
        v2_driver_factory(**kwargs)


def test_properties(v2_driver_factory):
    d = v2_driver_factory(2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the 2.x retry_limit property is not deprecated
        assert d.retry_limit == 2
        assert d.read_ahead == 3
    assert v2_driver_factory().retry_limit == 4


def test_execute_statement(v2_driver, table):
    inserted = v2_driver.execute_statement(f"INSERT INTO {table} << ?, ? >>", {"n": 1}, {"n": 2})
    from pyqldb.cursor.buffered_cursor import BufferedCursor
    assert isinstance(inserted, BufferedCursor), type(inserted)
    ids = [str(r["documentId"]) for r in inserted]
    assert len(ids) == 2 and all(ID_RE.match(i) for i in ids), ids
    rows = v2_driver.execute_statement(f"SELECT VALUE n FROM {table} WHERE n IN (?, ?)", 1, 2)
    assert sorted(int(v) for v in rows) == [1, 2]


def test_execute_lambda(v2_driver, table):
    assert v2_driver.execute_lambda(lambda executor: "plain") == "plain"

    def work(executor):
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"n": 10}))
        return executor.execute_statement(f"SELECT VALUE n FROM {table} WHERE n = ?", 10)

    from pyqldb.cursor.buffered_cursor import BufferedCursor
    result = v2_driver.execute_lambda(work)
    assert isinstance(result, BufferedCursor)
    assert [int(v) for v in result] == [10]


def test_list_tables(v2_driver, table):
    with v2_driver.get_session() as session:
        names = list(session.list_tables())
    assert table in names and all(isinstance(n, str) for n in names), names


def conflicting(table, conflict, attempts, conflict_on):
    def work(executor):
        attempts.append(1)
        rows = list(executor.execute_statement(f"SELECT * FROM {table}"))
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"attempt": len(attempts)}))
        if len(attempts) in conflict_on:
            conflict()
        return len(attempts), len(rows)

    return work


def test_retry_indicator_on_occ(v2_driver_factory):
    d = v2_driver_factory()
    table = create_table(v2_driver_factory())
    indicated = []
    attempts = []
    work = conflicting(table, Conflicter(v2_driver_factory(), table), attempts, conflict_on={1, 2})
    result = d.execute_lambda(work, retry_indicator=indicated.append)
    assert result[0] == 3
    assert indicated == [1, 2]
    assert count(v2_driver_factory(), table, "WHERE attempt > 0") == 1


@pytest.mark.parametrize("retry_limit", [0, 2])  # 2.x sleeps up to 10^attempt ms
def test_occ_exhausts_the_retry_limit(v2_driver_factory, retry_limit):
    d = v2_driver_factory(retry_limit)
    table = create_table(v2_driver_factory())
    indicated = []
    attempts = []
    work = conflicting(table, Conflicter(v2_driver_factory(), table), attempts, conflict_on=range(1, 100))
    with pytest.raises(Exception) as error:
        d.execute_lambda(work, retry_indicator=indicated.append)
    assert_client_error(error.value, code="OccConflictException")
    assert len(attempts) == retry_limit + 1
    assert indicated == list(range(1, retry_limit + 1))
    assert count(v2_driver_factory(), table, "WHERE attempt > 0") == 0


def test_execute_statement_retry_indicator(v2_driver_factory):
    d = v2_driver_factory()
    table = create_table(v2_driver_factory())
    indicated = []
    rows = d.execute_statement(f"INSERT INTO {table} ?", {"x": 1}, retry_indicator=indicated.append)
    assert len(list(rows)) == 1 and indicated == []


def test_abort_and_user_exception(v2_driver, table):
    from pyqldb.errors import LambdaAbortedError

    def aborting(executor):
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"marker": "v2-abort"}))
        executor.abort()

    with pytest.raises(LambdaAbortedError):
        v2_driver.execute_lambda(aborting)

    raised = KeyError("v2")

    def failing(executor):
        list(executor.execute_statement(f"INSERT INTO {table} ?", {"marker": "v2-user"}))
        raise raised

    with pytest.raises(KeyError) as error:
        v2_driver.execute_lambda(failing)
    assert error.value is raised
    rows = v2_driver.execute_statement(f"SELECT * FROM {table} WHERE marker IN ('v2-abort', 'v2-user')")
    assert list(rows) == []


def test_unsupported_parameter(v2_driver, table):
    with pytest.raises(TypeError) as error:
        v2_driver.execute_statement(f"SELECT * FROM {table} WHERE n = ?", object())
    assert str(error.value) == "Failed to convert parameter to Ion; unsupported data type: <class 'object'>"


def test_bad_request(v2_driver):
    with pytest.raises(Exception) as error:
        v2_driver.execute_statement("SELECT * FROM NoSuchTableV2")
    assert_client_error(error.value, code="BadRequestException", status=400)


def test_closed_driver(v2_driver_factory):
    from pyqldb.errors import DriverClosedError
    with v2_driver_factory() as d:
        assert isinstance(list(d.execute_statement("SELECT * FROM information_schema.user_tables")), list)
    for call in (d.get_session, lambda: d.execute_statement("SELECT 1 FROM x"),
                 lambda: d.execute_lambda(lambda ex: None)):
        with pytest.raises(DriverClosedError):
            call()


def test_pool_timeout(v2_driver_factory):
    from pyqldb.errors import SessionPoolEmptyError
    d = v2_driver_factory(pool_limit=1, timeout=0.3)
    held = d.get_session()
    token = held.session_token
    started = time.monotonic()
    with pytest.raises(SessionPoolEmptyError) as error:
        d.get_session()
    waited = time.monotonic() - started
    assert str(error.value) == ("Session pool is empty after waiting for 0.3 seconds. Please close existing "
                                "sessions first before retrying.")
    assert 0.25 <= waited < 3.0, waited
    with pytest.raises(SessionPoolEmptyError):
        d.execute_statement("SELECT * FROM information_schema.user_tables")
    held.close()
    with d.get_session() as again:
        assert again.session_token == token, "the released session is handed out again"


def test_pool_timeout_zero(v2_driver_factory):
    from pyqldb.errors import SessionPoolEmptyError
    d = v2_driver_factory(pool_limit=2, timeout=0)
    first, second = d.get_session(), d.get_session()
    started = time.monotonic()
    with pytest.raises(SessionPoolEmptyError) as error:
        d.get_session()
    assert time.monotonic() - started < 1.0
    assert "waiting for 0 seconds" in str(error.value)
    first.close()
    second.close()
    d.get_session().close()


@pytest.mark.requires("faults")
def test_invalid_session_is_retried_on_a_new_session(v2_driver_factory, fault):
    d = v2_driver_factory()
    table = create_table(v2_driver_factory())
    d.execute_statement(f"SELECT * FROM {table}")  # one pooled session
    fault("StartTransaction", "invalid-session")
    indicated = []
    rows = d.execute_statement(f"INSERT INTO {table} ?", {"ise": 1}, retry_indicator=indicated.append)
    assert len(list(rows)) == 1
    assert indicated == [1], "2.x has no free retry: the indicator sees attempt 1"
    assert sum(r["hits"] for r in fault.rules()) == 1
    assert count(v2_driver_factory(), table) == 1
