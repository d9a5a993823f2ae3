"""Statements through the unmodified driver's ``execute_lambda``: tables (``list_tables``, CREATE/DROP
TABLE), indexes (CREATE INDEX, then ``indexes[0].expr`` in ``information_schema.user_tables``),
INSERT/SELECT/UPDATE/DELETE with parameters and their result shapes (partiql.md §2-§4), ``COUNT(*)``,
``BY`` ids, ``information_schema.user_tables``, pagination through FetchPage, ``executor.abort()``
discarding writes, and the errors: bad PartiQL, unknown tables, parameter count mismatch, duplicate
tables (BadRequestException, not retried), and an unknown ledger at StartSession."""

import pytest
from amazon.ion.simpleion import dumps, loads
from botocore.exceptions import ClientError
from pyqldb.config.retry_config import RetryConfig
from pyqldb.errors import LambdaAbortedError

from peerlib import WireRecorder, create_table, error_code, error_message, make_driver, run, unique_ledger_name


@pytest.fixture(scope="module")
def people(driver):
    """Table ``Person`` with an index on ``Name``."""
    create_table(driver, "Person")
    rows = run(driver, "CREATE INDEX ON Person (Name)")
    assert len(rows) == 1, rows
    return "Person"


def test_list_tables_and_create_index(driver, people):
    create_table(driver, "Vehicle")
    tables = driver.list_tables()
    names = list(tables)
    assert sorted(names) == ["Person", "Vehicle"], names
    assert all(type(n).__name__ == "IonPyText" for n in names), [type(n) for n in names]

    rows = run(driver, "SELECT VALUE indexes[0] FROM information_schema.user_tables "
                       "WHERE status = 'ACTIVE' AND name = ?", "Person")
    assert len(rows) == 1, rows
    assert rows[0]["expr"] == "[Name]", rows
    assert len(rows[0]["indexId"]) == 22, rows

    # The table listing query exactly as the Node.js driver and the digest vectors spell it.
    rows = run(driver, "SELECT VALUE name FROM information_schema.user_tables WHERE status = 'ACTIVE'AND name = ?",
               "Vehicle")
    assert rows == ["Vehicle"], rows


def test_information_schema(driver, people):
    table_id = create_table(driver, "Dropped")
    rows = run(driver, "SELECT * FROM information_schema.user_tables")
    by_name = {str(r["name"]): r for r in rows}
    assert {"Person", "Dropped"} <= set(by_name), rows
    assert str(by_name["Dropped"]["tableId"]) == table_id
    for row in rows:
        assert len(row["tableId"]) == 22, row
        assert row["status"] in ("ACTIVE", "INACTIVE"), row
    person = by_name["Person"]
    assert person["status"] == "ACTIVE"
    assert len(person["indexes"]) == 1, person
    assert person["indexes"][0]["expr"] == "[Name]"
    assert person["indexes"][0]["status"] in ("BUILDING", "FINALIZING", "ONLINE"), person
    assert list(by_name["Dropped"]["indexes"]) == [], by_name["Dropped"]

    dropped = run(driver, "DROP TABLE Dropped")
    assert len(dropped) == 1 and str(dropped[0]["tableId"]) == table_id, dropped
    assert "Dropped" not in list(driver.list_tables())
    status = run(driver, "SELECT VALUE status FROM information_schema.user_tables WHERE name = ?", "Dropped")
    assert status == ["INACTIVE"], status


