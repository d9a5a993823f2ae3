"""Ion values in and out (pyqldb-api.md §7, semantics.md §6): every native Python parameter type converts
as ``loads(dumps(obj))`` would (int incl. big ints, bool, float, Decimal with its precision, naive and
aware datetime, str, bytes, list, tuple, dict, None); ``IonPy*`` parameters keep their type and
annotations; the round-trip set of 13 values, the 12 typed nulls and all 25 again annotated come
back identical and are found again with ``WHERE v = ?`` / ``IS NULL``; results are ``IonPy*`` values
(checked by ``ion_type``, value and Python base type, not by class identity); unsupported parameter
types raise ``TypeError("Failed to convert parameter to Ion; unsupported data type: <type>")``, not
retried, nothing committed."""

import datetime
from decimal import Decimal

import pytest
from amazon.ion.core import IonType
from amazon.ion.simpleion import dumps, loads
from compatlib import assert_ion_type, count, create_table, ion_text, run


@pytest.fixture(scope="module")
def vals(driver):
    return create_table(driver, "Vals")


_next_key = iter(range(1, 10_000))


def store_and_fetch(driver, table, value):
    """Insert ``value`` as a standalone parameter, read it back by key; returns the IonPy value."""
    key = next(_next_key)

    def work(executor):
        inserted = list(executor.execute_statement(f"INSERT INTO {table} VALUE {{'k': ?, 'v': ?}}", key, value))
        assert len(inserted) == 1, inserted

    driver.execute_lambda(work)
    rows = run(driver, f"SELECT VALUE t.v FROM {table} AS t WHERE t.k = ?", key)
    assert len(rows) == 1, rows
    return key, rows[0]


UTC_PLUS_2 = datetime.timezone(datetime.timedelta(hours=2))

NATIVE = [
    ("int", 5, IonType.INT, int),
    ("negative int", -7, IonType.INT, int),
    ("big int", 2 ** 100 + 1, IonType.INT, int),
    ("true", True, IonType.BOOL, int),
    ("false", False, IonType.BOOL, int),
    ("float", 1.5, IonType.FLOAT, float),
    ("decimal", Decimal("1.10"), IonType.DECIMAL, Decimal),
    ("small decimal", Decimal("-0.001"), IonType.DECIMAL, Decimal),
    ("naive datetime", datetime.datetime(2020, 1, 2, 3, 4, 5), IonType.TIMESTAMP, datetime.datetime),
    ("aware datetime", datetime.datetime(2021, 6, 7, 8, 9, 10, 123456, tzinfo=UTC_PLUS_2), IonType.TIMESTAMP,
     datetime.datetime),
    ("str", "text", IonType.STRING, str),
    ("unicode str", "h\u00e9llo \u2713 \U0001F600", IonType.STRING, str),
    ("empty str", "", IonType.STRING, str),
    ("long str", "x" * 50_000, IonType.STRING, str),
    ("bytes", b"\x00\x01bytes\xff", IonType.BLOB, bytes),
    ("list", [1, "a", None, 2.5], IonType.LIST, list),
    ("tuple", (1, 2), IonType.LIST, list),
    ("dict", {"a": 1, "b": [True, {"c": "d"}]}, IonType.STRUCT, None),
    ("none", None, IonType.NULL, None),
]


@pytest.mark.parametrize("name, value, ion_type, base", NATIVE, ids=[n[0] for n in NATIVE])
def test_native_parameter(driver, vals, name, value, ion_type, base):
    key, got = store_and_fetch(driver, vals, value)
    assert_ion_type(got, ion_type)
    assert ion_text(got) == ion_text(loads(dumps(value))), "stored value differs from loads(dumps(value))"
    if base is not None:
        assert isinstance(got, base), type(got).__mro__
    if ion_type not in (IonType.NULL, IonType.STRUCT, IonType.TIMESTAMP, IonType.LIST):
        assert got == value, (got, value)
    if ion_type == IonType.LIST:
        assert len(got) == len(value)
        assert [g for g, v in zip(got, value) if v is not None] == [v for v in value if v is not None]
    if ion_type == IonType.STRUCT:
        assert got["a"] == 1 and got["b"][0] is not None and got["b"][1]["c"] == "d", got
    if ion_type == IonType.DECIMAL:
        assert str(got) == str(value), "decimal precision lost"
    if name == "naive datetime":
        assert ion_text(got) == "2020-01-02T03:04:05.000000-00:00"
        assert got.replace(tzinfo=None) == value
    if name == "aware datetime":
        assert ion_text(got) == "2021-06-07T08:09:10.123456+02:00"
        assert got == value
    # The same value as a parameter finds the document again (not for null: null = null is not true).
    if ion_type != IonType.NULL:
        assert run(driver, f"SELECT VALUE t.k FROM {vals} AS t WHERE t.v = ?", value) == [key]


