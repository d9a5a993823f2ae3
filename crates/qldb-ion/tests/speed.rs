//! Ion Hash speed on a typical 10-field document, `qldb_ion::ion_hash` against ion-rs's reference
//! implementation. Ignored by default; run with
//! `cargo test -p qldb-ion --release --test speed -- --ignored --nocapture`.

use std::hint::black_box;
use std::time::Instant;

use qldb_ion::ion_rs::Element;

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

fn per_call_ns(iterations: u32, mut f: impl FnMut() -> [u8; 32]) -> f64 {
    for _ in 0..iterations / 10 {
        black_box(f());
    }
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(f());
    }
    start.elapsed().as_nanos() as f64 / f64::from(iterations)
}

#[test]
#[ignore = "timing, run by hand"]
fn ion_hash_speed_on_a_ten_field_document() {
    let document = Element::read_one(DOCUMENT.as_bytes()).unwrap();
    let ours = qldb_ion::ion_hash(&document);
    let theirs: [u8; 32] = qldb_ion::ion_rs::ion_hash::sha256(&document)
        .unwrap()
        .into();
    assert_eq!(ours, theirs);

    let n = 50_000;
    let reference = per_call_ns(n, || {
        qldb_ion::ion_rs::ion_hash::sha256(black_box(&document))
            .unwrap()
            .into()
    });
    let direct = per_call_ns(n, || qldb_ion::ion_hash(black_box(&document)));
    let text = per_call_ns(n, || {
        qldb_ion::ion_hash_str(black_box("INSERT INTO Person ?"))
    });
    println!(
        "Ion Hash of a 10-field document: ion-rs {reference:.0} ns, qldb-ion {direct:.0} ns \
         ({:.1}x); ion_hash_str of a statement: {text:.0} ns",
        reference / direct
    );
}
