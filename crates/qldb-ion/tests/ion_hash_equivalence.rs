//! Proves `qldb_ion::ion_hash` byte-for-byte equal to the reference implementation of ion-rs
//! (`ion_rs::ion_hash::sha256`) on hand-picked edge cases and on random nested values of every
//! Ion type: annotations (including unknown-text symbols), typed nulls, big ints, decimals with
//! negative zero and extreme exponents, timestamps of every precision and offset with up to 18
//! fractional digits, floats including `0e0`, `-0e0`, `nan` and `±inf`, and marker bytes
//! (`0x0B`, `0x0C`, `0x0E`) everywhere.

use proptest::prelude::*;
use qldb_ion::ion_hash;
use qldb_ion::ion_rs::{Decimal, Element, Int, IonType, List, SExp, Struct, Symbol, Timestamp};

fn reference(element: &Element) -> [u8; 32] {
    qldb_ion::ion_rs::ion_hash::sha256(element)
        .expect("ion-rs Ion Hash")
        .into()
}

fn assert_same(element: &Element) {
    assert_eq!(
        ion_hash(element),
        reference(element),
        "Ion Hash differs from ion-rs for {element:?}"
    );
}

fn parse(text: &str) -> Element {
    Element::read_one(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e}"))
}

const ION_TYPES: [IonType; 13] = [
    IonType::Null,
    IonType::Bool,
    IonType::Int,
    IonType::Float,
    IonType::Decimal,
    IonType::Timestamp,
    IonType::Symbol,
    IonType::String,
    IonType::Clob,
    IonType::Blob,
    IonType::List,
    IonType::SExp,
    IonType::Struct,
];

#[test]
fn edge_cases_match_ion_rs() {
    for t in ION_TYPES {
        assert_same(&Element::null(t));
        assert_same(&Element::null(t).with_annotations(["a", "b"]));
    }
    for text in [
        "true",
        "false",
        "0",
        "1",
        "-1",
        "127",
        "128",
        "255",
        "256",
        "-128",
        "-129",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551616",
        "-170141183460469231731687303715884105728",
        "340282366920938463463374607431768211456",
        "-123456789012345678901234567890123456789012345678901234567890",
        "0e0",
        "-0e0",
        "nan",
        "+inf",
        "-inf",
        "1e0",
        "-1.5e-300",
        "5e-324",
        "1.7976931348623157e308",
        "0d0",
        "-0d0",
        "0.0",
        "-0.0",
        "0d5",
        "-0d-5",
        "1.10",
        "1.1",
        "-1.10",
        "12345678901234567890.123",
        "123456789012345678901234567890123456789012345678901234567890d-20",
        "-123456789012345678901234567890123456789012345678901234567890d20",
        "1d9223372036854775807",
        "-1d-9223372036854775807",
        "1d63",
        "1d-64",
        "1d8191",
        "1d-8192",
        "2020T",
        "2020-02T",
        "2020-02-03",
        "2020-02-03T04:05Z",
        "2020-02-03T04:05-00:00",
        "2020-02-03T04:05:06+05:30",
        "2020-02-03T04:05:06.7-23:59",
        "2020-02-03T04:05:06.000+23:59",
        "0001-01-01T00:30+01:00",
        "9999-12-31T23:59:59.999999999-00:00",
        "2020-02-03T04:05:06.123456789012345678Z",
        "2020-02-03T04:05:06.000000000001-07:00",
        "2016-12-20T05:23:43.000000-00:00",
        "2020-01-01T23:30:00-05:00",
        "abc",
        "'with space'",
        "$0",
        "\"\"",
        "\"\\x0b\\x0c\\x0e\"",
        "'\\x0b'",
        "{{}}",
        "{{aGk=}}",
        "{{\"\\x0b\\x0e\"}}",
        "{{CwwO}}",
        "[]",
        "()",
        "{}",
        "[1, [2, [3, []]], (a b c)]",
        "{a:1, a:1, b:{c:[d::e::null.int]}}",
        "$0::1",
        "a::$0::{$0: 1}",
        "{'\\x0b': '\\x0e'}",
        "{Name:\"Alice\", Age:30, Tags:[x, \"y\", 1.5e0], When:2021-06-02T07:03:05.226Z}",
    ] {
        assert_same(&parse(text));
    }
    assert_same(&Element::symbol(Symbol::unknown_text()));
    assert_same(&Element::float(f64::from_bits(0x7FF0_0000_0000_0001))); // a signalling NaN
    assert_same(&Element::float(-f64::NAN));
    assert_same(&Element::decimal(Decimal::negative_zero_with_exponent(-3)));
    assert_same(&Element::decimal(Decimal::new(i128::MIN, i64::MIN)));
    assert_same(&Element::decimal(Decimal::new(u128::MAX, i64::MAX)));
}

