"""Client-side verification (hashing.md §2-§7) in plain Python: hashlib, the ``ionhash`` package for Ion
Hash and our own ``dot``. First the helpers are checked against the spec's vectors; then, against the
server: GetDigest + GetRevision (with a tip) return a revision whose hash we recompute as
``dot(H(data), H(metadata))`` and whose proof folds into the digest; flipping one bit of the leaf, of a
proof hash or of the digest makes verification fail; GetBlock's proof verifies the block hash, the block
obeys ``blockHash = dot(entriesHash, previousBlockHash)`` and chains to its predecessor; the CommitDigest
echoed by every commit equals the digest computed client-side; bad addresses are
InvalidParameterException."""

import hashlib

import pytest
from amazon.ion.core import IonType
from amazon.ion.simpleion import dumps, loads
from botocore.exceptions import ClientError

from peerlib import (WireRecorder, create_table, dot, error_code, flip_bit, fold_proof, ion_hash, merkle_root,
                     revision_hash, run)

# hashing.md §2 and vectors/hashes.json
DOT_VECTORS = [
    (hashlib.sha256(b"1").digest(), hashlib.sha256(b"2").digest(),
     "940ed9abddfb5ef28004408546bc5043cda391232b6afe07267f9f8ed2b500c9"),
    (bytes.fromhex("52fcb708306dac99324c4b5e4f326cb5fece61b9a110f9cca86891a2fd84737f"),
     bytes.fromhex("e1d3c5ddebfe82c8c59dfb3c73bac71360ba16bf7bcf5710d4dab13890aa462e"),
     "e5d93108cccfd294a516fd71c5c440da45e6bd7e00351d249336e345e16f6d64"),
]
# hashing.md §4: a real GetRevision response.
REVISION_VECTOR = {
    "data": '{_key:"myKey1",_val:"MyValue1"}',
    "metadata": '{id:"5vHoYG5m0OZCsqdYCs8XLH",version:13,txTime:2021-06-02T07:03:05.226Z,txId:"EVaGjT4dxspC4GUhHi4DDJ"}',
    "hash_hex": "0eb173b6806b58acfe98257e0679cc7c4651c1f25c0fe0cd2d13cb735e9289d6",
}


def test_client_side_helpers_match_the_spec_vectors():
    for a, b, expected in DOT_VECTORS:
        assert dot(a, b).hex() == expected
        assert dot(b, a).hex() == expected
    assert ion_hash("TXN123") == hashlib.sha256(b"\x0b\x80TXN123\x0e").digest()
    assert ion_hash(loads("abc")).hex() == "c690af405818e2d876a4c2692f1210dbdd14ff6b238ff0a92222f3d71707ee1d"
    data, metadata = loads(REVISION_VECTOR["data"]), loads(REVISION_VECTOR["metadata"])
    assert revision_hash(data, metadata).hex() == REVISION_VECTOR["hash_hex"]
    assert revision_hash(loads('{_key:"myKey1",_val:"MyValue2"}'), metadata).hex() != REVISION_VECTOR["hash_hex"]
    leaf, p1, p2 = (hashlib.sha256(bytes([i])).digest() for i in range(3))
    assert fold_proof(leaf, [p1, p2]) == dot(dot(leaf, p1), p2)
    assert merkle_root([leaf, p1, p2]) == dot(dot(leaf, p1), p2)
    assert merkle_root([leaf, p1, p2, leaf]) == dot(dot(leaf, p1), dot(p2, leaf))
    assert flip_bit(leaf, 9) != leaf and flip_bit(flip_bit(leaf, 9), 9) == leaf


@pytest.fixture(scope="module")
def document(driver):
    create_table(driver, "Vault")
    rows = run(driver, "INSERT INTO Vault ?", {"Owner": "Ada", "Balance": 100, "Note": loads("tag::sym")})
    doc_id = str(rows[0]["documentId"])
    run(driver, "UPDATE Vault SET Balance = 120 WHERE Owner = 'Ada'")
    committed = run(driver, "SELECT * FROM _ql_committed_Vault WHERE metadata.id = ?", doc_id)
    assert len(committed) == 1, committed
    return doc_id, committed[0]


