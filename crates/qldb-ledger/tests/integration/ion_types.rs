//! Exact Ion round trips (`spec/semantics.md` §6): the 25 values clients exercise, plain and
//! annotated, inserted as a parameter and read back with `WHERE col = ?` or `IS NULL`; big ints,
//! decimal precision, timestamp offsets, symbol vs string, annotated documents, and the values
//! `UTCNOW()` and `TXID()` produce.

use crate::support::*;
use ion_rs::{Element, IonType};

const L: &str = "ion";

/// The round-trip set: 13 values and the 12 typed nulls.
const VALUES: &[&str] = &[
    "{{ \"a clob\" }}",
    "{{ aGVsbG8gYmxvYg== }}",
    "true",
    "0.1",
    "0.2e0",
    "42",
    "[1, \"two\", 3.0]",
    "null",
    "(cons 1 2)",
    "\"a string\"",
    "{a: 1, b: \"x\"}",
    "a_symbol",
    "2016-12-20T05:23:43.000000-00:00",
    "null.clob",
    "null.blob",
    "null.bool",
    "null.decimal",
    "null.float",
    "null.int",
    "null.list",
    "null.sexp",
    "null.string",
    "null.struct",
    "null.symbol",
    "null.timestamp",
];

fn setup() -> (qldb_ledger::Engine, &'static str) {
    let engine = memory_engine(L);
    Client::new(&engine, L).run("CREATE TABLE T", &[]).unwrap();
    (engine, "T")
}

/// Inserts `{col: v}` as a parameter, reads it back and compares exactly; then empties `T`.
fn round_trip(c: &Client<'_>, text: &str) {
    let v = ion(text);
    let doc: Element = Element::struct_builder()
        .with_field("col", v.clone())
        .build()
        .into();
    let ins = c
        .run("INSERT INTO T VALUE {'col': ?}", std::slice::from_ref(&v))
        .unwrap();
    assert_eq!(ins.len(), 1, "{text}");
    let rows = if v.is_null() {
        c.run("SELECT * FROM T WHERE col IS NULL", &[]).unwrap()
    } else {
        c.run("SELECT * FROM T WHERE col = ?", std::slice::from_ref(&v))
            .unwrap()
    };
    assert_eq!(
        rows.len(),
        1,
        "{text}: read back one document, got {rows:?}"
    );
    assert_ion_eq(&rows[0], &doc);
    let back = field(&rows[0], "col");
    assert_eq!(back.ion_type(), v.ion_type(), "{text}: Ion type kept");
    assert_eq!(
        back.annotations()
            .iter()
            .map(|a| a.text().unwrap_or("").to_string())
            .collect::<Vec<_>>(),
        v.annotations()
            .iter()
            .map(|a| a.text().unwrap_or("").to_string())
            .collect::<Vec<_>>(),
        "{text}: annotations kept"
    );
    assert_eq!(
        qldb_ion::ion_hash(back),
        qldb_ion::ion_hash(&v),
        "{text}: same Ion hash"
    );
    // The stored value also round-trips through the committed view and a projection.
    let projected = c.run("SELECT VALUE col FROM T", &[]).unwrap();
    assert_eq!(projected.len(), 1);
    assert_ion_eq(&projected[0], &v);
    c.run("DELETE FROM T", &[]).unwrap();
}

#[test]
fn round_trip_set_plain() {
    let (engine, _) = setup();
    let c = Client::new(&engine, L);
    for text in VALUES {
        round_trip(&c, text);
    }
}

#[test]
fn round_trip_set_annotated() {
    let (engine, _) = setup();
    let c = Client::new(&engine, L);
    for text in VALUES {
        round_trip(&c, &format!("annotation::{text}"));
    }
    // Several annotations, in order.
    round_trip(&c, "a::b::c::42");
    round_trip(&c, "'two words'::\"text\"");
}

