"""``Executor`` and the cursors (``StreamCursor``, ``ReadAheadCursor``, ``BufferedCursor``): single pass,
multi-page results with and without read-ahead (embedded and over HTTP), returned cursors buffered before the
commit, cursors unusable after their transaction (``ResultClosedError`` with the session token), ``close()``,
statistics (3.1+ methods, zeros kept), and the dict-based constructors kept for session-level callers."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from pyqldb.cursor.buffered_cursor import BufferedCursor
from pyqldb.cursor.read_ahead_cursor import ReadAheadCursor
from pyqldb.cursor.stream_cursor import StreamCursor
from pyqldb.errors import ResultClosedError, TransactionClosedError
from pyqldb.execution.executor import Executor
from support import create_table, rows

ROWS = 450  # more than two pages of 200 values
PREFIX = "A streamed result is only valid when the parent transaction is open. Please start a new transaction and retry.\nSessionToken: "


def fill(driver, table="Many"):
    create_table(driver, table)
    for start in range(0, ROWS, 150):
        batch = [{"n": i} for i in range(start, min(start + 150, ROWS))]
        placeholders = ", ".join("?" for _ in batch)
        rows(driver, f"INSERT INTO {table} << {placeholders} >>", *batch)
    return table


@pytest.fixture(params=["embedded", "http"])
def endpoint(request, memory_endpoint):
    if request.param == "embedded":
        return memory_endpoint, "cursor-ledger"
    server = request.getfixturevalue("server")
    return server.endpoint, "py-main"


@pytest.mark.parametrize("read_ahead", [0, 2, 5])
def test_multi_page_results(drivers, endpoint, read_ahead):
    url, ledger = endpoint
    d = drivers(ledger, endpoint_url=url, read_ahead=read_ahead)
    table = fill(d, f"Many{read_ahead}")

    def work(executor):
        cursor = executor.execute_statement(f"SELECT VALUE n FROM {table}")
        expected = ReadAheadCursor if read_ahead else StreamCursor
        assert type(cursor) is expected and iter(cursor) is cursor
        values = [int(v) for v in cursor]
        assert list(cursor) == []
        with pytest.raises(StopIteration):
            next(cursor)
        return sorted(values)

    assert d.execute_lambda(work) == list(range(ROWS))
    buffered = d.execute_lambda(lambda ex: ex.execute_statement(f"SELECT VALUE n FROM {table}"))
    assert isinstance(buffered, BufferedCursor) and iter(buffered) is buffered
    assert sorted(int(v) for v in buffered) == list(range(ROWS))
    assert list(buffered) == []


def test_read_ahead_with_an_executor_argument(drivers, memory_endpoint):
    with ThreadPoolExecutor(max_workers=1) as pool:
        d = drivers(endpoint_url=memory_endpoint, read_ahead=3, executor=pool)
        table = fill(d)
        assert len(rows(d, f"SELECT * FROM {table}")) == ROWS


@pytest.mark.parametrize("read_ahead", [0, 2])
def test_partially_consumed_cursor_is_buffered_before_commit(drivers, memory_endpoint, read_ahead):
    d = drivers(endpoint_url=memory_endpoint, read_ahead=read_ahead)
    table = fill(d)
    head = []

    def work(executor):
        cursor = executor.execute_statement(f"SELECT VALUE n FROM {table}")
        head.extend(next(cursor) for _ in range(250))
        return cursor

    rest = d.execute_lambda(work)
    assert isinstance(rest, BufferedCursor)
    assert sorted(int(v) for v in head + list(rest)) == list(range(ROWS))


@pytest.mark.parametrize("read_ahead", [0, 2])
def test_cursor_unusable_after_commit(drivers, memory_endpoint, read_ahead):
    d = drivers(endpoint_url=memory_endpoint, read_ahead=read_ahead)
    table = fill(d)
    tokens = []

    def work(executor):
        cursor = executor.execute_statement(f"SELECT * FROM {table}")
        tokens.append(cursor._raw.session_token)
        next(cursor)
        return [cursor], executor

    (cursor,), executor = d.execute_lambda(work)
    with pytest.raises(ResultClosedError) as error:
        next(cursor)
    assert str(error.value) == PREFIX + tokens[0]
    assert not cursor._is_open
    with pytest.raises(TransactionClosedError):
        executor.execute_statement("SELECT * FROM information_schema.user_tables")


def test_cursor_closed_after_a_user_error(driver):
    leaked = []

    def work(executor):
        leaked.append(executor.execute_statement("SELECT * FROM information_schema.user_tables"))
        raise KeyError("boom")

    with pytest.raises(KeyError):
        driver.execute_lambda(work)
    with pytest.raises(ResultClosedError):
        next(leaked[0])


def test_close(driver):
    table = fill(driver)

    def work(executor):
        cursor = executor.execute_statement(f"SELECT * FROM {table}")
        next(cursor)
        cursor.close()
        with pytest.raises(ResultClosedError):
            next(cursor)
        return "ok"

    assert driver.execute_lambda(work) == "ok"


def test_statistics(driver):
    table = fill(driver)

    def work(executor):
        cursor = executor.execute_statement(f"SELECT * FROM {table}")
        first = (cursor.get_consumed_ios(), cursor.get_timing_information())
        list(cursor)
        last = (cursor.get_consumed_ios(), cursor.get_timing_information(), cursor.get_io_usage())
        insert = executor.execute_statement(f"INSERT INTO {table} ?", {"n": -1})
        list(insert)
        return first, last, insert.get_io_usage()

    first, last, insert_usage = driver.execute_lambda(work)
    assert first[0] == {"ReadIOs": ROWS}, first
    assert set(first[1]) == {"ProcessingTimeMilliseconds"} and first[1]["ProcessingTimeMilliseconds"] >= 0
    assert last[0] == {"ReadIOs": ROWS} and last[2]["ReadIOs"] == ROWS
    assert insert_usage["WriteIOs"] >= 1
    buffered = driver.execute_lambda(lambda ex: ex.execute_statement(f"SELECT * FROM {table} WHERE n = 3"))
    assert buffered.get_consumed_ios() is not None and buffered.get_timing_information() is not None


def test_zero_statistics_are_kept(driver):
    cursor = driver.execute_lambda(lambda ex: ex.execute_statement("SELECT * FROM information_schema.user_tables"))
    assert cursor.get_consumed_ios() == {"ReadIOs": 0}, "a reported 0 is not dropped (pyqldb-api.md §9.3)"


class FakePages:
    """A session-level stand-in serving pages from a list (for the dict constructors)."""

    token = "fake-token"

    def __init__(self, pages):
        self.pages = pages
        self.fetched = []

    def _fetch_page(self, transaction_id, token):
        self.fetched.append(token)
        return self.pages[int(token)]


def holder(text):
    from pyqldb import _native

    return {"IonBinary": _native.ion_dumps(text)}


def page(values, next_token, ios=1):
    result = {"Values": [holder(v) for v in values]}
    if next_token is not None:
        result["NextPageToken"] = next_token
    return result


def test_dict_constructors():
    pages = [
        None,
        {"Page": page(["b"], "2"), "ConsumedIOs": {"ReadIOs": 0, "WriteIOs": 0}},
        {"Page": page([], "3"), "TimingInformation": {"ProcessingTimeMilliseconds": 5}},
        {"Page": page(["c", "d"], None), "ConsumedIOs": {"ReadIOs": 2, "WriteIOs": 1}},
    ]
    first = {
        "FirstPage": page(["a"], "1"),
        "ConsumedIOs": {"ReadIOs": 1},
        "TimingInformation": {"ProcessingTimeMilliseconds": 10},
    }
    session = FakePages(pages)
    cursor = StreamCursor(first, session, "txn")
    assert [str(v) for v in cursor] == ["a", "b", "c", "d"]
    assert cursor.get_consumed_ios() == {"ReadIOs": 3}
    assert cursor.get_timing_information() == {"ProcessingTimeMilliseconds": 15}
    assert session.fetched == ["1", "2", "3"]
    cursor.close()
    with pytest.raises(ResultClosedError, match="fake-token"):
        next(cursor)

    two_x = StreamCursor(first["FirstPage"], FakePages(pages), "txn")  # pyqldb 2.x passed the page itself
    assert [str(v) for v in two_x] == ["a", "b", "c", "d"]

    read_ahead = ReadAheadCursor(first, FakePages(pages), "txn", 2, None)
    assert [str(v) for v in read_ahead] == ["a", "b", "c", "d"]
    buffered = BufferedCursor(StreamCursor(first, FakePages(pages), "txn"))
    assert [str(v) for v in buffered] == ["a", "b", "c", "d"] and buffered.get_consumed_ios() == {"ReadIOs": 3}


def test_read_ahead_producer_failure_reaches_the_consumer():
    class Broken(FakePages):
        def _fetch_page(self, transaction_id, token):
            raise ConnectionError("network down")

    cursor = ReadAheadCursor({"FirstPage": page(["a"], "1")}, Broken([]), "txn", 2, None)
    assert str(next(cursor)) == "a"
    with pytest.raises(ConnectionError, match="network down"):
        next(cursor)


def test_executor_over_a_session_level_transaction():
    class Transaction:
        transaction_id = "tx-1"

        def _execute_statement(self, statement, *parameters):
            return ("executed", statement, parameters)

    executor = Executor(Transaction())
    assert executor.transaction_id == "tx-1"
    assert executor.execute_statement("SELECT ?", 1) == ("executed", "SELECT ?", (1,))
