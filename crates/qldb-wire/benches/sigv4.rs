//! SigV4 and JSON costs of one QLDB Session request as the driver's HTTP transport pays them:
//! signing an ExecuteStatement (derived key reused), encoding its body, decoding a one-document
//! ExecuteStatement answer. `cargo bench -p qldb-wire`.

use criterion::{criterion_group, criterion_main, Criterion};
use qldb_wire::sigv4::{amz_date, DerivedKey, RequestParts};
use qldb_wire::{
    ExecuteStatementRequest, SendCommandRequest, SendCommandResponse, ValueHolder, AMZ_JSON_1_0,
    SEND_COMMAND_TARGET,
};
use std::hint::black_box;
use std::time::SystemTime;

fn request() -> SendCommandRequest {
    SendCommandRequest {
        session_token: Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into()),
        execute_statement: Some(ExecuteStatementRequest {
            transaction_id: "4o5Uk09OcjC6PpJpLahceE".into(),
            statement: "SELECT * FROM LoadTest WHERE k = ?".into(),
            parameters: vec![ValueHolder::binary(vec![
                0xE0, 0x01, 0x00, 0xEA, 0x89, b'k', b'0', b'0', b'0', b'0', b'0', b'0', b'4', b'2',
            ])],
        }),
        ..Default::default()
    }
}

const ANSWER: &str = r#"{"ExecuteStatement":{"FirstPage":{"Values":[{"IonBinary":"4AEA6u6Vgd6Rh4q+jkh4IzQ1NkHUWHlkHjcAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}]},"TimingInformation":{"ProcessingTimeMilliseconds":0},"ConsumedIOs":{"ReadIOs":1,"WriteIOs":0}}}"#;

fn bench(c: &mut Criterion) {
    let body = serde_json::to_vec(&request()).unwrap();
    let amz = amz_date(SystemTime::now());
    let key = DerivedKey::new("secret", &amz[..8], "us-east-1", "qldb");
    let headers = [
        ("content-type", AMZ_JSON_1_0),
        ("host", "127.0.0.1:8000"),
        ("x-amz-date", amz.as_str()),
        ("x-amz-target", SEND_COMMAND_TARGET),
    ];
    let parts = RequestParts {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: &body,
    };
    c.bench_function("sigv4/authorize", |b| {
        b.iter(|| key.authorize(black_box(&parts), "AKIDEXAMPLE", &amz))
    });
    c.bench_function("sigv4/amz_date", |b| {
        b.iter(|| amz_date(black_box(SystemTime::now())))
    });
    c.bench_function("json/encode_execute_statement", |b| {
        b.iter(|| serde_json::to_vec(black_box(&request())).unwrap())
    });
    c.bench_function("json/decode_one_document_answer", |b| {
        b.iter(|| serde_json::from_str::<SendCommandResponse>(black_box(ANSWER)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