#[test]
fn typed_nulls_are_not_equal_to_anything() {
    let (engine, _) = setup();
    let c = Client::new(&engine, L);
    c.run("INSERT INTO T VALUE {'col': ?}", &[ion("null.int")])
        .unwrap();
    // `null = null` is null in PartiQL: an equality lookup finds nothing; IS NULL finds it.
    assert!(c
        .run("SELECT * FROM T WHERE col = ?", &[ion("null.int")])
        .unwrap()
        .is_empty());
    assert_eq!(
        c.run("SELECT * FROM T WHERE col IS NOT NULL", &[])
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        c.run("SELECT * FROM T WHERE col IS NULL", &[])
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn big_ints_round_trip_and_compare() {
    let (engine, _) = setup();
    let c = Client::new(&engine, L);
    let big = "1267650600228229401496703205376"; // 2^100
    for text in [
        big,
        &format!("-{big}"),
        "9223372036854775808",
        "-9223372036854775809",
    ] {
        round_trip(&c, text);
    }
    c.run("INSERT INTO T VALUE {'col': ?}", &[ion(big)])
        .unwrap();
    let rows = c
        .run(
            "SELECT VALUE col + 1 FROM T WHERE col > ?",
            &[ion("9223372036854775807")],
        )
        .unwrap();
    assert_eq!(rows, vec![ion("1267650600228229401496703205377")]);
}

#[test]
fn decimal_precision_is_kept() {
    let (engine, _) = setup();
    let c = Client::new(&engine, L);
    for text in [
        "1.10",
        "1.1",
        "1.100",
        "0.0",
        "-0.0",
        "1d3",
        "1.23456789012345678901234567890123456789",
    ] {
        round_trip(&c, text);
    }
    c.run("INSERT INTO T VALUE {'col': 1.10}", &[]).unwrap();
    // Found by value, returned with its own precision.
    let rows = c
        .run("SELECT VALUE col FROM T WHERE col = 1.1", &[])
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_ion_eq(&rows[0], &ion("1.10"));
    assert_eq!(rows[0].to_string(), "1.10");
}

#[test]
fn timestamp_offsets_and_precision_are_kept() {
    let (engine, _) = setup();
    let c = Client::new(&engine, L);
    let variants = [
        "2016-12-20T05:23:43.000000-00:00",
        "2016-12-20T05:23:43.000000+00:00",
        "2016-12-20T05:23:43Z",
        "2016-12-20T05:23:43.000Z",
        "2016-12-20T06:23:43.000000+01:00",
        "2016-12-20T",
        "2016-12T",
        "2016T",
    ];
    for text in variants {
        round_trip(&c, text);
    }
    c.txn(|t| {
        for (k, text) in variants.iter().enumerate() {
            t.exec(
                "INSERT INTO T VALUE {'k': ?, 't': ?}",
                &[Element::int(k as i64), ion(text)],
            )?;
        }
        Ok(())
    })
    .unwrap();
    for (k, text) in variants.iter().enumerate() {
        let rows = c
            .run(
                "SELECT VALUE t FROM T WHERE k = ?",
                &[Element::int(k as i64)],
            )
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_ion_eq(&rows[0], &ion(text));
    }
    // -00:00 and +00:00 are distinct values (different hashes) although the same instant.
    assert_ne!(
        qldb_ion::ion_hash(&ion(variants[0])),
        qldb_ion::ion_hash(&ion(variants[1]))
    );
}

#[test]
fn symbol_and_string_stay_distinct() {
    let (engine, _) = setup();
    let c = Client::new(&engine, L);
    c.run(
        "INSERT INTO T << {'k': 1, 'v': ?}, {'k': 2, 'v': ?} >>",
        &[ion("abc"), ion("\"abc\"")],
    )
    .unwrap();
    let sym = c.run("SELECT VALUE v FROM T WHERE k = 1", &[]).unwrap();
    let string = c.run("SELECT VALUE v FROM T WHERE k = 2", &[]).unwrap();
    assert_eq!(sym[0].ion_type(), IonType::Symbol);
    assert_eq!(string[0].ion_type(), IonType::String);
    assert_ion_eq(&sym[0], &ion("abc"));
    assert_ion_eq(&string[0], &ion("\"abc\""));
    // Also blob vs clob, list vs sexp, decimal vs float, int vs decimal.
    for (a, b) in [
        ("{{ aGk= }}", "{{ \"hi\" }}"),
        ("[1, 2]", "(1 2)"),
        ("0.5", "0.5e0"),
        ("1", "1."),
    ] {
        c.run("DELETE FROM T", &[]).unwrap();
        c.run(
            "INSERT INTO T << {'k': 1, 'v': ?}, {'k': 2, 'v': ?} >>",
            &[ion(a), ion(b)],
        )
        .unwrap();
        let ra = c.run("SELECT VALUE v FROM T WHERE k = 1", &[]).unwrap();
        let rb = c.run("SELECT VALUE v FROM T WHERE k = 2", &[]).unwrap();
        assert_ion_eq(&ra[0], &ion(a));
        assert_ion_eq(&rb[0], &ion(b));
    }
}

#[test]
fn documents_with_top_level_annotations_round_trip() {
    let (engine, _) = setup();
    let c = Client::new(&engine, L);
    let doc = ion("tag::other::{a: 1, nested: inner::{b: sym::c}}");
    c.run("INSERT INTO T ?", std::slice::from_ref(&doc))
        .unwrap();
    let rows = c.run("SELECT * FROM T", &[]).unwrap();
    assert_eq!(rows.len(), 1);
    assert_ion_eq(&rows[0], &doc);
    let rows = c.run("SELECT * FROM T WHERE a = 1", &[]).unwrap();
    assert_ion_eq(&rows[0], &doc);
    // The committed view's data is the same value, and its hash covers the annotations.
    let committed = c.run("SELECT * FROM _ql_committed_T", &[]).unwrap();
    assert_ion_eq(field(&committed[0], "data"), &doc);
    let meta = field(&committed[0], "metadata");
    let expected_hash = qldb_ion::dot(&qldb_ion::ion_hash(&doc), &qldb_ion::ion_hash(meta));
    assert_eq!(
        field(&committed[0], "hash").as_blob().unwrap(),
        &expected_hash[..]
    );
}

#[test]
fn utcnow_and_txid_in_insert() {
    let (engine, _) = setup();
    let c = Client::new(&engine, L);
    let before = qldb_ledger::clock::now_millis();
    let mut tx = c.begin().unwrap();
    let txid = tx.id.clone();
    tx.exec("INSERT INTO T VALUE {'t': UTCNOW(), 'x': TXID()}", &[])
        .unwrap();
    tx.commit().unwrap();
    let after = qldb_ledger::clock::now_millis();
    let rows = c.run("SELECT * FROM T", &[]).unwrap();
    assert_eq!(rows.len(), 1);
    assert_ion_eq(field(&rows[0], "x"), &Element::string(txid.as_str()));
    let t = field(&rows[0], "t");
    assert_eq!(t.ion_type(), IonType::Timestamp);
    // UTC with millisecond precision, e.g. 2021-06-02T07:03:05.226Z.
    let ts = t.as_timestamp().unwrap();
    assert_eq!(ts.offset(), Some(0), "UTC offset: {t}");
    assert_eq!(ts.precision(), ion_rs::TimestampPrecision::Second, "{t}");
    assert_eq!(ts.fractional_seconds_scale(), Some(3), "milliseconds: {t}");
    let ms = qldb_ledger::clock::millis_from_timestamp(&t.as_timestamp().unwrap());
    assert!(before <= ms && ms <= after, "{before} <= {ms} <= {after}");

    // Also in UPDATE … SET and SELECT.
    let mut tx = c.begin().unwrap();
    let id2 = tx.id.clone();
    tx.exec("UPDATE T SET x = TXID(), u = UTCNOW()", &[])
        .unwrap();
    let got = tx.exec("SELECT VALUE TXID() FROM << 0 >>", &[]).unwrap();
    assert_eq!(got, vec![Element::string(id2.as_str())]);
    tx.commit().unwrap();
    let rows = c.run("SELECT VALUE x FROM T", &[]).unwrap();
    assert_eq!(rows, vec![Element::string(id2.as_str())]);
}
