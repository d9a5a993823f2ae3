"""Ion round trip (semantics.md §6): each of the 13 values, the 12 typed nulls, and each of those 25 again
with an ``annotation::`` prefix (amazon.ion ``simpleion.loads`` values) is inserted as a statement
parameter (``INSERT INTO T ?``) and read back with ``WHERE col = ?`` (same value as the parameter) or,
for nulls, ``WHERE col IS NULL``; the value read must be Ion-equivalent to the one sent: same Ion type
(symbol vs string, clob vs blob, sexp vs list, decimal vs float), precision, offset and annotations.
The same set is then written through ``UPDATE … SET col = ?``. Every statement also passes the
server's commit-digest check, which hashes the parameters exactly as received."""

import pytest
from amazon.ion.equivalence import ion_equals
from amazon.ion.simple_types import IonPyNull
from amazon.ion.simpleion import dumps, loads

from peerlib import create_table, run

TABLE = "IonTypes"
COLUMN = "col"

VALUES = [
    '{{"This is a CLOB of text."}}',
    '{{aGVsbG8=}}',
    'true',
    '0.1',
    '0.2e0',
    '1',
    '[1,2]',
    'null',
    '(cons 1 2)',
    '"string"',
    '{a:1}',
    'abc',
    '2016-12-20T05:23:43.000000-00:00',
]
TYPED_NULLS = ['null.' + t for t in ("clob", "blob", "bool", "decimal", "float", "int", "list", "sexp", "string",
                                     "struct", "symbol", "timestamp")]
ION_TEXTS = VALUES + TYPED_NULLS + ["annotation::" + text for text in VALUES + TYPED_NULLS]


def test_the_round_trip_set_has_50_values():
    assert len(VALUES) == 13 and len(TYPED_NULLS) == 12 and len(ION_TEXTS) == 50
    assert len({dumps(loads(text), binary=False) for text in ION_TEXTS}) == 50


@pytest.fixture(scope="module")
def ion_table(driver):
    create_table(driver, TABLE)
    return TABLE


def read_back(driver, value):
    if isinstance(value, IonPyNull):
        return run(driver, f"SELECT VALUE {COLUMN} FROM {TABLE} WHERE {COLUMN} IS NULL")
    return run(driver, f"SELECT VALUE {COLUMN} FROM {TABLE} WHERE {COLUMN} = ?", value)


def assert_same_ion(actual, expected, text):
    assert actual.ion_type is expected.ion_type, (text, actual.ion_type, expected.ion_type)
    assert [a.text for a in actual.ion_annotations] == [a.text for a in expected.ion_annotations], \
        (text, actual.ion_annotations)
    assert ion_equals(actual, expected), (text, dumps(actual, binary=False), dumps(expected, binary=False))


@pytest.mark.parametrize("text", ION_TEXTS)
def test_insert_and_read_back(driver, ion_table, text):
    value = loads(text)
    run(driver, f"DELETE FROM {TABLE}")
    document = loads(dumps({COLUMN: value}))
    assert ion_equals(document[COLUMN], value)  # the parameter really carries the value

    inserted = run(driver, f"INSERT INTO {TABLE} ?", document)
    assert len(inserted) == 1 and len(inserted[0]["documentId"]) == 22, inserted

    rows = read_back(driver, value)
    assert len(rows) == 1, (text, rows)
    assert_same_ion(rows[0], value, text)

    whole = run(driver, f"SELECT * FROM {TABLE}")
    assert len(whole) == 1, whole
    assert ion_equals(whole[0], document), (text, dumps(whole[0], binary=False))


@pytest.mark.parametrize("text", ION_TEXTS)
def test_update_and_read_back(driver, ion_table, text):
    value = loads(text)
    run(driver, f"DELETE FROM {TABLE}")
    run(driver, f"INSERT INTO {TABLE} ?", {COLUMN: "placeholder", "other": 7})

    updated = run(driver, f"UPDATE {TABLE} SET {COLUMN} = ?", value)
    assert len(updated) == 1, updated

    rows = read_back(driver, value)
    assert len(rows) == 1, (text, rows)
    assert_same_ion(rows[0], value, text)
    assert run(driver, f"SELECT VALUE other FROM {TABLE}") == [7]