fn marker_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => any::<char>(),
            1 => Just('\u{0B}'),
            1 => Just('\u{0C}'),
            1 => Just('\u{0E}'),
            2 => proptest::char::range('a', 'e'),
        ],
        0..12,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn marker_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![3 => any::<u8>(), 1 => Just(0x0B), 1 => Just(0x0C), 1 => Just(0x0E)],
        0..24,
    )
}

fn symbol() -> impl Strategy<Value = Symbol> {
    prop_oneof![
        8 => marker_text().prop_map(Symbol::from),
        1 => Just(Symbol::unknown_text()),
    ]
}

fn big_int() -> impl Strategy<Value = Int> {
    prop_oneof![
        any::<i64>().prop_map(Int::from),
        any::<i128>().prop_map(Int::from),
        proptest::collection::vec(any::<u8>(), 1..40).prop_map(|b| Int::from_le_signed_bytes(&b)),
        prop_oneof![
            Just(0x0B_i64),
            Just(0x0C),
            Just(0x0E),
            Just(-0x0B),
            Just(0x0B0C0E)
        ]
        .prop_map(Int::from),
    ]
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        4 => any::<u64>().prop_map(f64::from_bits),
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
    ]
}

fn decimal() -> impl Strategy<Value = Decimal> {
    let exponent = prop_oneof![
        4 => -40i64..40,
        1 => any::<i64>(),
        1 => Just(0i64),
    ];
    prop_oneof![
        4 => (any::<i64>(), exponent.clone()).prop_map(|(c, e)| Decimal::new(c, e)),
        2 => (big_int(), exponent.clone()).prop_map(|(c, e)| Decimal::new(c, e)),
        1 => exponent.clone().prop_map(|e| Decimal::new(0, e)),
        1 => exponent.prop_map(Decimal::negative_zero_with_exponent),
    ]
}

/// Timestamps come from text, as they do off the wire: every precision, every offset form.
fn timestamp_text() -> impl Strategy<Value = String> {
    let offset = prop_oneof![
        Just("Z".to_string()),
        Just("-00:00".to_string()),
        Just("+00:00".to_string()),
        (any::<bool>(), 0u32..24, 0u32..60)
            .prop_map(|(neg, h, m)| format!("{}{h:02}:{m:02}", if neg { '-' } else { '+' })),
    ];
    let fraction = prop_oneof![
        Just(String::new()),
        (1usize..=18, any::<u64>()).prop_map(|(digits, v)| {
            let text = format!("{:018}", v % 1_000_000_000_000_000_000);
            format!(".{}", &text[..digits])
        }),
    ];
    (
        1u32..=9999,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
        fraction,
        offset,
        0u8..7,
    )
        .prop_map(
            |(y, mo, d, h, mi, s, frac, off, precision)| match precision {
                0 => format!("{y:04}T"),
                1 => format!("{y:04}-{mo:02}T"),
                2 => format!("{y:04}-{mo:02}-{d:02}"),
                3 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}{off}"),
                4 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{off}"),
                _ => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{off}"),
            },
        )
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    timestamp_text().prop_map(|text| {
        parse(&text)
            .as_timestamp()
            .unwrap_or_else(|| panic!("{text} is not a timestamp"))
    })
}

fn scalar() -> impl Strategy<Value = Element> {
    prop_oneof![
        proptest::sample::select(&ION_TYPES[..]).prop_map(Element::null),
        any::<bool>().prop_map(Element::boolean),
        big_int().prop_map(Element::int),
        float().prop_map(Element::float),
        decimal().prop_map(Element::decimal),
        timestamp().prop_map(Element::timestamp),
        symbol().prop_map(Element::symbol),
        marker_text().prop_map(Element::string),
        marker_bytes().prop_map(Element::clob),
        marker_bytes().prop_map(Element::blob),
    ]
}

fn annotated(inner: impl Strategy<Value = Element>) -> impl Strategy<Value = Element> {
    (
        inner,
        prop_oneof![
            3 => Just(Vec::new()),
            1 => proptest::collection::vec(symbol(), 1..4),
        ],
    )
        .prop_map(|(element, annotations)| {
            if annotations.is_empty() {
                element
            } else {
                element.with_annotations(annotations)
            }
        })
}

fn element() -> impl Strategy<Value = Element> {
    annotated(scalar()).prop_recursive(4, 48, 6, |inner| {
        annotated(prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6)
                .prop_map(|children| Element::from(List::from(children))),
            proptest::collection::vec(inner.clone(), 0..6)
                .prop_map(|children| Element::from(SExp::from(children))),
            proptest::collection::vec((symbol(), inner), 0..6)
                .prop_map(|fields| Element::from(fields.into_iter().collect::<Struct>())),
        ])
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_elements_match_ion_rs(element in element()) {
        prop_assert_eq!(ion_hash(&element), reference(&element), "{:?}", element);
    }

    #[test]
    fn random_strings_match_ion_hash_str(text in marker_text()) {
        prop_assert_eq!(qldb_ion::ion_hash_str(&text), reference(&Element::string(text.as_str())));
    }
}
