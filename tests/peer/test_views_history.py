"""Views (semantics.md §7, partiql.md §6): the user view holds data only; the committed view
``_ql_committed_T`` holds ``{blockAddress, hash, data, metadata{id, version, txTime, txId}}`` whose id is
the INSERT's documentId and the ``BY`` id, and whose txId is the committing transaction's id; ``history(T)``
lists every revision, versions counting up from 0, the delete revision without ``data``; deleted
documents leave the user and committed views; history time bounds; reads move the digest tip."""

import datetime

import pytest
from amazon.ion.core import IonType
from amazon.ion.simpleion import loads

from peerlib import create_table, revision_hash, run


@pytest.fixture(scope="module")
def cars(driver):
    create_table(driver, "Car")
    return "Car"


def insert_tracking_txn(driver, statement, *parameters):
    """Run an INSERT/UPDATE/DELETE; returns (rows, id of the transaction that committed it)."""
    txn_ids = []

    def body(executor):
        txn_ids.append(executor.transaction_id)
        return list(executor.execute_statement(statement, *parameters))

    rows = driver.execute_lambda(body)
    return rows, txn_ids[-1]


def assert_address(address):
    assert address.ion_type is IonType.STRUCT, address
    assert len(address["strandId"]) == 22, address
    assert address["sequenceNo"].ion_type is IonType.INT and address["sequenceNo"] >= 0, address


def test_committed_view_and_history(driver, cars):
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=60)
    rows, insert_txn = insert_tracking_txn(driver, "INSERT INTO Car ?", {"VIN": "V1", "Color": "red"})
    doc_id = str(rows[0]["documentId"])
    assert len(doc_id) == 22 and len(insert_txn) == 22

    # User view: data only.
    assert [dict(r) for r in run(driver, "SELECT * FROM Car WHERE VIN = ?", "V1")] == [{"VIN": "V1", "Color": "red"}]
    assert run(driver, "SELECT VALUE c_id FROM Car AS c BY c_id WHERE c.VIN = ?", "V1") == [doc_id]

    committed = run(driver, "SELECT * FROM _ql_committed_Car WHERE data.VIN = ?", "V1")
    assert len(committed) == 1, committed
    revision = committed[0]
    assert set(revision.keys()) >= {"blockAddress", "hash", "data", "metadata"}, revision
    assert_address(revision["blockAddress"])
    assert revision["hash"].ion_type is IonType.BLOB and len(revision["hash"]) == 32, revision
    assert dict(revision["data"]) == {"VIN": "V1", "Color": "red"}
    metadata = revision["metadata"]
    assert str(metadata["id"]) == doc_id
    assert metadata["version"] == 0
    assert str(metadata["txId"]) == insert_txn
    assert metadata["txTime"].ion_type is IonType.TIMESTAMP, metadata
    assert before < metadata["txTime"] < datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=60)
    assert bytes(revision["hash"]) == revision_hash(revision["data"], metadata), "revision hash = dot(H(data), H(metadata))"
    assert run(driver, "SELECT VALUE metadata.id FROM _ql_committed_Car WHERE metadata.id = ?", doc_id) == [doc_id]

    _, update_txn = insert_tracking_txn(driver, "UPDATE Car SET Color = ? WHERE VIN = ?", "blue", "V1")
    committed = run(driver, "SELECT * FROM _ql_committed_Car WHERE data.VIN = ?", "V1")
    assert len(committed) == 1
    assert committed[0]["metadata"]["version"] == 1
    assert str(committed[0]["metadata"]["txId"]) == update_txn
    assert str(committed[0]["metadata"]["id"]) == doc_id
    assert committed[0]["data"]["Color"] == "blue"
    assert committed[0]["blockAddress"]["sequenceNo"] > revision["blockAddress"]["sequenceNo"]
    assert committed[0]["blockAddress"]["strandId"] == revision["blockAddress"]["strandId"]

    _, delete_txn = insert_tracking_txn(driver, "DELETE FROM Car WHERE VIN = ?", "V1")
    assert run(driver, "SELECT * FROM Car WHERE VIN = ?", "V1") == []
    assert run(driver, "SELECT * FROM _ql_committed_Car WHERE metadata.id = ?", doc_id) == []

    history = run(driver, "SELECT * FROM history(Car) AS h WHERE h.metadata.id = ?", doc_id)
    history.sort(key=lambda r: int(r["metadata"]["version"]))
    assert [int(r["metadata"]["version"]) for r in history] == [0, 1, 2], history
    assert [str(r["metadata"]["txId"]) for r in history] == [insert_txn, update_txn, delete_txn]
    assert dict(history[0]["data"]) == {"VIN": "V1", "Color": "red"}
    assert dict(history[1]["data"]) == {"VIN": "V1", "Color": "blue"}
    assert "data" not in history[2], "the delete revision has no data"
    assert "metadata" in history[2]
    for entry in history:
        assert_address(entry["blockAddress"])
        assert len(entry["hash"]) == 32
    for entry in history[:2]:
        assert bytes(entry["hash"]) == revision_hash(entry["data"], entry["metadata"])
    times = [r["metadata"]["txTime"] for r in history]
    assert times == sorted(times), times

    # The same history through the table id.
    table_id = run(driver, "SELECT VALUE tableId FROM information_schema.user_tables WHERE name = ?", "Car")[0]
    by_id = run(driver, f"SELECT VALUE h.metadata.version FROM history('{table_id}') AS h WHERE h.metadata.id = ?",
                doc_id)
    assert sorted(by_id) == [0, 1, 2], by_id

    # history(T, start, end): start and end are inclusive bounds on when a revision was active.
    bounded = run(driver, "SELECT VALUE h.metadata.version FROM history(Car, `2000-01-01T00:00:00Z`) AS h "
                          "WHERE h.metadata.id = ?", doc_id)
    assert sorted(bounded) == [0, 1, 2], bounded
    ancient = run(driver, "SELECT VALUE h.metadata.version FROM history(Car, `2000-01-01T00:00:00Z`, "
                          "`2000-01-02T00:00:00Z`) AS h WHERE h.metadata.id = ?", doc_id)
    assert ancient == [], ancient


def test_history_filters_on_data(driver, cars):
    run(driver, "INSERT INTO Car ?", {"VIN": "V2", "Color": "green"})
    run(driver, "UPDATE Car SET Color = 'black' WHERE VIN = 'V2'")
    colors = run(driver, "SELECT VALUE h.data.Color FROM history(Car) AS h WHERE h.data.VIN = ?", "V2")
    assert sorted(colors) == ["black", "green"], colors


def test_every_commit_moves_the_digest_tip(driver, cars, qldb_client, ledger):
    def tip():
        return loads(qldb_client.get_digest(Name=ledger)["DigestTipAddress"]["IonText"])["sequenceNo"]

    start = tip()
    run(driver, "SELECT * FROM Car")  # a read-only transaction writes a block too
    after_read = tip()
    assert after_read == start + 1, (start, after_read)
    run(driver, "INSERT INTO Car ?", {"VIN": "V3"})
    assert tip() == after_read + 1