def address_text(address):
    return dumps(address, binary=False, omit_version_marker=True)


def get_digest(qldb_client, ledger):
    response = qldb_client.get_digest(Name=ledger)
    digest = response["Digest"]
    assert isinstance(digest, bytes) and len(digest) == 32, response
    tip = loads(response["DigestTipAddress"]["IonText"])
    assert tip.ion_type is IonType.STRUCT and len(tip["strandId"]) == 22, response
    return digest, response["DigestTipAddress"], tip


def proof_hashes(proof_ion_text):
    proof = loads(proof_ion_text)
    assert proof.ion_type is IonType.LIST, proof_ion_text
    hashes = [bytes(p) for p in proof]
    assert all(len(p) == 32 for p in hashes) and all(p.ion_type is IonType.BLOB for p in proof), proof_ion_text
    return hashes


def test_get_revision_proof_verifies_against_the_digest(qldb_client, ledger, document):
    doc_id, committed = document
    digest, tip_address, tip = get_digest(qldb_client, ledger)
    block_address = committed["blockAddress"]
    assert block_address["strandId"] == tip["strandId"]
    assert block_address["sequenceNo"] <= tip["sequenceNo"]

    response = qldb_client.get_revision(Name=ledger, BlockAddress={"IonText": address_text(block_address)},
                                        DocumentId=doc_id, DigestTipAddress=tip_address)
    revision = loads(response["Revision"]["IonText"])
    assert revision["metadata"]["id"] == doc_id
    assert revision["metadata"]["version"] == 1
    assert revision["blockAddress"]["sequenceNo"] == block_address["sequenceNo"]
    assert revision["data"]["Balance"] == 120 and revision["data"]["Note"].ion_type is IonType.SYMBOL, revision

    # Recompute the revision hash from data and metadata, then fold the proof into the digest.
    leaf = revision_hash(revision["data"], revision["metadata"])
    assert leaf == bytes(revision["hash"]) == bytes(committed["hash"])
    proof = proof_hashes(response["Proof"]["IonText"])
    assert proof, "a revision in a ledger of several blocks needs a non-empty proof"
    assert fold_proof(leaf, proof) == digest

    # One flipped bit anywhere breaks verification.
    assert fold_proof(flip_bit(leaf, 0), proof) != digest
    assert fold_proof(flip_bit(leaf, 255), proof) != digest
    for i in range(len(proof)):
        tampered = list(proof)
        tampered[i] = flip_bit(tampered[i], 7)
        assert fold_proof(leaf, tampered) != digest, i
    assert fold_proof(leaf, proof) != flip_bit(digest, 100)
    assert fold_proof(leaf, proof[:-1]) != digest
    tampered_data = loads(dumps(revision["data"]))
    tampered_data["Balance"] = loads("121")
    assert revision_hash(tampered_data, revision["metadata"]) != leaf

    # Without a tip: the revision, no proof.
    plain = qldb_client.get_revision(Name=ledger, BlockAddress={"IonText": address_text(block_address)},
                                     DocumentId=doc_id)
    assert "Proof" not in plain or not plain["Proof"], plain
    assert bytes(loads(plain["Revision"]["IonText"])["hash"]) == leaf


def test_older_revision_verifies_against_a_later_digest(driver, qldb_client, ledger, document):
    doc_id, _ = document
    history = run(driver, "SELECT * FROM history(Vault) AS h WHERE h.metadata.id = ?", doc_id)
    first = [h for h in history if h["metadata"]["version"] == 0][0]
    for i in range(3):
        run(driver, "INSERT INTO Vault ?", {"Owner": f"filler-{i}"})
    digest, tip_address, _ = get_digest(qldb_client, ledger)
    response = qldb_client.get_revision(Name=ledger, BlockAddress={"IonText": address_text(first["blockAddress"])},
                                        DocumentId=doc_id, DigestTipAddress=tip_address)
    revision = loads(response["Revision"]["IonText"])
    assert revision["metadata"]["version"] == 0 and revision["data"]["Balance"] == 100
    leaf = revision_hash(revision["data"], revision["metadata"])
    assert leaf == bytes(first["hash"])
    assert fold_proof(leaf, proof_hashes(response["Proof"]["IonText"])) == digest