def test_insert_select_update_delete(driver, people):
    inserted = driver.execute_lambda(lambda ex: list(ex.execute_statement(
        "INSERT INTO Person << ?, ? >>",
        loads(dumps({"Name": "Alice", "Age": 30, "Tags": ["a"]})),
        {"Name": "Bob", "Age": 40})))
    assert len(inserted) == 2, inserted
    ids = [str(row["documentId"]) for row in inserted]
    assert all(len(i) == 22 for i in ids) and ids[0] != ids[1], ids

    single = run(driver, "INSERT INTO Person VALUE {'Name': 'Carol', 'Age': 50}")
    assert len(single) == 1 and len(single[0]["documentId"]) == 22, single

    count = run(driver, "SELECT COUNT(*) FROM Person")
    assert len(count) == 1 and count[0]["_1"] == 3, count

    alice = run(driver, "SELECT * FROM Person WHERE Name = ?", "Alice")
    assert len(alice) == 1, alice
    assert alice[0]["Name"] == "Alice" and alice[0]["Age"] == 30 and list(alice[0]["Tags"]) == ["a"], alice

    projected = run(driver, "SELECT p.Name, p.Age FROM Person AS p WHERE p.Age > ?", 35)
    assert sorted((str(r["Name"]), int(r["Age"])) for r in projected) == [("Bob", 40), ("Carol", 50)], projected

    assert sorted(run(driver, "SELECT VALUE Name FROM Person WHERE Name IN (?, ?)", "Alice", "Carol")) \
        == ["Alice", "Carol"]

    by_id = run(driver, "SELECT r_id, r.Name FROM Person AS r BY r_id WHERE r.Name = ?", "Bob")
    assert len(by_id) == 1 and str(by_id[0]["r_id"]) == ids[1], (by_id, ids)
    assert run(driver, "SELECT VALUE r.Name FROM Person AS r BY r_id WHERE r_id = ?", ids[0]) == ["Alice"]

    updated = run(driver, "UPDATE Person AS p SET p.Age = p.Age + ?, p.City = ? WHERE p.Name = ?", 1, "Paris", "Alice")
    assert [str(r["documentId"]) for r in updated] == [ids[0]], updated
    alice = run(driver, "SELECT * FROM Person WHERE Name = ?", "Alice")
    assert alice[0]["Age"] == 31 and alice[0]["City"] == "Paris", alice

    removed = run(driver, "UPDATE Person AS p REMOVE p.City WHERE p.Name = ?", "Alice")
    assert len(removed) == 1, removed
    assert "City" not in run(driver, "SELECT * FROM Person WHERE Name = ?", "Alice")[0]

    deleted = run(driver, "DELETE FROM Person AS p WHERE p.Name = ?", "Bob")
    assert [str(r["documentId"]) for r in deleted] == [ids[1]], deleted
    assert sorted(run(driver, "SELECT VALUE Name FROM Person")) == ["Alice", "Carol"]
    assert run(driver, "SELECT * FROM Person WHERE Name = ?", "Bob") == []

    everything = run(driver, "DELETE FROM Person")
    assert len(everything) == 2, everything
    assert run(driver, "SELECT COUNT(*) FROM Person")[0]["_1"] == 0


def test_several_statements_in_one_transaction(driver, people):
    def work(executor):
        assert len(executor.transaction_id) == 22
        for i in range(5):
            assert len(list(executor.execute_statement("INSERT INTO Person ?", {"Name": f"multi-{i}", "n": i}))) == 1
        # Reads inside the transaction see its own writes.
        return list(executor.execute_statement("SELECT VALUE n FROM Person WHERE Name LIKE 'multi-%'"))

    assert sorted(driver.execute_lambda(work)) == [0, 1, 2, 3, 4]
    assert run(driver, "SELECT COUNT(*) FROM Person WHERE Name LIKE 'multi-%'")[0]["_1"] == 5
    run(driver, "DELETE FROM Person WHERE Name LIKE 'multi-%'")


def test_results_span_several_pages(driver):
    create_table(driver, "Paged")
    # 300 documents of about 1 KB in 10 transactions (QLDB allows 40 documents per transaction),
    # then one SELECT over all of them.
    for batch in range(10):
        docs = [{"i": batch * 30 + i, "pad": "x" * 1000} for i in range(30)]
        assert len(run(driver, "INSERT INTO Paged ?", docs)) == 30
    recorder = WireRecorder(driver)
    rows = run(driver, "SELECT * FROM Paged")
    assert sorted(row["i"] for row in rows) == list(range(300))
    assert all(row["pad"] == "x" * 1000 for row in rows)
    # Whatever the page size, every value arrived exactly once (FetchPage is used if pages are cut).
    executes = [c for c in recorder.calls if c["command"] == "ExecuteStatement"]
    assert len(executes) == 1, recorder.describe()
    first_page = executes[0]["parsed"]["ExecuteStatement"]["FirstPage"]
    fetches = [c for c in recorder.calls if c["command"] == "FetchPage"]
    if "NextPageToken" in first_page:
        assert fetches, recorder.describe()
    else:
        assert len(first_page["Values"]) == 300 and not fetches, recorder.describe()


