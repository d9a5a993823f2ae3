//! Criterion micro-benchmarks of QLDB hashing: Ion Hash of a typical 10-field document (ours
//! against ion-rs's reference implementation), the hash of a statement text, and the commit
//! digest of a one-statement transaction.
//!
//! `cargo bench -p qldb-ion`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use qldb_ion::ion_rs::Element;
use qldb_ion::{ion_hash, ion_hash_str, CommitDigest};

const DOCUMENT: &str = r#"{
    id: "5vHoYG5m0OZCsqdYCs8XLH",
    name: "Alice Example",
    age: 30,
    balance: 1234.56,
    rate: 0.0125,
    created: 2021-06-02T07:03:05.226Z,
    updated: 2021-06-02T07:03:05.226123-07:00,
    active: true,
    address: { street: "1 Main St", city: "Seattle", zip: 98101 },
    tags: ["a", "b", 3, 4.5e0]
}"#;

fn hashing(c: &mut Criterion) {
    let document = Element::read_one(DOCUMENT.as_bytes()).unwrap();
    let reference: [u8; 32] = qldb_ion::ion_rs::ion_hash::sha256(&document)
        .unwrap()
        .into();
    assert_eq!(ion_hash(&document), reference, "both implementations agree");

    let mut g = c.benchmark_group("ion_hash_10_field_document");
    g.bench_function("qldb_ion", |b| b.iter(|| ion_hash(black_box(&document))));
    g.bench_function("ion_rs_reference", |b| {
        b.iter(|| qldb_ion::ion_rs::ion_hash::sha256(black_box(&document)).unwrap())
    });
    g.finish();

    c.bench_function("ion_hash_str_statement", |b| {
        b.iter(|| ion_hash_str(black_box("SELECT * FROM Person WHERE id = ?")))
    });
    c.bench_function("commit_digest_one_statement_one_param", |b| {
        b.iter(|| {
            let mut d = CommitDigest::new(black_box("AAAAAAAAAAAAAAAAAAAAAA"));
            d.add_statement("INSERT INTO Person ?", &[ion_hash(&document)]);
            d.value()
        })
    });
}

criterion_group!(benches, hashing);
criterion_main!(benches);
