"""``QldbDriver.execute_lambda`` and ``list_tables`` (pyqldb-api.md §1.1, §2, §3): what the lambda returns
comes back unchanged (a returned cursor is buffered); DDL, DML and SELECT through ``Executor.execute_statement``
with their result shapes; several statements in one transaction see each other's writes;
``Executor.transaction_id``; ``list_tables()`` as a ``BufferedCursor`` of ``IonPyText``; the context
manager, ``close()`` and ``DriverClosedError``; the ``read_ahead`` and deprecated ``retry_limit``
properties; a per-call ``retry_config``."""

import warnings

import pytest
from amazon.ion.core import IonType
from compatlib import ID_RE, Conflicter, assert_client_error, assert_ion_type, count, create_table, run
from pyqldb.config.retry_config import RetryConfig
from pyqldb.cursor.buffered_cursor import BufferedCursor
from pyqldb.errors import DriverClosedError, IllegalStateError


@pytest.fixture(scope="module")
def people(driver):
    table = create_table(driver, "People")
    rows = run(driver, "CREATE INDEX ON People (name)")
    assert len(rows) == 1 and ID_RE.match(str(rows[0]["tableId"])), rows
    return table


SENTINEL = object()


@pytest.mark.parametrize("value", [
    None, 0, 42, "text", 1.5, True, (1, "two"), [1, 2, 3], {"k": "v"}, SENTINEL,
], ids=lambda v: type(v).__name__)
def test_return_value_passes_through_unchanged(driver, value):
    result = driver.execute_lambda(lambda executor: value)
    assert result is value


def test_return_value_computed_from_rows(driver, people):
    run(driver, "INSERT INTO People ?", {"name": "ret", "age": 7})
    age = driver.execute_lambda(
        lambda ex: [int(r["age"]) for r in ex.execute_statement("SELECT * FROM People WHERE name = ?", "ret")])
    assert age == [7]


def test_ddl_results(driver):
    table = "Ddl_Table"
    created = run(driver, f"CREATE TABLE {table}")
    assert len(created) == 1, created
    assert_ion_type(created[0], IonType.STRUCT)
    table_id = str(created[0]["tableId"])
    assert ID_RE.match(table_id), created
    assert_ion_type(created[0]["tableId"], IonType.STRING)

    index = run(driver, f"CREATE INDEX ON {table} (code)")
    assert [str(r["tableId"]) for r in index] == [table_id], index

    dropped = run(driver, f"DROP TABLE {table}")
    assert [str(r["tableId"]) for r in dropped] == [table_id], dropped
    assert table not in [str(n) for n in driver.list_tables()]


def test_insert_select_update_delete(driver, people):
    inserted = driver.execute_lambda(lambda ex: list(ex.execute_statement(
        "INSERT INTO People << ?, ? >>", {"name": "Alice", "age": 30}, {"name": "Bob", "age": 40})))
    assert len(inserted) == 2, inserted
    ids = [str(r["documentId"]) for r in inserted]
    assert all(ID_RE.match(i) for i in ids) and ids[0] != ids[1], ids

    rows = run(driver, "SELECT p.name, p.age FROM People AS p WHERE p.name IN (?, ?)", "Alice", "Bob")
    assert sorted((str(r["name"]), int(r["age"])) for r in rows) == [("Alice", 30), ("Bob", 40)], rows
    for row in rows:
        assert_ion_type(row, IonType.STRUCT)
        assert_ion_type(row["name"], IonType.STRING)
        assert_ion_type(row["age"], IonType.INT)

    values = run(driver, "SELECT VALUE p.name FROM People AS p WHERE p.age >= ?", 30)
    assert {"Alice", "Bob"} <= set(str(v) for v in values), values

    by_id = run(driver, "SELECT r_id FROM People AS r BY r_id WHERE r.name = ?", "Bob")
    assert [str(r["r_id"]) for r in by_id] == [ids[1]], by_id

    updated = run(driver, "UPDATE People AS p SET p.age = p.age + ? WHERE p.name = ?", 1, "Alice")
    assert [str(r["documentId"]) for r in updated] == [ids[0]], updated
    assert [int(v) for v in run(driver, "SELECT VALUE age FROM People WHERE name = ?", "Alice")] == [31]

    deleted = run(driver, "DELETE FROM People AS p WHERE p.name = ?", "Bob")
    assert [str(r["documentId"]) for r in deleted] == [ids[1]], deleted
    assert run(driver, "SELECT * FROM People WHERE name = ?", "Bob") == []