ROUND_TRIP = [
    '{{"a clob"}}', "{{aGVsbG8gd29ybGQ=}}", "true", "0.1", "0.2e0", "1", "[1, two, \"three\"]", "null",
    "(cons 1 2)", '"a string"', '{a: 1, b: "x", c: [true]}', "a_symbol", "2016-12-20T05:23:43.000000-00:00",
]
TYPED_NULLS = ["null.clob", "null.blob", "null.bool", "null.decimal", "null.float", "null.int", "null.list",
               "null.sexp", "null.string", "null.struct", "null.symbol", "null.timestamp"]
ION_VALUES = ROUND_TRIP + TYPED_NULLS + ["annotation::" + t for t in ROUND_TRIP + TYPED_NULLS] + [
    "a::b::c::5", "'quoted symbol'", "2007-02-23T12:14Z", "2007T", "-0.000e-2", "1.0000000000000000000001",
    '{a: {b: {c: [1, (2 3), {{}}]}}}',
]


def test_ion_values_round_trip(driver, vals):
    """The round-trip set of semantics.md §6 as IonPy parameters: stored and read back identically."""
    values = [loads(text) for text in ION_VALUES]
    keys = list(range(100_000, 100_000 + len(values)))
    for start in range(0, len(values), 20):
        batch = list(zip(keys, values))[start:start + 20]

        def work(executor, batch=batch):
            for key, value in batch:
                list(executor.execute_statement(f"INSERT INTO {vals} VALUE {{'k': ?, 'v': ?}}", key, value))

        driver.execute_lambda(work)

    def read(executor):
        out = []
        for key, value in zip(keys, values):
            rows = list(executor.execute_statement(f"SELECT VALUE t.v FROM {vals} AS t WHERE t.k = ?", key))
            if type(value).__name__ == "IonPyNull":
                found = list(executor.execute_statement(
                    f"SELECT VALUE t.k FROM {vals} AS t WHERE t.k = ? AND t.v IS NULL", key))
            else:
                found = list(executor.execute_statement(f"SELECT VALUE t.k FROM {vals} AS t WHERE t.v = ?", value))
            out.append((rows, found))
        return out

    results = driver.execute_lambda(read)
    assert len(results) == len(values) == len(keys)
    mismatches = []
    for text, value, key, (rows, found) in zip(ION_VALUES, values, keys, results):
        if len(rows) != 1:
            mismatches.append((text, "rows", rows))
            continue
        got = rows[0]
        if ion_text(got) != ion_text(value):
            mismatches.append((text, ion_text(got)))
        if got.ion_type != value.ion_type:
            mismatches.append((text, "ion_type", got.ion_type))
        if [a.text for a in got.ion_annotations] != [a.text for a in value.ion_annotations]:
            mismatches.append((text, "annotations", got.ion_annotations))
        if key not in [int(k) for k in found]:
            mismatches.append((text, "not found by = ? / IS NULL", found))
    assert mismatches == [], mismatches


RESULT_CLASSES = {
    IonType.NULL: {"IonPyNull"}, IonType.BOOL: {"IonPyInt", "IonPyBool"}, IonType.INT: {"IonPyInt"},
    IonType.FLOAT: {"IonPyFloat"}, IonType.DECIMAL: {"IonPyDecimal"}, IonType.TIMESTAMP: {"IonPyTimestamp"},
    IonType.SYMBOL: {"IonPySymbol"}, IonType.STRING: {"IonPyText"}, IonType.CLOB: {"IonPyBytes"},
    IonType.BLOB: {"IonPyBytes"}, IonType.LIST: {"IonPyList"}, IonType.SEXP: {"IonPyList"},
    IonType.STRUCT: {"IonPyDict"},
}


