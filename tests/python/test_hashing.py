"""``pyqldb.util.qldb_hash.QldbHash`` (pyqldb-api.md §1.6, hashing.md §1-§3) on the spec's vectors, its
errors and helpers; ``AtomicInteger``; the commit digest: computed natively as QLDB does, echoed by the ledger,
and a digest mismatch (the native client's test hook corrupts the echoed digest, over the embedded engine and
over HTTP) raises ``IllegalStateError``, after AbortTransaction, without a retry."""

import hashlib
import threading

import pytest
from amazon.ion.simpleion import loads
from pyqldb import _native
from pyqldb.errors import IllegalStateError
from pyqldb.util.atomic_integer import AtomicInteger
from pyqldb.util.qldb_hash import QldbHash

DOT_VECTOR = (
    hashlib.sha256(b"1").digest(),
    hashlib.sha256(b"2").digest(),
    "940ed9abddfb5ef28004408546bc5043cda391232b6afe07267f9f8ed2b500c9",
)


def test_vectors():
    a, b, expected = DOT_VECTOR
    assert repr(QldbHash(a).dot(QldbHash(b))) == expected
    assert repr(QldbHash(b).dot(QldbHash(a))) == expected
    assert QldbHash.to_qldb_hash("TXN123").get_qldb_hash() == hashlib.sha256(b"\x0b\x80TXN123\x0e").digest()
    assert (
        repr(QldbHash.to_qldb_hash(loads("abc"))) == "c690af405818e2d876a4c2692f1210dbdd14ff6b238ff0a92222f3d71707ee1d"
    )
    data = loads('{_key:"myKey1",_val:"MyValue1"}')
    metadata = loads(
        '{id:"5vHoYG5m0OZCsqdYCs8XLH",version:13,txTime:2021-06-02T07:03:05.226Z,txId:"EVaGjT4dxspC4GUhHi4DDJ"}'
    )
    revision = QldbHash.to_qldb_hash(data).dot(QldbHash.to_qldb_hash(metadata))
    assert repr(revision) == "0eb173b6806b58acfe98257e0679cc7c4651c1f25c0fe0cd2d13cb735e9289d6"


def test_qldb_hash_members():
    h = QldbHash(bytes(range(32)))
    assert h.get_hash_size() == 32 and not h.is_empty() and h.get_qldb_hash() == bytes(range(32))
    assert repr(h) == bytes(range(32)).hex()
    assert h == QldbHash(bytes(range(32))) and h != QldbHash(bytes(32)) and h != "x"
    empty = QldbHash(b"")
    assert empty.is_empty() and empty.get_hash_size() == 0
    assert h.dot(empty) == QldbHash(hashlib.sha256(bytes(range(32))).digest()), "pyqldb hashes the lone side"
    for bad in (b"x" * 31, b"x" * 33, None):
        with pytest.raises(ValueError, match="^Hash must either be empty or 32 bytes long$"):
            QldbHash(bad)
    with pytest.raises(ValueError, match="^Invalid hash$"):
        QldbHash._hash_comparator(b"x", b"y" * 32)
    low, high = b"\x00" * 31 + b"\x01", b"\x00" * 31 + b"\x02"
    assert QldbHash._hash_comparator(low, high) < 0 < QldbHash._hash_comparator(high, low)
    assert QldbHash._hash_comparator(b"\x00" * 31 + b"\xff", low) < 0, "signed bytes: 0xff is -1"
    assert QldbHash._join_hashes_pair_wise(high, low) == low + high
    assert QldbHash._join_hashes_pair_wise(b"", low) == low


def test_atomic_integer():
    counter = AtomicInteger(5)
    assert counter.increment() == 6 and counter.decrement() == 5 and counter.value == 5

    def bump():
        for _ in range(1000):
            counter.increment()

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.value == 8005
    assert AtomicInteger().value == 0


def test_commit_digest_matches_qldb_hash(memory_endpoint):
    client = _native.RawClient(memory_endpoint)
    raw = _native.RawDriver(client, "digest")
    statement, parameter = "SELECT * FROM information_schema.user_tables WHERE name = ?", "x"

    def body(txn):
        list(txn.execute_statement(statement, parameter))
        expected = QldbHash.to_qldb_hash(txn.transaction_id).dot(
            QldbHash.to_qldb_hash(statement).dot(QldbHash.to_qldb_hash(parameter))
        )
        digest = _native.RawCommitDigest(txn.transaction_id)
        digest.add_statement(statement, [_native.RawIonParam(parameter)])
        return txn.digest(), expected.get_qldb_hash(), digest.digest

    native, expected, helper = raw.execute_lambda(body)
    assert native == expected == helper


@pytest.mark.parametrize("kind", ["embedded", "http"])
def test_digest_mismatch_raises_illegal_state(request, memory_endpoint, kind):
    if kind == "http":
        endpoint, ledger = request.getfixturevalue("server").endpoint, "py-main"
    else:
        endpoint, ledger = memory_endpoint, "digest"
    client = _native.RawClient(endpoint, record_commands=True, corrupt_commit_digest=1)
    raw = _native.RawDriver(client, ledger)
    calls = []

    def body(txn):
        calls.append(txn.transaction_id)
        list(txn.execute_statement("SELECT * FROM information_schema.user_tables"))
        return "committed?"

    with pytest.raises(IllegalStateError) as error:
        raw.execute_lambda(body)
    assert str(error.value) == (
        "Transaction's commit digest did not match returned value from QLDB. Please retry with a new transaction. "
        "Transaction ID: " + calls[0]
    )
    assert len(calls) == 1, "not retried"
    assert client.recorded_commands()[-2:] == ["CommitTransaction", "AbortTransaction"]
    assert raw.execute_lambda(lambda txn: "fine afterwards") == "fine afterwards"


def test_digest_mismatch_through_the_driver(drivers, memory_endpoint):
    d = drivers("digest-driver", endpoint_url=memory_endpoint)
    d._client = _native.RawClient(memory_endpoint, corrupt_commit_digest=1)
    d._native = d._new_native(d._timeout)
    with pytest.raises(IllegalStateError, match="commit digest did not match"):
        d.execute_lambda(lambda ex: ex.transaction_id)
    assert d.execute_lambda(lambda ex: "ok") == "ok"
