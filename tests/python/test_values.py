"""Ion values (pyqldb-api.md §7): results decoded natively are the ``IonPy*`` objects ``simpleion.loads`` makes
(same classes, ``ion_type``, annotations, timestamp precision and offsets, ``IonPyDict`` multimap), for every
Ion type, typed nulls and annotations, directly and through the ledger (embedded and HTTP); the plain value
model; parameters converted as ``loads(dumps(obj))`` (natives, subclasses, ``IonPy*``, naive datetimes with an
unknown offset and 6 fractional digits) and pyqldb's ``TypeError`` for anything else."""

import collections
import datetime
import enum
import random
from decimal import Decimal

import pytest
from amazon.ion.core import IonType, Timestamp, TimestampPrecision
from amazon.ion.simpleion import dumps, loads
from amazon.ion.symbols import SymbolToken
from pyqldb import _native
from support import create_table, rows

SCALARS = [
    "null",
    "true",
    "false",
    "0",
    "-7",
    "123456789012345678901234567890",
    "-98765432109876543210987654321",
    "1.5e0",
    "-0e0",
    "0e0",
    "nan",
    "+inf",
    "-inf",
    "1.10",
    "-0.000",
    "0d5",
    "1.0000000000000000000001",
    "123456789012345678901234567890.123456789",
    "2007T",
    "2007-02T",
    "2007-02-23T",
    "2007-02-23T12:14Z",
    "2007-02-23T12:14:33-00:00",
    "2007-02-23T12:14:33.079+05:30",
    "2007-02-23T12:14:33.000000-08:00",
    "2016-12-20T05:23:43.123456789Z",
    "abc",
    "'quoted symbol'",
    '""',
    '"h\u00e9llo \u2713 \U0001f600"',
    '{{"a clob"}}',
    "{{aGVsbG8=}}",
    "{{}}",
]
CONTAINERS = [
    "[]",
    '[1, two, "three", [4]]',
    "()",
    "(cons 1 (nested))",
    "{}",
    '{a: 1, b: "x", c: [true]}',
    "{a: 1, a: 2, b: {a: 3}}",
    "{'with space': 1}",
]
TYPED_NULLS = [
    f"null.{t}"
    for t in (
        "null",
        "bool",
        "int",
        "float",
        "decimal",
        "timestamp",
        "symbol",
        "string",
        "clob",
        "blob",
        "list",
        "sexp",
        "struct",
    )
]
CORPUS = SCALARS + CONTAINERS + TYPED_NULLS
CORPUS = CORPUS + ["ann::" + t for t in CORPUS] + ["a::b::'c d'::5", "x::{y: w::[z::1]}"]


def ion_text(value):
    return dumps(value, binary=False, omit_version_marker=True)


def describe(value):
    """Everything observable about an IonPy value, recursively."""
    out = {
        "class": type(value).__name__,
        "ion_type": value.ion_type,
        "annotations": [a.text for a in value.ion_annotations],
        "text": ion_text(value),
    }
    if isinstance(value, datetime.datetime):
        out["timestamp"] = (
            value.replace(tzinfo=None),
            value.utcoffset(),
            getattr(value, "precision", None),
            getattr(value, "fractional_precision", None),
            str(getattr(value, "fractional_seconds", None)),
        )
    if isinstance(value, list):
        out["items"] = [describe(v) for v in value]
    if value.ion_type == IonType.STRUCT and hasattr(value, "get_all_values"):
        out["fields"] = [(k, [describe(v) for v in value.get_all_values(k)]) for k in value.keys()]
    return out


@pytest.mark.parametrize("text", CORPUS)
def test_native_decoding_equals_simpleion(text):
    binary = dumps(loads(text))
    expected = describe(loads(binary))
    assert describe(_native.ion_loads(binary)) == expected
    # Ion text too (compared with simpleion's binary decoding: its text reader mangles > 9 fraction digits).
    assert describe(_native.ion_loads(text.encode())) == expected


def test_symbols_of_unknown_text():
    for text in (b"$0", b"{$0: 1}"):
        ours, theirs = _native.ion_loads(text), loads(text.decode())
        assert repr(ours) == repr(theirs) and type(ours) is type(theirs)


