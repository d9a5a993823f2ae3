"""Cursors (pyqldb-api.md §1.4, §3, §6; semantics.md §5): ``StreamCursor`` is a single-pass iterator;
read-ahead gives a ``ReadAheadCursor`` (a ``StreamCursor``); multi-page results (900 rows, several
FetchPages) are identical with read_ahead 0, 2 and 5 and with a ``concurrent.futures`` executor; a cursor
returned by the lambda comes back as a ``BufferedCursor`` holding what was not yet consumed; a cursor
used after its transaction ended (smuggled out in a tuple) raises ``ResultClosedError``; two cursors of
one transaction can be interleaved; ``get_consumed_ios()`` / ``get_timing_information()``: exactly
1092 ReadIOs for the 6-way self-join over 3 documents, from the first row on and through read-ahead
and buffered cursors, with a positive processing time."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from compatlib import RESULT_CLOSED_PREFIX, create_table, run
from pyqldb.cursor.buffered_cursor import BufferedCursor
from pyqldb.cursor.read_ahead_cursor import ReadAheadCursor
from pyqldb.cursor.stream_cursor import StreamCursor
from pyqldb.errors import IllegalStateError, ResultClosedError

GRID_SIZE = 30
JOIN = "SELECT a.n AS x, b.n AS y FROM Grid AS a, Grid AS b"
EXPECTED_PAIRS = sorted((x, y) for x in range(GRID_SIZE) for y in range(GRID_SIZE))
SIX_WAY = "SELECT * FROM Stats AS n1, Stats AS n2, Stats AS n3, Stats AS n4, Stats AS n5, Stats AS n6"


@pytest.fixture(scope="module")
def grid(driver):
    create_table(driver, "Grid")
    inserted = driver.execute_lambda(lambda ex: list(ex.execute_statement(
        "INSERT INTO Grid << " + ", ".join("?" for _ in range(GRID_SIZE)) + " >>",
        *[{"n": i} for i in range(GRID_SIZE)])))
    assert len(inserted) == GRID_SIZE
    return "Grid"


@pytest.fixture(scope="module")
def stats(driver):
    create_table(driver, "Stats")
    assert len(run(driver, "INSERT INTO Stats << ?, ?, ? >>", {"c": "a"}, {"c": "b"}, {"c": "c"})) == 3
    return "Stats"


def pairs(rows):
    return sorted((int(r["x"]), int(r["y"])) for r in rows)


def test_stream_cursor_is_single_pass(driver, grid):
    def work(executor):
        cursor = executor.execute_statement("SELECT * FROM Grid")
        assert isinstance(cursor, StreamCursor), type(cursor)
        assert not isinstance(cursor, ReadAheadCursor), type(cursor)
        assert iter(cursor) is cursor
        first = list(cursor)
        second = list(cursor)
        with pytest.raises(StopIteration):
            next(cursor)
        return len(first), len(second)

    assert driver.execute_lambda(work) == (GRID_SIZE, 0)


@pytest.mark.parametrize("read_ahead", [2, 5])
def test_read_ahead_cursor(driver_factory, grid, read_ahead):
    def work(executor):
        cursor = executor.execute_statement(JOIN)
        assert isinstance(cursor, ReadAheadCursor) and isinstance(cursor, StreamCursor), type(cursor)
        assert iter(cursor) is cursor
        rows = list(cursor)
        assert list(cursor) == []
        return pairs(rows)

    assert driver_factory(read_ahead=read_ahead).execute_lambda(work) == EXPECTED_PAIRS


@pytest.mark.parametrize("read_ahead, use_executor", [(0, False), (2, False), (5, False), (3, True)],
                         ids=["stream", "read-ahead-2", "read-ahead-5", "read-ahead-3-executor"])
def test_multi_page_results_are_the_same_whatever_the_read_ahead(driver_factory, grid, read_ahead, use_executor):
    pool = ThreadPoolExecutor(max_workers=2) if use_executor else None
    try:
        kwargs = {"read_ahead": read_ahead}
        if pool is not None:
            kwargs["executor"] = pool
        d = driver_factory(**kwargs)
        inside = d.execute_lambda(lambda ex: pairs(ex.execute_statement(JOIN)))
        buffered = d.execute_lambda(lambda ex: ex.execute_statement(JOIN))
        assert isinstance(buffered, BufferedCursor), type(buffered)
        assert inside == EXPECTED_PAIRS
        assert pairs(buffered) == EXPECTED_PAIRS
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


@pytest.mark.parametrize("read_ahead", [0, 2])
@pytest.mark.parametrize("consume", [False, True], ids=["unconsumed", "consumed"])
def test_cursor_used_after_the_transaction_raises_result_closed(driver_factory, grid, read_ahead, consume):
    d = driver_factory(read_ahead=read_ahead)

    def work(executor):
        cursor = executor.execute_statement(JOIN)
        if consume:
            assert len(list(cursor)) == GRID_SIZE ** 2
        return (cursor,)  # nested: not buffered

    (cursor,) = d.execute_lambda(work)
    assert not isinstance(cursor, BufferedCursor)
    with pytest.raises(ResultClosedError) as error:
        next(cursor)
    assert isinstance(error.value, IllegalStateError)
    assert str(error.value).startswith(RESULT_CLOSED_PREFIX), str(error.value)
    token = str(error.value)[len(RESULT_CLOSED_PREFIX):]
    assert token and token != "None", str(error.value)
    with pytest.raises(ResultClosedError):
        list(cursor)


def test_cursor_after_user_error_is_closed(driver, grid):
    leaked = []

    def work(executor):
        leaked.append(executor.execute_statement("SELECT * FROM Grid"))
        raise KeyError("boom")

    with pytest.raises(KeyError):
        driver.execute_lambda(work)
    with pytest.raises(ResultClosedError):
        next(leaked[0])


@pytest.mark.parametrize("read_ahead", [0, 2])
def test_returned_cursor_is_buffered(driver_factory, grid, read_ahead):
    d = driver_factory(read_ahead=read_ahead)
    result = d.execute_lambda(lambda ex: ex.execute_statement(JOIN))
    assert isinstance(result, BufferedCursor), type(result)
    assert iter(result) is result
    assert pairs(result) == EXPECTED_PAIRS
    assert list(result) == [], "a BufferedCursor is single-pass"
    with pytest.raises(StopIteration):
        next(result)


@pytest.mark.parametrize("read_ahead", [0, 2])
def test_partially_consumed_cursor_buffers_the_rest(driver_factory, grid, read_ahead):
    d = driver_factory(read_ahead=read_ahead)
    consumed = []

    def work(executor):
        cursor = executor.execute_statement(JOIN)
        for _ in range(250):  # past the first page
            consumed.append(next(cursor))
        return cursor

    rest = d.execute_lambda(work)
    assert isinstance(rest, BufferedCursor)
    remaining = list(rest)
    assert len(consumed) == 250 and len(remaining) == GRID_SIZE ** 2 - 250
    assert pairs(consumed + remaining) == EXPECTED_PAIRS


def test_interleaved_cursors_in_one_transaction(driver, grid):
    def work(executor):
        big = executor.execute_statement(JOIN)
        head = [next(big) for _ in range(300)]
        small = list(executor.execute_statement("SELECT VALUE n FROM Grid"))
        tail = list(big)
        return head + tail, small

    rows, small = driver.execute_lambda(work)
    assert pairs(rows) == EXPECTED_PAIRS
    assert sorted(int(n) for n in small) == list(range(GRID_SIZE))


# --------------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------------

def assert_positive_timing(timing):
    assert isinstance(timing, dict) and set(timing) == {"ProcessingTimeMilliseconds"}, timing
    assert timing["ProcessingTimeMilliseconds"] > 0, timing


@pytest.mark.parametrize("read_ahead", [0, 2, 5])
def test_stream_cursor_statistics(driver_factory, stats, read_ahead):
    d = driver_factory(read_ahead=read_ahead)

    def work(executor):
        cursor = executor.execute_statement(SIX_WAY)
        initial = (cursor.get_consumed_ios(), cursor.get_timing_information())
        first = next(cursor)
        after_first = (cursor.get_consumed_ios(), cursor.get_timing_information())
        rest = list(cursor)
        final = (cursor.get_consumed_ios(), cursor.get_timing_information())
        return initial, after_first, final, 1 + len(rest), first

    initial, after_first, final, rows, first = d.execute_lambda(work)
    assert rows == 729
    # SELECT * over a join merges the six structs: six fields named c, kept as duplicates.
    assert list(first.keys()) == ["c"] and len(first) == 6, first
    assert len(first.get_all_values("c")) == 6, first
    for ios, timing in (initial, after_first, final):
        assert ios == {"ReadIOs": 1092}, ios
        assert_positive_timing(timing)


@pytest.mark.parametrize("read_ahead", [0, 2])
def test_buffered_cursor_statistics(driver_factory, stats, read_ahead):
    cursor = driver_factory(read_ahead=read_ahead).execute_lambda(lambda ex: ex.execute_statement(SIX_WAY))
    assert isinstance(cursor, BufferedCursor)
    assert cursor.get_consumed_ios() == {"ReadIOs": 1092}
    assert_positive_timing(cursor.get_timing_information())
    assert sum(1 for _ in cursor) == 729
    assert cursor.get_consumed_ios() == {"ReadIOs": 1092}, "stats are fixed at buffering time"


def test_statistics_of_simple_statements(driver, stats):
    def work(executor):
        scan = executor.execute_statement("SELECT * FROM Stats")
        scan_rows = list(scan)
        join = executor.execute_statement("SELECT * FROM Stats AS a, Stats AS b")
        join_rows = list(join)
        return (len(scan_rows), scan.get_consumed_ios(), len(join_rows), join.get_consumed_ios(),
                join.get_timing_information())

    scan_rows, scan_ios, join_rows, join_ios, join_timing = driver.execute_lambda(work)
    assert (scan_rows, scan_ios) == (3, {"ReadIOs": 3})
    assert (join_rows, join_ios) == (9, {"ReadIOs": 3 + 9})
    assert_positive_timing(join_timing)
