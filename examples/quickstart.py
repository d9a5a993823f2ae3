"""A tour of pyqldb-rs on an embedded, file-backed ledger: the pyqldb 3.x API unchanged, plus
cryptographic verification of a document revision against the ledger digest.

    python examples/quickstart.py [DATA_DIR]      (default: a new temporary directory)

Steps: create tables and an index, insert documents, query, update, read a document's history,
then fetch the ledger digest and the revision with its proof (``pyqldb.local``) and verify it with
``pyqldb.util.qldb_hash.QldbHash``: the revision hash recomputed from its data and metadata, the proof
folded into the digest, and a tampered revision rejected.
"""

import sys
import tempfile
from datetime import datetime, timezone
from decimal import Decimal

from amazon.ion.simpleion import dumps
from pyqldb import _native
from pyqldb.driver.qldb_driver import QldbDriver
from pyqldb.local import Ledger, proof_hashes
from pyqldb.util.qldb_hash import QldbHash

LEDGER = "quickstart"


def step(title):
    print("\n== " + title)


def ion_text(value):
    return dumps(value, binary=False, omit_version_marker=True)


def main(data_dir):
    endpoint = "file://" + data_dir
    print("ledger %r in %s" % (LEDGER, endpoint))
    driver = QldbDriver(LEDGER, endpoint_url=endpoint)

    step("Tables and an index")
    for statement in ("CREATE TABLE Vehicle", "CREATE TABLE Person", "CREATE INDEX ON Vehicle (VIN)"):
        result = driver.execute_lambda(lambda ex, s=statement: list(ex.execute_statement(s)))
        print("%-32s -> tableId %s" % (statement, result[0]["tableId"]))
    print("tables:", sorted(str(name) for name in driver.list_tables()))

    step("Inserts (native Python values as parameters)")
    vehicles = [
        {"VIN": "1N4AL11D75C109151", "Make": "Volkswagen", "Model": "Golf", "Year": 2011, "Price": Decimal("14999.90")},
        {"VIN": "KM8SRDHF6EU074761", "Make": "Tesla", "Model": "Model S", "Year": 2021, "Price": Decimal("62000.00")},
    ]
    ids = driver.execute_lambda(
        lambda ex: [str(row["documentId"]) for row in ex.execute_statement("INSERT INTO Vehicle << ?, ? >>", *vehicles)]
    )
    print("Vehicle documents:", ids)
    owner = {
        "Name": "Ada",
        "Licensed": datetime(2015, 3, 1, tzinfo=timezone.utc),
        "Vehicles": [v["VIN"] for v in vehicles],
    }
    person = driver.execute_lambda(lambda ex: list(ex.execute_statement("INSERT INTO Person ?", owner)))
    print("Person document:", person[0]["documentId"])

    step("Queries")
    cursor = driver.execute_lambda(lambda ex: ex.execute_statement("SELECT * FROM Vehicle WHERE Year >= ?", 2015))
    for row in cursor:
        print("  IonPy result:", ion_text(row))
    print("  read IOs:", cursor.get_consumed_ios(), "timing:", cursor.get_timing_information())
    plain = driver.execute_lambda(
        lambda ex: list(ex.execute_statement("SELECT VALUE v.Make FROM Vehicle AS v")), value_model="plain"
    )
    print("  plain values:", sorted(plain))

    step("An update")
    vin = vehicles[0]["VIN"]
    updated = driver.execute_lambda(
        lambda ex: list(ex.execute_statement("UPDATE Vehicle SET Price = ? WHERE VIN = ?", Decimal("12500.00"), vin))
    )
    doc_id = str(updated[0]["documentId"])
    print("updated document", doc_id)

    step("History of the document")
    history = driver.execute_lambda(
        lambda ex: list(ex.execute_statement("SELECT * FROM history(Vehicle) AS h WHERE h.metadata.id = ?", doc_id))
    )
    for revision in sorted(history, key=lambda h: int(h["metadata"]["version"])):
        print(
            "  version %s at block %s: Price %s"
            % (revision["metadata"]["version"], ion_text(revision["blockAddress"]), revision["data"]["Price"])
        )

    step("Verify the latest revision against the ledger digest")
    committed = driver.execute_lambda(
        lambda ex: list(
            ex.execute_statement("SELECT * FROM _ql_committed_Vehicle AS c WHERE c.metadata.id = ?", doc_id)
        )
    )[0]
    ledger = Ledger(LEDGER, endpoint)
    digest = ledger.get_digest()
    print("digest     :", digest["Digest"].hex(), "at", digest["DigestTipAddress"]["IonText"])
    response = ledger.get_revision(committed["blockAddress"], doc_id, digest["DigestTipAddress"])
    revision = _native.ion_loads(response["Revision"]["IonText"].encode())
    print("revision   : version %s, hash %s" % (revision["metadata"]["version"], bytes(revision["hash"]).hex()))

    # The revision hash is dot(H(data), H(metadata)); the proof folds it into the digest.
    leaf = QldbHash.to_qldb_hash(revision["data"]).dot(QldbHash.to_qldb_hash(revision["metadata"]))
    assert leaf == QldbHash(bytes(revision["hash"])), "the revision hash does not match its data and metadata"
    print("recomputed : %r (matches the stored revision hash)" % leaf)
    candidate = leaf
    proof = proof_hashes(response["Proof"])
    for hash_ in proof:
        candidate = candidate.dot(QldbHash(hash_))
    print("proof      : %d hashes folded -> %r" % (len(proof), candidate))
    verified = candidate == QldbHash(digest["Digest"])
    print("verified   :", verified)
    assert verified

    tampered = _native.ion_loads(response["Revision"]["IonText"].encode())
    tampered["data"]["Price"] = Decimal("1.00")
    forged = QldbHash.to_qldb_hash(tampered["data"]).dot(QldbHash.to_qldb_hash(tampered["metadata"]))
    for hash_ in proof:
        forged = forged.dot(QldbHash(hash_))
    print("tampered   : Price 1.00 verifies? %s" % (forged == QldbHash(digest["Digest"])))
    assert forged != QldbHash(digest["Digest"])

    step("Whole-journal check")
    report = ledger.verify()
    print("%d blocks, %d revisions, digest %s" % (report["Blocks"], report["Revisions"], report["Digest"].hex()))

    driver.close()
    print("\ndone")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory(prefix="pyqldb-quickstart-") as directory:
            main(directory)