def test_timestamps_finer_than_nanoseconds():
    value = _native.ion_loads(b"2016-12-20T05:23:43.1234567890123-00:00")
    assert value.fractional_seconds == Decimal("0.1234567890123") and value.microsecond == 123456
    assert value.fractional_precision == 6 and value.utcoffset() is None
    assert _native.ion_dumps(value) == _native.ion_dumps(_native.ion_loads(_native.ion_dumps(value)))


def test_ion_py_dict_semantics():
    value = _native.ion_loads(b"{a: 1, a: 2, b: 3}")
    assert type(value).__name__ == "IonPyDict"
    assert value["a"] == 2 and value.get_all_values("a") == [1, 2] and len(value) == 3
    assert list(value.keys()) == ["a", "b"] and "b" in value and "z" not in value
    assert value.items() == [("a", 1), ("a", 2), ("b", 3)]


def test_values_are_built_as_the_ion_py_constructors_build_them():
    from amazon.ion import simple_types as st

    utc = datetime.timezone.utc
    second = TimestampPrecision.SECOND
    cases = [
        (b"5", st.IonPyInt(5)),
        (b"true", st.IonPyBool(True)),
        (b"0.5e0", st.IonPyFloat(0.5)),
        (b"12.50", st.IonPyDecimal("12.50")),
        (b'"s"', st.IonPyText("s")),
        (b"{{aGk=}}", st.IonPyBytes(b"hi")),
        (b"[1]", st.IonPyList([1])),
        (
            b"2024-01-02T03:04:05.120Z",
            st.IonPyTimestamp(2024, 1, 2, 3, 4, 5, None, utc, precision=second, fractional_seconds=Decimal("0.120")),
        ),
        (
            b"2024-01-02T03:04:05Z",
            st.IonPyTimestamp(2024, 1, 2, 3, 4, 5, None, utc, precision=second, fractional_seconds=Decimal(0)),
        ),
    ]
    for data, expected in cases:
        value = _native.ion_loads(data)
        assert type(value) is type(expected) and value == expected
        if not hasattr(type(expected), "ion_type"):  # set on the instance, as simpleion does
            expected.ion_type = value.ion_type
        assert list(vars(value).items()) == list(vars(expected).items())
        for slot in ("precision", "fractional_precision", "fractional_seconds", "microsecond", "tzinfo"):
            assert repr(getattr(value, slot, None)) == repr(getattr(expected, slot, None))


@pytest.fixture(params=["embedded", "http"])
def store(request, drivers, memory_endpoint):
    if request.param == "embedded":
        d = drivers("values", endpoint_url=memory_endpoint)
    else:
        d = drivers("py-values", endpoint_url=request.getfixturevalue("server").endpoint)
    return d, create_table(d)


def test_round_trip_through_the_ledger(store):
    d, table = store
    values = [loads(text) for text in CORPUS]
    for start in range(0, len(values), 25):
        batch = list(enumerate(values))[start : start + 25]

        def insert(executor, batch=batch):
            for key, value in batch:
                list(executor.execute_statement(f"INSERT INTO {table} VALUE {{'k': ?, 'v': ?}}", key, value))

        d.execute_lambda(insert)
    got = {int(r["k"]): r["v"] for r in rows(d, f"SELECT k, v FROM {table}")}
    for key, value in enumerate(values):
        assert describe(got[key]) == describe(value), ion_text(value)


PLAIN = [
    ("null.int", None),
    ("true", True),
    ("5", 5),
    ("123456789012345678901234567890", 123456789012345678901234567890),
    ("1.5e0", 1.5),
    ("1.10", Decimal("1.10")),
    (
        "2007-02-23T12:14:33.079+05:30",
        datetime.datetime(2007, 2, 23, 12, 14, 33, 79000, datetime.timezone(datetime.timedelta(hours=5, minutes=30))),
    ),
    ("2007-02-23T12:14:33Z", datetime.datetime(2007, 2, 23, 12, 14, 33, tzinfo=datetime.timezone.utc)),
    ("2007-02-23T12:14:33.123456789-00:00", datetime.datetime(2007, 2, 23, 12, 14, 33, 123456)),
    ("2007-02T", datetime.datetime(2007, 2, 1)),
    ("sym", "sym"),
    ('"s"', "s"),
    ("{{aGVsbG8=}}", b"hello"),
    ('{{"c"}}', b"c"),
    ("[1, (a b)]", [1, ["a", "b"]]),
    ("ann::{a: 1, a: 2, b: null}", {"a": 2, "b": None}),
]


