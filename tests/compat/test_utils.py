"""The utility modules of pyqldb 3.x (pyqldb-api.md §1.6), pure client-side code: ``QldbHash`` (size
check and message, Ion Hash of a string and of an Ion value, ``dot`` ordered by signed bytes from the
end and its empty-hash case, ``__eq__``, ``__repr__`` as hex), ``Retry.calculate_backoff`` (custom
backoff arguments and negative delays, the equal-jitter ranges per attempt and the 5000 ms cap,
``MAX_POW``/``MAX_BACKOFF``), ``AtomicInteger``. Expected hashes were computed with the original
pyqldb 3.2.4 and ionhash."""

import hashlib
import sys

import pytest
from amazon.ion.simpleion import loads
from pyqldb.config.retry_config import RetryConfig
from pyqldb.util.atomic_integer import AtomicInteger
from pyqldb.util.qldb_hash import QldbHash
from pyqldb.util.retry import MAX_BACKOFF, MAX_POW, Retry

HASH_ABC = "b0f6224eae807e7850240dedb0d7356d242aa24557c4e42f1730443cffbb3f98"
HASH_DEF = "c3bf87a10ca4b21301000c20fab9c4a1a528ba5d23ce9b267cadd2200407f137"
HASH_ABC_DOT_DEF = "d9a35f25bb2d22485a3e3daca0ff60aa8370ccb65fbe138ab193ceb6de20b27a"
HASH_STRUCT_A1 = "f5d2d95c18463b4e3b9e5cf7d8e167299e31627c82c15b5e0b822b83ddadc4eb"


def test_qldb_hash_size():
    for bad in (b"123", b"\x00" * 31, b"\x00" * 33):
        with pytest.raises(ValueError) as error:
            QldbHash(bad)
        assert str(error.value) == "Hash must either be empty or 32 bytes long"
    assert QldbHash(b"").is_empty() and QldbHash(b"").get_hash_size() == 0
    full = QldbHash(b"\x01" * 32)
    assert not full.is_empty() and full.get_hash_size() == 32 and full.get_qldb_hash() == b"\x01" * 32


def test_qldb_hash_values():
    abc, dfe = QldbHash.to_qldb_hash("abc"), QldbHash.to_qldb_hash("def")
    assert abc.get_qldb_hash().hex() == HASH_ABC
    assert repr(abc) == HASH_ABC
    assert dfe.get_qldb_hash().hex() == HASH_DEF
    assert abc.dot(dfe).get_qldb_hash().hex() == HASH_ABC_DOT_DEF
    assert dfe.dot(abc) == abc.dot(dfe)
    assert abc == QldbHash.to_qldb_hash("abc") and abc != dfe
    assert QldbHash.to_qldb_hash(loads("{a: 1}")).get_qldb_hash().hex() == HASH_STRUCT_A1
    empty = QldbHash(b"")
    assert empty.dot(abc).get_qldb_hash() == hashlib.sha256(bytes.fromhex(HASH_ABC)).digest()
    assert abc.dot(empty).get_qldb_hash() == hashlib.sha256(bytes.fromhex(HASH_ABC)).digest()


def test_retry_constants():
    assert MAX_POW == sys.maxsize.bit_length() - 1 == 62
    assert MAX_BACKOFF == 5000


def test_custom_backoff():
    seen = []
    config = RetryConfig(custom_backoff=lambda attempt, error, txn: seen.append((attempt, error, txn)) or 7)
    error = ValueError("e")
    assert Retry.calculate_backoff(config, 3, error, "txn") == 7
    assert seen == [(3, error, "txn")]
    assert Retry.calculate_backoff(RetryConfig(custom_backoff=lambda *a: -20), 1, error, None) == 0


@pytest.mark.parametrize("attempt, low, high", [
    (1, 10, 20), (2, 20, 40), (3, 40, 80), (4, 80, 160), (8, 1280, 2560), (9, 2500, 5000), (100, 2500, 5000),
])
def test_default_backoff_ranges(attempt, low, high):
    config = RetryConfig()
    delays = [Retry.calculate_backoff(config, attempt, None, None) for _ in range(200)]
    assert all(low <= d <= high for d in delays), (min(delays), max(delays))
    assert max(delays) - min(delays) > 0, "jitter"


def test_backoff_base():
    delays = [Retry.calculate_backoff(RetryConfig(base=100), 1, None, None) for _ in range(100)]
    assert all(100 <= d <= 200 for d in delays)
    assert {Retry.calculate_backoff(RetryConfig(base=0), 5, None, None) for _ in range(10)} == {0}


def test_atomic_integer():
    counter = AtomicInteger()
    assert counter.value == 0
    assert counter.increment() == 1 and counter.increment() == 2
    assert counter.decrement() == 1
    assert AtomicInteger(5).value == 5