def test_statements_in_one_transaction_see_each_other(driver, people):
    def work(executor):
        list(executor.execute_statement("INSERT INTO People ?", {"name": "tx-1"}))
        list(executor.execute_statement("INSERT INTO People ?", {"name": "tx-2"}))
        inside = list(executor.execute_statement("SELECT VALUE name FROM People WHERE name IN ('tx-1', 'tx-2')"))
        return sorted(str(v) for v in inside)

    assert driver.execute_lambda(work) == ["tx-1", "tx-2"]
    assert count(driver, "People", "WHERE name IN ('tx-1', 'tx-2')") == 2


def test_transaction_id(driver):
    seen = []

    from pyqldb.execution.executor import Executor

    def work(executor):
        assert isinstance(executor, Executor), type(executor)
        first = executor.transaction_id
        executor.execute_statement("SELECT * FROM information_schema.user_tables")
        seen.append((first, executor.transaction_id))
        return first

    first = driver.execute_lambda(work)
    second = driver.execute_lambda(work)
    for a, b in seen:
        assert a == b, seen
        assert isinstance(a, str) and ID_RE.match(a), seen
    assert first != second


def test_list_tables(driver, people):
    created = create_table(driver, "Listed")
    tables = driver.list_tables()
    assert isinstance(tables, BufferedCursor), type(tables)
    names = list(tables)
    for name in names:
        assert_ion_type(name, IonType.STRING)
        assert isinstance(name, str)
    assert {people, created} <= set(names), names
    assert list(tables) == [], "a BufferedCursor is single-pass"
    run(driver, f"DROP TABLE {created}")
    assert created not in list(driver.list_tables())


def test_context_manager_and_closed_driver(driver_factory):
    d = driver_factory()
    with d as entered:
        assert entered is d
        assert entered.execute_lambda(lambda ex: "inside") == "inside"
    with pytest.raises(DriverClosedError) as error:
        d.execute_lambda(lambda ex: "never")
    assert isinstance(error.value, IllegalStateError)
    assert str(error.value) == "Cannot invoke methods on a closed driver. Please create a new driver and retry."
    with pytest.raises(DriverClosedError):
        d.list_tables()
    d.close()  # closing twice is harmless
    with pytest.raises(DriverClosedError):
        d.execute_lambda(lambda ex: "never")


def test_closed_driver_does_not_run_the_lambda(driver_factory):
    d = driver_factory()
    d.execute_lambda(lambda ex: None)
    d.close()
    calls = []
    with pytest.raises(DriverClosedError):
        d.execute_lambda(lambda ex: calls.append(1))
    assert calls == []


def test_read_ahead_property(driver_factory):
    assert driver_factory().read_ahead == 0
    assert driver_factory(read_ahead=2).read_ahead == 2
    assert driver_factory(read_ahead=7).read_ahead == 7


def test_retry_limit_property_is_deprecated(driver_factory):
    d = driver_factory(retry_config=RetryConfig(retry_limit=3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert d.retry_limit == 3
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert [str(w.message) for w in deprecations] == [
        "The retry_limit property in QldbDriver class is deprecated. Please call RetryConfig's retry_limit "
        "property instead."], [str(w.message) for w in caught]
    assert deprecations[0].filename == __file__, "stacklevel=2 points at the caller"
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("ignore")
        assert driver_factory().retry_limit == 4


def test_per_call_retry_config_replaces_the_drivers(driver_factory):
    d = driver_factory(retry_config=RetryConfig(retry_limit=4, custom_backoff=lambda *a: 0))
    table = create_table(d)
    conflict = Conflicter(driver_factory(), table)
    attempts = []

    def always_conflict(executor):
        attempts.append(executor.transaction_id)
        list(executor.execute_statement(f"SELECT * FROM {table}"))
        conflict()
        return "unreachable"

    with pytest.raises(Exception) as error:
        d.execute_lambda(always_conflict, RetryConfig(retry_limit=1, custom_backoff=lambda *a: 0))
    assert_client_error(error.value, code="OccConflictException")
    assert len(attempts) == 2, attempts

    attempts.clear()
    with pytest.raises(Exception) as error:
        d.execute_lambda(always_conflict, retry_config=RetryConfig(retry_limit=0))
    assert_client_error(error.value, code="OccConflictException")
    assert len(attempts) == 1, attempts

    # The driver's own configuration is untouched: 1 + 4 attempts.
    attempts.clear()
    with pytest.raises(Exception) as error:
        d.execute_lambda(always_conflict)
    assert_client_error(error.value, code="OccConflictException")
    assert len(attempts) == 5, attempts