@pytest.mark.parametrize("text, expected", PLAIN, ids=[p[0] for p in PLAIN])
def test_plain_values(text, expected):
    got = _native.ion_loads(text.encode(), "plain")
    assert got == expected and type(got) is type(expected)
    if isinstance(expected, datetime.datetime):
        assert got.utcoffset() == expected.utcoffset()


def test_plain_model_through_the_driver(driver):
    table = create_table(driver)
    rows(
        driver, f"INSERT INTO {table} ?", {"d": Decimal("2.50"), "ts": datetime.datetime(2020, 1, 2, 3, 4, 5), "l": [1]}
    )
    assert rows(driver, f"SELECT * FROM {table}", value_model="plain") == [
        {"d": Decimal("2.50"), "ts": datetime.datetime(2020, 1, 2, 3, 4, 5), "l": [1]}
    ]


class Color(enum.IntEnum):
    RED = 3


Point = collections.namedtuple("Point", "x y")

NATIVE_PARAMETERS = [
    5,
    -7,
    2**100 + 1,
    -(2**70),
    True,
    False,
    1.5,
    float("inf"),
    Decimal("1.10"),
    Decimal("-0.001"),
    Decimal("-0"),
    Decimal("12345678901234567890123456789012345678901234567890"),
    datetime.datetime(2020, 1, 2, 3, 4, 5),
    datetime.datetime(2021, 6, 7, 8, 9, 10, 123456, datetime.timezone(datetime.timedelta(hours=2))),
    "text",
    "",
    "h\u00e9llo \U0001f600",
    b"\x00\x01\xff",
    [1, "a", None, 2.5],
    (1, 2),
    {"a": 1, "b": [True, {"c": "d"}]},
    None,
    Color.RED,
    collections.OrderedDict(a=1),
    Point(1, 2),
    SymbolToken("sym", None, None),
    Timestamp(2020, 1, 1, precision=TimestampPrecision.YEAR),
    Timestamp(2020, 1, 2, 3, 4, 5, 120000, precision=TimestampPrecision.SECOND, fractional_precision=2),
]


@pytest.mark.parametrize("value", NATIVE_PARAMETERS, ids=lambda v: type(v).__name__)
def test_parameters_convert_like_simpleion(value):
    expected = loads(dumps(value))
    got = loads(_native.ion_dumps(value))
    assert ion_text(got) == ion_text(expected)
    assert got.ion_type == expected.ion_type
    assert _native.ion_hash(value) == _native.ion_hash(expected)


def test_naive_datetime_has_an_unknown_offset_and_six_digits():
    value = datetime.datetime(2020, 1, 2, 3, 4, 5)
    assert ion_text(loads(_native.ion_dumps(value))) == "2020-01-02T03:04:05.000000-00:00"
    assert _native.ion_dumps(value).hex() == "e00100ea69c00fe48182838485c6"
    assert _native.ion_dumps(5).hex() == "e00100ea2105"
    assert _native.ion_dumps(None).hex() == "e00100ea0f"


@pytest.mark.parametrize("text", CORPUS)
def test_ion_py_parameters_keep_type_and_annotations(text):
    value = loads(text)
    got = loads(_native.ion_dumps(value))
    assert ion_text(got) == ion_text(value)
    assert [a.text for a in got.ion_annotations] == [a.text for a in value.ion_annotations]


@pytest.mark.parametrize(
    "bad, shown",
    [
        (object(), "<class 'object'>"),
        ({1, 2}, "<class 'set'>"),
        (complex(1, 2), "<class 'complex'>"),
        ({"nested": object()}, "<class 'dict'>"),
        ([1, object()], "<class 'list'>"),
        (bytearray(b"x"), "<class 'bytearray'>"),
        ({1: "int key"}, "<class 'dict'>"),
        (datetime.date(2020, 1, 1), "<class 'datetime.date'>"),
    ],
)
def test_unsupported_parameter(driver, bad, shown):
    calls = []

    def work(executor):
        calls.append(1)
        executor.execute_statement("SELECT * FROM information_schema.user_tables WHERE name = ?", bad)

    with pytest.raises(TypeError) as error:
        driver.execute_lambda(work)
    assert str(error.value) == "Failed to convert parameter to Ion; unsupported data type: " + shown
    assert calls == [1]
    with pytest.raises(TypeError):
        _native.ion_dumps(bad)


