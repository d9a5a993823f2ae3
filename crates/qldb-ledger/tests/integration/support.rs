//! A minimal client over the engine's session API, doing what a driver does: start a
//! transaction, run statements while keeping the commit digest, fetch every page, commit.

use ion_rs::Element;
use qldb_ion::{ion_hash, CommitDigest, Hash};
use qldb_ledger::{CreateLedgerRequest, Engine, EngineConfig, LedgerResult, StatementResult};

pub fn ion(text: &str) -> Element {
    Element::read_one(text.as_bytes()).unwrap_or_else(|e| panic!("bad Ion in test {text}: {e}"))
}

pub fn memory_engine(ledger: &str) -> Engine {
    let engine = Engine::memory(EngineConfig::default());
    engine
        .create_ledger(CreateLedgerRequest::new(ledger))
        .unwrap();
    engine
}

pub struct Client<'e> {
    pub engine: &'e Engine,
    pub token: String,
}

pub struct Tx<'c, 'e> {
    pub client: &'c Client<'e>,
    pub id: String,
    pub digest: CommitDigest,
}

/// Rows and stats of one statement.
pub struct Rows {
    pub values: Vec<Element>,
    pub first: StatementResult,
}

impl<'e> Client<'e> {
    pub fn new(engine: &'e Engine, ledger: &str) -> Client<'e> {
        let token = engine.start_session(ledger).unwrap().session_token;
        Client { engine, token }
    }

    pub fn begin(&self) -> LedgerResult<Tx<'_, 'e>> {
        let id = self.engine.start_transaction(&self.token)?;
        Ok(Tx {
            client: self,
            digest: CommitDigest::new(&id),
            id,
        })
    }

    /// Runs `f` in one transaction and commits it.
    pub fn txn<T>(&self, f: impl FnOnce(&mut Tx<'_, 'e>) -> LedgerResult<T>) -> LedgerResult<T> {
        let mut tx = self.begin()?;
        match f(&mut tx) {
            Ok(v) => {
                tx.commit()?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.engine.abort_transaction(&self.token);
                Err(e)
            }
        }
    }

    /// One statement in its own transaction.
    pub fn run(&self, stmt: &str, params: &[Element]) -> LedgerResult<Vec<Element>> {
        self.txn(|tx| tx.exec(stmt, params))
    }
}

impl Tx<'_, '_> {
    pub fn exec_full(&mut self, stmt: &str, params: &[Element]) -> LedgerResult<Rows> {
        let hashes: Vec<Hash> = params.iter().map(ion_hash).collect();
        self.digest.add_statement(stmt, &hashes);
        let engine = self.client.engine;
        let first = engine.execute_statement(&self.client.token, &self.id, stmt, params)?;
        let mut values: Vec<Element> = Vec::new();
        let mut page = first.page.clone();
        loop {
            for v in &page.values {
                assert_eq!(
                    &v[..4],
                    &[0xE0, 0x01, 0x00, 0xEA],
                    "every value is a full Ion binary stream"
                );
                values.push(Element::read_one(v).expect("one Ion value per holder"));
            }
            match &page.next_page_token {
                None => break,
                Some(t) => page = engine.fetch_page(&self.client.token, &self.id, t)?.page,
            }
        }
        Ok(Rows { values, first })
    }

    pub fn exec(&mut self, stmt: &str, params: &[Element]) -> LedgerResult<Vec<Element>> {
        Ok(self.exec_full(stmt, params)?.values)
    }

    pub fn commit(self) -> LedgerResult<qldb_ledger::CommitResult> {
        let d = self.digest.value();
        let r = self
            .client
            .engine
            .commit_transaction(&self.client.token, &self.id, &d)?;
        assert_eq!(r.commit_digest, d.to_vec(), "the commit digest is echoed");
        Ok(r)
    }
}

// ---- Helpers for the occ, concurrency, crash, model, ion_types, views, errors and proofs suites.

/// An engine with `config` holding one ledger named `ledger` (deletion protection off).
pub fn engine_with(config: EngineConfig, ledger: &str) -> Engine {
    let engine = Engine::memory(config);
    let mut req = CreateLedgerRequest::new(ledger);
    req.deletion_protection = false;
    engine.create_ledger(req).unwrap();
    engine
}

/// Exact Ion equality: types, decimal precision, timestamp precision and offset, annotations.
pub fn assert_ion_eq(actual: &Element, expected: &Element) {
    assert!(
        ion_rs::IonData::eq(actual, expected),
        "Ion values differ exactly:\n  actual:   {actual}\n  expected: {expected}"
    );
}

/// The values as a sorted list of their Ion hashes: equal lists mean equal multisets of exact
/// Ion values, whatever the order.
pub fn ion_multiset(values: &[Element]) -> Vec<Hash> {
    let mut h: Vec<Hash> = values.iter().map(ion_hash).collect();
    h.sort_unstable();
    h
}

/// Asserts two result sets hold the same exact Ion values, in any order.
pub fn assert_same_multiset(actual: &[Element], expected: &[Element], what: &str) {
    if ion_multiset(actual) != ion_multiset(expected) {
        let show = |v: &[Element]| v.iter().map(|e| format!("\n    {e}")).collect::<String>();
        panic!(
            "{what}: result multisets differ\n  actual:{}\n  expected:{}",
            show(actual),
            show(expected)
        );
    }
}

/// Field `name` of struct `e`; panics when `e` is not a struct or lacks it.
pub fn field<'a>(e: &'a Element, name: &str) -> &'a Element {
    e.as_struct()
        .unwrap_or_else(|| panic!("not a struct: {e}"))
        .get(name)
        .unwrap_or_else(|| panic!("no field {name} in {e}"))
}

/// Text of field `name` of struct `e`.
pub fn text_field(e: &Element, name: &str) -> String {
    field(e, name)
        .as_text()
        .unwrap_or_else(|| panic!("field {name} of {e} is not text"))
        .to_string()
}

/// The sequence number of the ledger's digest tip.
pub fn tip_seq(engine: &Engine, ledger: &str) -> u64 {
    engine.get_digest(ledger).unwrap().1.sequence_no
}
