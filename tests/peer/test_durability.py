"""Durability across a server restart: the session's ``qldb-local --data DIR`` is stopped with SIGTERM
(exit status 0) and started again on the same directory mid-suite. Every committed document, revision,
history entry, table, index, ledger setting and the digest survive; aborted work and deleted ledgers stay
gone; new transactions continue the same journal strand and still verify against the new digest."""

import pytest
from amazon.ion.simpleion import dumps, loads
from botocore.exceptions import ClientError
from pyqldb.errors import LambdaAbortedError

from peerlib import (create_table, error_code, fold_proof, make_driver, make_qldb_client, revision_hash, run,
                     unique_ledger_name, wait_until_active)


def snapshot(qldb_driver):
    committed = run(qldb_driver, "SELECT * FROM _ql_committed_Durable")
    history = run(qldb_driver, "SELECT * FROM history(Durable) AS h")
    return {
        "committed": sorted(dumps(r, binary=False) for r in committed),
        "history": sorted(dumps(r, binary=False) for r in history),
        "user_view": sorted(dumps(r, binary=False) for r in run(qldb_driver, "SELECT * FROM Durable")),
        "tables": sorted(qldb_driver.list_tables()),
        "schema": sorted(dumps(r, binary=False) for r in run(qldb_driver, "SELECT * FROM information_schema.user_tables")),
    }


def test_restart_keeps_every_committed_document(ledger, qldb_server, restart_server):
    client = make_qldb_client()
    qldb_driver = make_driver(ledger)
    create_table(qldb_driver, "Durable")
    create_table(qldb_driver, "Other")
    run(qldb_driver, "CREATE INDEX ON Durable (k)")
    for batch in range(5):
        docs = [{"k": batch * 10 + i, "v": loads("note::{{aGVsbG8=}}"), "d": loads("1.50")} for i in range(10)]
        assert len(run(qldb_driver, "INSERT INTO Durable ?", docs)) == 10
    run(qldb_driver, "UPDATE Durable SET v = 'changed' WHERE k < 5")
    run(qldb_driver, "DELETE FROM Durable WHERE k >= 45")
    run(qldb_driver, "INSERT INTO Other ?", {"x": 1})
    run(qldb_driver, "DROP TABLE Other")

    # Work that must not survive: an aborted transaction.
    def aborted(executor):
        executor.execute_statement("INSERT INTO Durable ?", {"k": 999})
        executor.abort()

    with pytest.raises(LambdaAbortedError):
        qldb_driver.execute_lambda(aborted)

    # A ledger deleted before the restart stays deleted.
    gone = unique_ledger_name("gone")
    client.create_ledger(Name=gone, PermissionsMode="ALLOW_ALL", DeletionProtection=False)
    wait_until_active(client, gone)
    client.delete_ledger(Name=gone)

    client.update_ledger(Name=ledger, DeletionProtection=True)
    described_before = client.describe_ledger(Name=ledger)
    before = snapshot(qldb_driver)
    assert len(before["user_view"]) == 45
    assert len(before["committed"]) == 45
    assert len(before["history"]) == 50 + 5 + 5
    digest_before = client.get_digest(Name=ledger)
    qldb_driver.close()
    client.close()

    old_endpoint = qldb_server.endpoint
    restart_server()
    assert qldb_server.exit_codes[-1] == 0
    assert qldb_server.first_line.startswith("qldb-local listening on http://127.0.0.1:"), qldb_server.first_line

    client = make_qldb_client()
    assert client.meta.endpoint_url == qldb_server.endpoint
    try:
        described_after = client.describe_ledger(Name=ledger)
        for key in ("Name", "Arn", "State", "CreationDateTime", "PermissionsMode", "DeletionProtection"):
            assert described_after[key] == described_before[key], (key, described_before, described_after)
        client.update_ledger(Name=ledger, DeletionProtection=False)
        with pytest.raises(ClientError) as error:
            client.describe_ledger(Name=gone)
        assert error_code(error.value) == "ResourceNotFoundException"

        # Nothing committed since the restart: the digest and its tip are unchanged.
        digest_after = client.get_digest(Name=ledger)
        assert digest_after["Digest"] == digest_before["Digest"]
        assert loads(digest_after["DigestTipAddress"]["IonText"]) == loads(digest_before["DigestTipAddress"]["IonText"])

        qldb_driver = make_driver(ledger)
        try:
            after = snapshot(qldb_driver)
            for key in before:
                assert after[key] == before[key], (key, old_endpoint, qldb_server.endpoint)
            assert run(qldb_driver, "SELECT * FROM Durable WHERE k = 999") == []
            assert run(qldb_driver, "SELECT VALUE indexes[0].expr FROM information_schema.user_tables "
                                    "WHERE name = 'Durable'") == ["[k]"]

            # New work continues the strand after the old tip, and verifies against the new digest.
            old_tip = loads(digest_before["DigestTipAddress"]["IonText"])
            new_id = str(run(qldb_driver, "INSERT INTO Durable ?", {"k": 1000})[0]["documentId"])
            revision = run(qldb_driver, "SELECT * FROM _ql_committed_Durable WHERE metadata.id = ?", new_id)[0]
            assert revision["blockAddress"]["strandId"] == old_tip["strandId"]
            assert revision["blockAddress"]["sequenceNo"] > old_tip["sequenceNo"]
            digest = client.get_digest(Name=ledger)
            response = client.get_revision(
                Name=ledger, DocumentId=new_id, DigestTipAddress=digest["DigestTipAddress"],
                BlockAddress={"IonText": dumps(revision["blockAddress"], binary=False, omit_version_marker=True)})
            leaf = revision_hash(revision["data"], revision["metadata"])
            proof = [bytes(p) for p in loads(response["Proof"]["IonText"])]
            assert fold_proof(leaf, proof) == digest["Digest"]
        finally:
            qldb_driver.close()
    finally:
        client.close()