def test_decimal_nan_is_a_value_error():
    with pytest.raises(ValueError, match="NaN"):
        _native.ion_dumps(Decimal("NaN"))


def test_deep_nesting_is_refused():
    value = []
    for _ in range(600):
        value = [value]
    with pytest.raises(ValueError, match="nested"):
        _native.ion_dumps(value)


def describe_plain(value):
    """Everything observable about a plain value, recursively (types included: ``True`` is not ``1``)."""
    if isinstance(value, dict):
        return ("dict", [(k, describe_plain(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [describe_plain(v) for v in value])
    if isinstance(value, datetime.datetime):
        return ("datetime", value.replace(tzinfo=None), value.utcoffset())
    if isinstance(value, float):
        return ("float", value.hex())
    return (type(value).__name__, repr(value))


def random_ion_text(rng, depth=0):
    """A random value without annotations and with UTC or unknown offsets only: what binary results are
    made of, which the native reader converts as it parses them (its Ion text, by ion-rs, is the reference)."""
    kind = rng.randrange(12 if depth < 4 else 8)
    if kind == 0:
        return rng.choice(["null", "null.int", "null.struct", "null.timestamp", "null.list", "null.string", "true"])
    if kind == 1:
        return str(
            rng.choice([0, -1, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, 2**100, rng.randrange(-(10**9), 10**9)])
        )
    if kind == 2:
        return rng.choice(["1.5e0", "-0e0", "nan", "+inf", "-inf", "1e300", "5e-324"])
    if kind == 3:
        digits = str(rng.randrange(10 ** rng.randrange(1, 30)))
        return rng.choice(["", "-"]) + digits + rng.choice(["d%d" % rng.randrange(-30, 30), ".", "." + digits[:3]])
    if kind == 4:
        y, mo, d = rng.randrange(1, 10000), rng.randrange(1, 13), rng.randrange(1, 29)
        h, mi, s = rng.randrange(24), rng.randrange(60), rng.randrange(60)
        offset = rng.choice(["Z", "-00:00"])
        fraction = rng.choice(["", ".0", ".000000", ".5", "." + str(rng.randrange(10**9)).zfill(9), ".1234567890123"])
        return rng.choice(
            [
                "%04dT" % y,
                "%04d-%02dT" % (y, mo),
                "%04d-%02d-%02d" % (y, mo, d),
                "%04d-%02d-%02dT%02d:%02d%s" % (y, mo, d, h, mi, offset),
                "%04d-%02d-%02dT%02d:%02d:%02d%s%s" % (y, mo, d, h, mi, s, fraction, offset),
            ]
        )
    if kind == 5:
        return rng.choice(["abc", "'with space'", "$0", "'null'", "name", "symbols"])
    if kind == 6:
        return rng.choice(['""', '"x"', '"h\\u00e9llo \\U0001f600"', '"' + "y" * 200 + '"'])
    if kind == 7:
        return rng.choice(['{{"clob"}}', "{{aGVsbG8=}}", "{{}}"])
    if kind in (8, 9):
        items = [random_ion_text(rng, depth + 1) for _ in range(rng.randrange(5))]
        return "[" + ", ".join(items) + "]" if kind == 8 else "(" + " ".join(items) + ")"
    names = ["a", "b", "a", "'c d'", "$0", "id", "name", "imports", "'\u00fcn\u00efc\u00f6de'"]
    fields = [rng.choice(names) + ": " + random_ion_text(rng, depth + 1) for _ in range(rng.randrange(7))]
    return "{" + ", ".join(fields) + "}"


def test_binary_results_convert_as_their_text():
    rng = random.Random(20260101)
    for _ in range(400):
        text = random_ion_text(rng)
        value = loads(text)
        encodings = [dumps(value)]  # simpleion's
        try:
            encodings.append(_native.ion_dumps(value))  # ion-rs's
        except TypeError:
            pass  # a field name of unknown text (`$0`) is no parameter
        # The value's own text (simpleion's text reader mangles fractions of more than 9 digits).
        text = ion_text(value).encode()
        for binary in encodings:
            assert describe(_native.ion_loads(binary)) == describe(_native.ion_loads(text)), text
            assert describe_plain(_native.ion_loads(binary, "plain")) == describe_plain(
                _native.ion_loads(text, "plain")
            ), text


def test_symbol_tables_of_a_stream():
    ivm = bytes.fromhex("e00100ea")
    lst = bytes.fromhex("e78183d487b28161")  # $ion_symbol_table::{symbols: ["a"]}
    lst_b = bytes.fromhex("e78183d487b28162")  # ... ["b"]
    append_b = bytes.fromhex("ea8183d786710387b28162")  # {imports: $ion_symbol_table, symbols: ["b"]}
    cases = [
        (ivm + lst + bytes.fromhex("d38a2101"), {"a": 1}),
        (ivm + lst + lst_b + bytes.fromhex("d38a2101"), {"b": 1}),  # a new table replaces the last
        (ivm + lst + append_b + bytes.fromhex("d68a21018b2102"), {"a": 1, "b": 2}),
        (ivm + lst + ivm + lst_b + bytes.fromhex("d38a2101"), {"b": 1}),  # a version marker resets
        (ivm + lst + bytes.fromhex("710a"), "a"),
        (ivm + bytes.fromhex("d3842101"), {"name": 1}),  # system symbols
    ]
    for binary, expected in cases:
        assert _native.ion_loads(binary, "plain") == expected
        assert _native.ion_loads(binary) == loads(binary)
    for bad in (ivm + bytes.fromhex("d38a2101"), ivm + lst + bytes.fromhex("710b")):  # undefined symbol ids
        for model in ("ion", "plain"):
            with pytest.raises(ValueError, match="Cannot read the Ion value"):
                _native.ion_loads(bad, model)


def test_many_and_repeated_field_names():
    fields = ["f%d: %d" % (i % 40, i) for i in range(100)]  # 40 names, each 2 or 3 times
    text = "{" + ", ".join(fields) + "}"
    for data in (text.encode(), dumps(loads(text))):
        value = _native.ion_loads(data)
        assert value.get_all_values("f3") == [3, 43, 83] and len(value) == 100
        assert list(value.keys())[:3] == ["f0", "f1", "f2"]
        assert _native.ion_loads(data, "plain") == {"f%d" % i: i + (80 if i < 20 else 40) for i in range(40)}
    names = ["n%d" % i for i in range(5000)]  # more names than are cached
    value = _native.ion_loads(dumps({n: i for i, n in enumerate(names)}), "plain")
    assert list(value) == names and value["n4999"] == 4999


def test_deep_values_are_refused_on_reading():
    for depth, ok in ((512, True), (513, False)):
        value = []
        for _ in range(depth):
            value = [value]
        for data in (dumps(value), ("[" * (depth + 1) + "]" * (depth + 1)).encode()):
            for model in ("ion", "plain"):
                if ok:
                    assert _native.ion_loads(data, model) == value
                else:
                    with pytest.raises(ValueError, match="nested more than 512"):
                        _native.ion_loads(data, model)


def test_malformed_binary_is_a_value_error():
    ivm = bytes.fromhex("e00100ea")
    for bad in (
        ivm + bytes.fromhex("8e"),  # a string without its length
        ivm + bytes.fromhex("82fffe"),  # invalid UTF-8
        ivm + bytes.fromhex("d2"),  # a struct cut short
        ivm + bytes.fromhex("66800fd181818c"),  # 2001-01-01 and an hour without its minutes
        ivm + bytes.fromhex("64800fd18d"),  # month 13
        ivm + bytes.fromhex("2101") + bytes.fromhex("2102"),  # two values
        ivm,  # none
    ):
        for model in ("ion", "plain"):
            with pytest.raises(ValueError, match="Cannot read the Ion value"):
                _native.ion_loads(bad, model)
