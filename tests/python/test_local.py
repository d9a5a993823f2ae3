"""``pyqldb.local`` (GetDigest, GetRevision, GetBlock, journal check on embedded ledgers): a revision verified
against the digest with ``QldbHash`` and its proof, a block's proof and hash chain, tampering detected, errors
for bad addresses and non-embedded endpoints; and the quickstart example (``make demo``) end to end."""

import subprocess
import sys
from pathlib import Path

import pytest
from amazon.ion.simpleion import loads
from pyqldb import _native
from pyqldb.errors import ClientError
from pyqldb.local import Ledger, address_text, proof_hashes
from pyqldb.util.qldb_hash import QldbHash
from support import create_table, rows

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"


def fold(leaf, proof):
    candidate = QldbHash(leaf)
    for h in proof:
        candidate = candidate.dot(QldbHash(h))
    return candidate


@pytest.fixture(params=["memory", "file"])
def ledger_driver(request, drivers):
    endpoint = request.getfixturevalue("memory_endpoint" if request.param == "memory" else "file_endpoint")
    d = drivers("verified", endpoint_url=endpoint)
    table = create_table(d, "Vault")
    doc_id = str(rows(d, "INSERT INTO Vault ?", {"owner": "Ada", "balance": 100})[0]["documentId"])
    rows(d, "UPDATE Vault SET balance = 120 WHERE owner = 'Ada'")
    return d, Ledger("verified", endpoint), table, doc_id


def test_revision_verifies_against_the_digest(ledger_driver):
    d, ledger, table, doc_id = ledger_driver
    assert ledger.exists() and ledger.name == "verified"
    committed = rows(d, f"SELECT * FROM _ql_committed_{table} AS c WHERE c.metadata.id = ?", doc_id)[0]
    digest = ledger.get_digest()
    assert len(digest["Digest"]) == 32
    response = ledger.get_revision(committed["blockAddress"], doc_id, digest["DigestTipAddress"])
    revision = loads(response["Revision"]["IonText"])
    leaf = QldbHash.to_qldb_hash(revision["data"]).dot(QldbHash.to_qldb_hash(revision["metadata"]))
    assert leaf.get_qldb_hash() == bytes(revision["hash"]) == bytes(committed["hash"])
    proof = proof_hashes(response["Proof"])
    assert fold(leaf.get_qldb_hash(), proof) == QldbHash(digest["Digest"])
    tampered = bytearray(leaf.get_qldb_hash())
    tampered[0] ^= 1
    assert fold(bytes(tampered), proof) != QldbHash(digest["Digest"])
    assert "Proof" not in ledger.get_revision(address_text(committed["blockAddress"]), doc_id)


def test_block_proof_and_chain(ledger_driver):
    d, ledger, table, doc_id = ledger_driver
    committed = rows(d, f"SELECT * FROM _ql_committed_{table} AS c WHERE c.metadata.id = ?", doc_id)[0]
    digest = ledger.get_digest()
    response = ledger.get_block(committed["blockAddress"], digest["DigestTipAddress"])
    block = loads(response["Block"]["IonText"])
    block_hash = bytes(block["blockHash"])
    assert fold(block_hash, proof_hashes(response["Proof"]["IonText"])) == QldbHash(digest["Digest"])
    expected = QldbHash(bytes(block["entriesHash"])).dot(QldbHash(bytes(block["previousBlockHash"])))
    assert expected.get_qldb_hash() == block_hash
    previous = {
        "strandId": str(block["blockAddress"]["strandId"]),
        "sequenceNo": int(block["blockAddress"]["sequenceNo"]) - 1,
    }
    previous_block = loads(ledger.get_block(previous)["Block"]["IonText"])
    assert bytes(previous_block["blockHash"]) == bytes(block["previousBlockHash"])
    report = ledger.verify()
    assert report["Digest"] == ledger.get_digest()["Digest"] and report["Blocks"] >= 3 and report["Revisions"] >= 2


def test_errors(memory_endpoint):
    ledger = Ledger("never-made", memory_endpoint)
    assert not ledger.exists()
    with pytest.raises(ClientError) as error:
        ledger.get_digest()
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ValueError, match="embedded"):
        Ledger("x", "http://127.0.0.1:9")
    with pytest.raises(ClientError) as error:
        Ledger("x", memory_endpoint).get_block("not ion {")
    assert error.value.response["Error"]["Code"] == "InvalidParameterException"


def test_ledger_endpoint_from_the_environment(monkeypatch, memory_endpoint):
    monkeypatch.setenv("AWS_ENDPOINT_URL_QLDB_SESSION", memory_endpoint)
    assert Ledger("env").endpoint_url == memory_endpoint
    monkeypatch.delenv("AWS_ENDPOINT_URL_QLDB_SESSION")
    with pytest.raises(ValueError):
        Ledger("env")


def test_proof_hashes_helper():
    assert proof_hashes({"IonText": "[{{AAAA}}, {{AQID}}]"}) == [b"\x00\x00\x00", b"\x01\x02\x03"]
    assert _native.ion_loads(b"[{{AQID}}]", "plain") == [b"\x01\x02\x03"]


def test_quickstart_example(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLE), str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "verified   : True" in out.stdout and "verifies? False" in out.stdout