def test_result_value_types(driver, vals):
    document = loads('{n: null, t: true, i: 3, f: 1.5e0, d: 2.50, ts: 2020-01-01T00:00:00Z, sym: abc, '
                     's: "str", c: {{"clob"}}, b: {{AAE=}}, l: [1], x: (a b), st: {in: 1}, ni: null.int}')
    list_doc = run(driver, f"INSERT INTO {vals} ?", document)
    assert len(list_doc) == 1
    rows = run(driver, f"SELECT n, t, i, f, d, ts, sym, s, c, b, l, x, st, ni FROM {vals} WHERE sym = ?",
               loads("abc"))
    assert len(rows) == 1, rows
    row = rows[0]
    assert_ion_type(row, IonType.STRUCT)
    assert type(row).__name__ == "IonPyDict"
    assert sorted(row.keys()) == sorted(["n", "t", "i", "f", "d", "ts", "sym", "s", "c", "b", "l", "x", "st", "ni"])
    assert "i" in row and "zz" not in row and len(row) == 14
    for key in row.keys():
        value = row[key]
        expected = document[key]
        assert value.ion_type == expected.ion_type, (key, value.ion_type, expected.ion_type)
        classes = {"IonPyNull"} if ion_text(value).startswith("null") else RESULT_CLASSES[value.ion_type]
        assert type(value).__name__ in classes, (key, type(value).__name__)
        assert ion_text(value) == ion_text(expected), key
    assert row["t"] == True and int(row["t"]) == 1  # noqa: E712  (IonPyBool is an int)
    assert isinstance(row["i"], int) and row["i"] == 3
    assert isinstance(row["f"], float) and row["f"] == 1.5
    assert isinstance(row["d"], Decimal) and str(row["d"]) == "2.50"
    assert isinstance(row["ts"], datetime.datetime)
    assert row["ts"] == datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    assert row["sym"].text == "abc"
    assert isinstance(row["s"], str) and row["s"] == "str"
    assert isinstance(row["c"], bytes) and row["c"] == b"clob"
    assert isinstance(row["b"], bytes) and row["b"] == b"\x00\x01"
    assert isinstance(row["l"], list) and row["l"] == [1]
    assert isinstance(row["x"], list) and [v.text for v in row["x"]] == ["a", "b"]
    assert row["st"]["in"] == 1
    assert row["ni"].ion_type == IonType.INT and ion_text(row["ni"]) == "null.int"
    # Users serialise results straight away.
    assert ion_text(loads(dumps(row))) == ion_text(row)
    assert dumps(row, binary=False).endswith("}")


@pytest.mark.parametrize("bad, shown", [
    (object(), "<class 'object'>"),
    ({1, 2}, "<class 'set'>"),
    (complex(1, 2), "<class 'complex'>"),
    ({"nested": object()}, "<class 'dict'>"),
    ([1, object()], "<class 'list'>"),
], ids=["object", "set", "complex", "dict-with-object", "list-with-object"])
def test_unsupported_parameter_type(driver, vals, bad, shown):
    calls = []

    def work(executor):
        calls.append(1)
        list(executor.execute_statement(f"INSERT INTO {vals} ?", {"marker": "unsupported"}))
        executor.execute_statement(f"SELECT * FROM {vals} WHERE v = ?", bad)
        return "unreachable"

    with pytest.raises(TypeError) as error:
        driver.execute_lambda(work)
    assert str(error.value) == "Failed to convert parameter to Ion; unsupported data type: " + shown
    assert calls == [1], "a TypeError is not retried"
    assert count(driver, vals, "WHERE marker = 'unsupported'") == 0, "the transaction must not be committed"


def test_parameter_count_mismatch(driver, vals):
    from compatlib import assert_client_error
    with pytest.raises(Exception) as error:
        run(driver, f"SELECT * FROM {vals} WHERE k = ?", 1, 2)
    assert_client_error(error.value, code="BadRequestException", status=400,
                        message=r"^Query expects 1 parameters, but statement has 2$")