def test_get_block_proof_and_chain(qldb_client, ledger, document):
    _, committed = document
    digest, tip_address, _ = get_digest(qldb_client, ledger)
    address = committed["blockAddress"]
    response = qldb_client.get_block(Name=ledger, BlockAddress={"IonText": address_text(address)},
                                     DigestTipAddress=tip_address)
    block = loads(response["Block"]["IonText"])
    assert block["blockAddress"]["sequenceNo"] == address["sequenceNo"]
    assert len(block["transactionId"]) == 22
    block_hash = bytes(block["blockHash"])
    assert fold_proof(block_hash, proof_hashes(response["Proof"]["IonText"])) == digest
    assert fold_proof(flip_bit(block_hash, 3), proof_hashes(response["Proof"]["IonText"])) != digest

    # Block hash rules (hashing.md §5).
    entries = [bytes(h) for h in block["entriesHashList"]]
    assert bytes(block["entriesHash"]) == merkle_root(entries)
    assert block_hash == dot(bytes(block["entriesHash"]), bytes(block["previousBlockHash"]))
    assert ion_hash(block["transactionInfo"]) in entries
    revision_hashes = [bytes(r["hash"]) for r in block["revisions"]]
    assert bytes(committed["hash"]) in revision_hashes
    assert merkle_root(revision_hashes) in entries
    ours = [r for r in block["revisions"] if "metadata" in r and r["metadata"]["id"] == committed["metadata"]["id"]]
    assert len(ours) == 1 and revision_hash(ours[0]["data"], ours[0]["metadata"]) == bytes(committed["hash"])
    statements = [str(s["statement"]) for s in block["transactionInfo"]["statements"]]
    assert "UPDATE Vault SET Balance = 120 WHERE Owner = 'Ada'" in statements, statements

    previous_address = loads(address_text(address))
    previous_address["sequenceNo"] = address["sequenceNo"] - 1
    previous = loads(qldb_client.get_block(Name=ledger, BlockAddress={"IonText": address_text(previous_address)})
                     ["Block"]["IonText"])
    assert bytes(previous["blockHash"]) == bytes(block["previousBlockHash"])


def test_commit_digest_matches_the_client_side_computation(driver, document):
    recorder = WireRecorder(driver)
    statement, parameter = "SELECT * FROM Vault WHERE Owner = ?", "Ada"
    driver.execute_lambda(lambda ex: list(ex.execute_statement(statement, parameter)))
    start = [c for c in recorder.calls if c["command"] == "StartTransaction"][-1]
    commit = [c for c in recorder.calls if c["command"] == "CommitTransaction"][-1]
    txn_id = start["parsed"]["StartTransaction"]["TransactionId"]
    expected = dot(ion_hash(txn_id), dot(ion_hash(statement), ion_hash(parameter)))
    assert commit["params"]["CommitTransaction"]["CommitDigest"] == expected
    result = commit["parsed"]["CommitTransaction"]
    assert result["CommitDigest"] == expected, "the server echoes the digest byte for byte"
    assert result["TransactionId"] == txn_id


def test_addresses_beyond_the_tip_are_invalid(qldb_client, ledger, document):
    doc_id, committed = document
    _, tip_address, tip = get_digest(qldb_client, ledger)
    beyond = loads(address_text(committed["blockAddress"]))
    beyond["sequenceNo"] = tip["sequenceNo"] + 1000
    for call in (lambda: qldb_client.get_revision(Name=ledger, BlockAddress={"IonText": address_text(beyond)},
                                                  DocumentId=doc_id, DigestTipAddress=tip_address),
                 lambda: qldb_client.get_block(Name=ledger, BlockAddress={"IonText": address_text(beyond)},
                                               DigestTipAddress=tip_address)):
        with pytest.raises(ClientError) as error:
            call()
        assert error_code(error.value) == "InvalidParameterException", error.value.response
    with pytest.raises(ClientError) as error:
        qldb_client.get_revision(Name=ledger + "-x", BlockAddress={"IonText": address_text(committed["blockAddress"])},
                                 DocumentId=doc_id)
    assert error_code(error.value) == "ResourceNotFoundException", error.value.response