def test_abort_discards_writes(driver, people):
    def aborting(executor):
        executor.execute_statement("INSERT INTO Person ?", {"Name": "ghost"})
        executor.abort()

    recorder = WireRecorder(driver)
    with pytest.raises(LambdaAbortedError):
        driver.execute_lambda(aborting)
    assert recorder.commands()[-1] == "AbortTransaction", recorder.describe()
    assert all(c["status"] == 200 for c in recorder.calls), recorder.describe()
    assert run(driver, "SELECT * FROM Person WHERE Name = ?", "ghost") == []


def count_calls(qldb_driver, statement, *parameters):
    calls = []

    def body(executor):
        calls.append(executor.transaction_id)
        return list(executor.execute_statement(statement, *parameters))

    with pytest.raises(ClientError) as error:
        qldb_driver.execute_lambda(body)
    return error.value, calls


@pytest.mark.parametrize("statement", [
    "SELEC * FROM Person",
    "SELECT * FROM Person WHERE",
    "SELECT * FROM Person ORDER BY Name",
    "INSERT INTO Person VALUE {'a': }",
    "CREATE TABLE",
])
def test_bad_partiql_is_a_bad_request(driver, people, statement):
    error, calls = count_calls(driver, statement)
    assert error_code(error) == "BadRequestException", error.response
    assert error_message(error), error.response
    assert len(calls) == 1, "a BadRequestException must not be retried"


@pytest.mark.parametrize("statement", [
    "SELECT * FROM NoSuchTable",
    "DELETE FROM NonExistentTable",
    "INSERT INTO NoSuchTable VALUE {'a': 1}",
    "UPDATE NoSuchTable SET a = 1",
    "DROP TABLE NoSuchTable",
    "CREATE INDEX ON NoSuchTable (a)",
])
def test_unknown_table_is_a_bad_request(driver, people, statement):
    error, calls = count_calls(driver, statement)
    assert error_code(error) == "BadRequestException", error.response
    assert len(calls) == 1


def test_table_names_are_case_sensitive(driver, people):
    error, _ = count_calls(driver, "SELECT * FROM person")
    assert error_code(error) == "BadRequestException", error.response
    assert run(driver, 'SELECT * FROM "Person" WHERE Name = ?', "nobody") == []


def test_create_existing_table_is_a_bad_request(driver, people):
    error, calls = count_calls(driver, "CREATE TABLE Person")
    assert error_code(error) == "BadRequestException", error.response
    assert len(calls) == 1


def test_parameter_count_mismatch(driver, people):
    error, calls = count_calls(driver, "SELECT * FROM Person WHERE Name = ?")
    assert error_code(error) == "BadRequestException", error.response
    assert error_message(error) == "Query expects 1 parameters, but statement has 0", error.response
    error, _ = count_calls(driver, "SELECT * FROM Person WHERE Name = ?", "a", "b")
    assert error_message(error) == "Query expects 1 parameters, but statement has 2", error.response


def test_failed_statement_aborts_and_session_stays_usable(driver, people):
    recorder = WireRecorder(driver)
    with pytest.raises(ClientError):
        driver.execute_lambda(lambda ex: (ex.execute_statement("INSERT INTO Person ?", {"Name": "half"}),
                                          ex.execute_statement("SELECT * FROM NoSuchTable")))
    sequence = recorder.commands()
    assert sequence[-3:] == ["ExecuteStatement", "ExecuteStatement", "AbortTransaction"], recorder.describe()
    assert recorder.calls[-1]["status"] == 200, recorder.describe()
    # The insert of the failed transaction is gone and the pooled session works.
    assert run(driver, "SELECT * FROM Person WHERE Name = ?", "half") == []


def test_unknown_ledger_at_start_session():
    missing_driver = make_driver(unique_ledger_name("nosuchledger"), retry_config=RetryConfig(retry_limit=4))
    recorder = WireRecorder(missing_driver)
    calls = []
    try:
        with pytest.raises(ClientError) as error:
            missing_driver.execute_lambda(lambda ex: calls.append(1))
    finally:
        missing_driver.close()
    assert error_code(error.value) == "BadRequestException", error.value.response
    assert calls == [], "the lambda must never run"
    # pyqldb retries every StartSession failure: 5 attempts with the default limit of 4.
    assert recorder.commands() == ["StartSession"] * 5, recorder.describe()
    assert all(c["code"] == "BadRequestException" and c["status"] == 400 for c in recorder.calls), recorder.describe()
