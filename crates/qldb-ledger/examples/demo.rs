//! A tour of the embedded ledger on a file-backed data directory: tables, an index, inserts,
//! queries, an update, history, and one revision verified against the ledger digest.
//!
//! Run with `make demo` (or `cargo run --release -p qldb-ledger --example demo [DIR]`).

use ion_rs::Element;
use qldb_ion::{dot, ion_hash, verify_proof, CommitDigest, Hash};
use qldb_ledger::{BlockAddress, CreateLedgerRequest, Engine, EngineConfig, LedgerResult};

/// Runs statements in one transaction the way a driver does: keeps the commit digest, reads
/// every page, commits.
fn transaction(
    engine: &Engine,
    token: &str,
    statements: &[(&str, Vec<Element>)],
) -> LedgerResult<Vec<Vec<Element>>> {
    let txid = engine.start_transaction(token)?;
    let mut digest = CommitDigest::new(&txid);
    let mut results = Vec::new();
    for (text, params) in statements {
        let hashes: Vec<Hash> = params.iter().map(ion_hash).collect();
        digest.add_statement(text, &hashes);
        let mut r = engine.execute_statement(token, &txid, text, params)?;
        let mut rows = Vec::new();
        loop {
            for v in &r.page.values {
                rows.push(Element::read_one(v).expect("valid Ion"));
            }
            match r.page.next_page_token.clone() {
                Some(t) => r = engine.fetch_page(token, &txid, &t)?,
                None => break,
            }
        }
        results.push(rows);
    }
    engine.commit_transaction(token, &txid, &digest.value())?;
    Ok(results)
}

fn one(engine: &Engine, token: &str, text: &str, params: Vec<Element>) -> Vec<Element> {
    let rows = transaction(engine, token, &[(text, params)])
        .unwrap_or_else(|e| panic!("{text}: {} {e}", e.code()))
        .remove(0);
    println!("  {text}");
    for r in &rows {
        println!("    → {r}");
    }
    rows
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("qldb-demo-{}", std::process::id())));
    println!(
        "1. Opening a file-backed ledger engine in {}",
        dir.display()
    );
    let engine = Engine::open_dir(&dir, EngineConfig::default()).expect("open data directory");
    let mut req = CreateLedgerRequest::new("demo");
    req.deletion_protection = false;
    if engine.ledger("demo").is_err() {
        engine.create_ledger(req).expect("create ledger");
    }
    let token = engine.start_session("demo").expect("session").session_token;

    println!("2. Tables and an index");
    if one(
        &engine,
        &token,
        "SELECT VALUE name FROM information_schema.user_tables WHERE name = 'Vehicle'",
        vec![],
    )
    .is_empty()
    {
        one(&engine, &token, "CREATE TABLE Vehicle", vec![]);
        one(&engine, &token, "CREATE INDEX ON Vehicle (VIN)", vec![]);
    }

    println!("3. Inserts (a parameter, and a bag of two documents)");
    let vin = format!("VIN{}", std::process::id());
    one(
        &engine,
        &token,
        "INSERT INTO Vehicle ?",
        vec![Element::read_one(format!(
            "{{VIN: \"{vin}\", Make: \"Tesla\", Year: 2020, Price: 48000.00, Owners: [\"Ann\"]}}"
        ))
        .unwrap()],
    );
    one(&engine, &token, "INSERT INTO Vehicle << {'VIN': 'X1', 'Make': 'Ford', 'Year': 2011}, {'VIN': 'X2', 'Make': 'Audi', 'Year': 2015} >>", vec![]);

    println!("4. Queries");
    one(
        &engine,
        &token,
        "SELECT v.Make, v.Year FROM Vehicle AS v WHERE v.VIN = ?",
        vec![Element::string(vin.as_str())],
    );
    one(
        &engine,
        &token,
        "SELECT COUNT(*) FROM Vehicle WHERE Year > 2012",
        vec![],
    );

    println!("5. An update");
    one(
        &engine,
        &token,
        "UPDATE Vehicle AS v SET v.Price = v.Price - 500.00 WHERE v.VIN = ?",
        vec![Element::string(vin.as_str())],
    );

    println!("6. History of the document");
    let committed = one(
        &engine,
        &token,
        "SELECT metadata.id AS id, blockAddress FROM _ql_committed_Vehicle WHERE data.VIN = ?",
        vec![Element::string(vin.as_str())],
    );
    let row = committed[0].as_struct().unwrap();
    let doc_id = row.get("id").unwrap().as_text().unwrap().to_string();
    let address = BlockAddress::from_element(row.get("blockAddress").unwrap()).unwrap();
    one(&engine, &token, "SELECT h.metadata.version, h.data.Price FROM history(Vehicle) AS h WHERE h.metadata.id = ?", vec![Element::string(doc_id.as_str())]);

    println!("7. Verifying the latest revision against the ledger digest");
    let (digest, tip) = engine.get_digest("demo").unwrap();
    println!("  digest {} at {}", hex(&digest), tip.to_ion_text());
    let (revision, proof) = engine
        .get_revision("demo", &address, &doc_id, Some(&tip))
        .unwrap();
    let revision = Element::read_one(revision.as_bytes()).unwrap();
    let rs = revision.as_struct().unwrap();
    let recomputed = dot(
        &ion_hash(rs.get("data").unwrap()),
        &ion_hash(rs.get("metadata").unwrap()),
    );
    let proof: Vec<Hash> = Element::read_one(proof.unwrap().as_bytes())
        .unwrap()
        .as_sequence()
        .unwrap()
        .iter()
        .map(|b| b.as_blob().unwrap().try_into().unwrap())
        .collect();
    let ok = verify_proof(&recomputed, &proof, &digest);
    println!(
        "  revision hash recomputed from data and metadata, {} proof hashes: {}",
        proof.len(),
        if ok { "VERIFIED" } else { "FAILED" }
    );
    let report = engine
        .ledger("demo")
        .unwrap()
        .verify()
        .expect("journal verifies");
    println!(
        "  whole journal verified: {} blocks, {} revisions",
        report.blocks, report.revisions
    );
    assert!(ok, "the revision must verify against the digest");
}

fn hex(h: &[u8]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}
