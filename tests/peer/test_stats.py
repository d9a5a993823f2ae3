"""Cursor statistics (semantics.md §5, pyqldb-api.md §6): ``get_consumed_ios()['ReadIOs']`` and
``get_timing_information()['ProcessingTimeMilliseconds']`` are non-zero on the stream cursor from the
ExecuteStatement result on, and on the BufferedCursor a lambda returns; a scan of a 3-document table
costs 3 ReadIOs, a 2-way self-join 3 + 9 and the 6-way self-join exactly 1092 over its 729 rows,
also through a read-ahead cursor."""

import pytest

from peerlib import create_table, make_driver, run

SIX_WAY = "SELECT * FROM Stats AS n1, Stats AS n2, Stats AS n3, Stats AS n4, Stats AS n5, Stats AS n6"


@pytest.fixture(scope="module")
def stats_table(driver):
    create_table(driver, "Stats")
    inserted = run(driver, "INSERT INTO Stats << ?, ?, ? >>", {"col": "a"}, {"col": "b"}, {"col": "c"})
    assert len(inserted) == 3
    return "Stats"


def stream_stats(qldb_driver, statement):
    """Stats seen on the stream cursor right after ExecuteStatement, after the first row and at the end."""

    def body(executor):
        cursor = executor.execute_statement(statement)
        initial = (cursor.get_consumed_ios(), cursor.get_timing_information())
        rows = [next(cursor)]
        after_first = (cursor.get_consumed_ios(), cursor.get_timing_information())
        rows.extend(cursor)
        final = (cursor.get_consumed_ios(), cursor.get_timing_information())
        return initial, after_first, final, len(rows)

    return qldb_driver.execute_lambda(body)


def assert_positive_timing(timing):
    assert timing is not None, "no (or zero) ProcessingTimeMilliseconds: pyqldb drops zeros"
    assert timing["ProcessingTimeMilliseconds"] > 0, timing


@pytest.mark.parametrize("statement, read_ios, row_count", [
    ("SELECT * FROM Stats", 3, 3),
    ("SELECT * FROM Stats AS a, Stats AS b", 3 + 9, 9),
    (SIX_WAY, 1092, 729),
])
def test_stream_cursor_stats(driver, stats_table, statement, read_ios, row_count):
    initial, after_first, final, rows = stream_stats(driver, statement)
    assert rows == row_count
    # The whole statement's ReadIOs arrive on the ExecuteStatement result (page 1).
    for ios, timing in (initial, after_first, final):
        assert ios is not None, "no (or zero) ReadIOs: pyqldb drops zeros"
        assert_positive_timing(timing)
    assert initial[0]["ReadIOs"] == read_ios, initial
    assert final[0]["ReadIOs"] == read_ios, "later pages must not add ReadIOs"


def test_buffered_cursor_stats(driver, stats_table):
    cursor = driver.execute_lambda(lambda executor: executor.execute_statement(SIX_WAY))
    assert type(cursor).__name__ == "BufferedCursor"
    assert cursor.get_consumed_ios() == {"ReadIOs": 1092}
    assert_positive_timing(cursor.get_timing_information())
    assert sum(1 for _ in cursor) == 729


def test_read_ahead_cursor_stats(stats_table, ledger):
    read_ahead_driver = make_driver(ledger, read_ahead=3)
    try:
        initial, _, final, rows = stream_stats(read_ahead_driver, SIX_WAY)
    finally:
        read_ahead_driver.close()
    assert rows == 729
    assert initial[0] == {"ReadIOs": 1092}
    assert final[0] == {"ReadIOs": 1092}
    assert_positive_timing(final[1])


def test_dml_reports_timing(driver, stats_table):
    def body(executor):
        cursor = executor.execute_statement("UPDATE Stats SET seen = true WHERE col = ?", "a")
        return cursor.get_consumed_ios(), cursor.get_timing_information(), len(list(cursor))

    ios, timing, rows = driver.execute_lambda(body)
    assert rows == 1
    assert_positive_timing(timing)
    assert ios is not None and ios["ReadIOs"] > 0, ios  # the UPDATE visited documents
