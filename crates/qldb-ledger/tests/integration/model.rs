//! Model-based test: random sequences of INSERT, UPDATE … SET, UPDATE … REMOVE, DELETE and
//! SELECT (equality, `>`, COUNT) grouped into random transactions (some aborted), run against
//! the engine and against a plain in-memory model. After every step the engine's results and
//! its whole table must equal the model's, as multisets of exact Ion values. Some cases put an
//! index on one field, so index lookups are checked against the scan semantics of `=`.

use crate::support::*;
use ion_rs::Element;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cmp::Ordering;
use std::collections::BTreeMap;

const L: &str = "model";

/// How PartiQL `=` and `>` see a domain value (`spec/partiql.md` §5; `eval/ops.rs` docs):
/// numbers by value across int/decimal/float, string = symbol by text, timestamps by instant,
/// annotations ignored, null never equal or comparable, containers equal structurally but not
/// ordered.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Class {
    /// Exact value × 100.
    Num(i128),
    Text(&'static str),
    /// Minutes after 2020-01-01T00:00Z.
    Ts(i64),
    Bool(bool),
    /// Equal by this key, incomparable with `>`.
    Other(&'static str),
    Null,
}

/// The values fields take, as Ion text, with their class.
const DOMAIN: &[(&str, Class)] = &[
    ("0", Class::Num(0)),
    ("1", Class::Num(100)),
    ("1.0", Class::Num(100)),
    ("1.00", Class::Num(100)),
    ("ann::1", Class::Num(100)),
    ("1e0", Class::Num(100)),
    ("2.5", Class::Num(250)),
    ("2.50", Class::Num(250)),
    ("25e-1", Class::Num(250)),
    ("-3", Class::Num(-300)),
    ("-3.000", Class::Num(-300)),
    (
        "123456789012345678901234567",
        Class::Num(12345678901234567890123456700),
    ),
    ("\"a\"", Class::Text("a")),
    ("a", Class::Text("a")),
    ("\"b\"", Class::Text("b")),
    ("'B'", Class::Text("B")),
    ("\"\"", Class::Text("")),
    ("2020-01-01T00:00Z", Class::Ts(0)),
    ("2020-01-01T00:00:00.000Z", Class::Ts(0)),
    ("2020-01-01T01:00+01:00", Class::Ts(0)),
    ("2020-01-01T00:00-00:00", Class::Ts(0)),
    ("2020-01-01T00:01Z", Class::Ts(1)),
    ("true", Class::Bool(true)),
    ("false", Class::Bool(false)),
    ("{x: 1}", Class::Other("{x:1}")),
    ("{x: 1.0}", Class::Other("{x:1}")),
    ("{x: 2, y: [a]}", Class::Other("{x:2,y:[a]}")),
    ("{y: [\"a\"], x: 2.}", Class::Other("{x:2,y:[a]}")),
    ("[1, 2]", Class::Other("[1,2]")),
    ("[1.0, 2]", Class::Other("[1,2]")),
    ("(1 2)", Class::Other("(1 2)")),
    ("null", Class::Null),
    ("null.int", Class::Null),
    ("null.string", Class::Null),
];

fn eq_class(a: Class, b: Class) -> bool {
    a != Class::Null && b != Class::Null && a == b
}

fn greater(a: Class, b: Class) -> bool {
    let o = match (a, b) {
        (Class::Num(x), Class::Num(y)) => x.cmp(&y),
        (Class::Text(x), Class::Text(y)) => x.cmp(y),
        (Class::Ts(x), Class::Ts(y)) => x.cmp(&y),
        (Class::Bool(x), Class::Bool(y)) => x.cmp(&y),
        _ => return false,
    };
    o == Ordering::Greater
}

/// The fields a statement can name.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Field {
    F,
    G,
    /// `nested.inner`, never indexable.
    Nested,
}

impl Field {
    fn path(self) -> &'static str {
        match self {
            Field::F => "f",
            Field::G => "g",
            Field::Nested => "nested.inner",
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Insert {
        f: Option<usize>,
        g: Option<usize>,
        nested: Option<usize>,
        n: i64,
    },
    /// `UPDATE T SET f = ? WHERE id = ?`
    Set { id: usize, field: Field, val: usize },
    /// `UPDATE T REMOVE f WHERE id = ?`
    Remove { id: usize, field: Field },
    /// `DELETE FROM T WHERE id = ?`
    Delete { id: usize },
    /// `SELECT * FROM T WHERE f = ?`
    SelectEq { field: Field, val: usize },
    /// `SELECT VALUE id FROM T WHERE f > ?`
    SelectGt { field: Field, val: usize },
    /// `SELECT COUNT(*) FROM T`
    Count,
}

#[derive(Debug, Clone)]
struct TxnPlan {
    ops: Vec<Op>,
    commit: bool,
}

#[derive(Debug, Clone)]
struct Case {
    /// Indexed field, if any: `f`, `g` or `id`.
    index: Option<&'static str>,
    txns: Vec<TxnPlan>,
}

fn value() -> impl Strategy<Value = usize> {
    0..DOMAIN.len()
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![4 => Just(Field::F), 2 => Just(Field::G), 1 => Just(Field::Nested)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (
            proptest::option::weighted(0.85, value()),
            proptest::option::of(value()),
            proptest::option::weighted(0.3, value()),
            -5i64..5
        )
            .prop_map(|(f, g, nested, n)| Op::Insert { f, g, nested, n }),
        3 => (any::<usize>(), field(), value()).prop_map(|(id, field, val)| Op::Set { id, field, val }),
        1 => (any::<usize>(), field()).prop_map(|(id, field)| Op::Remove { id, field }),
        2 => any::<usize>().prop_map(|id| Op::Delete { id }),
        3 => (field(), value()).prop_map(|(field, val)| Op::SelectEq { field, val }),
        2 => (field(), value()).prop_map(|(field, val)| Op::SelectGt { field, val }),
        1 => Just(Op::Count),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let txn = (
        proptest::collection::vec(op(), 1..6),
        proptest::bool::weighted(0.75),
    )
        .prop_map(|(ops, commit)| TxnPlan { ops, commit });
    (
        prop_oneof![
            Just(None),
            Just(Some("f")),
            Just(Some("g")),
            Just(Some("id"))
        ],
        proptest::collection::vec(txn, 1..10),
    )
        .prop_map(|(index, txns)| Case { index, txns })
}

/// A document of the model.
#[derive(Debug, Clone)]
struct Doc {
    id: i64,
    f: Option<usize>,
    g: Option<usize>,
    /// `nested: {inner: …}`; `Some(None)` is `nested: {}`.
    nested: Option<Option<usize>>,
    n: i64,
}

impl Doc {
    fn get(&self, field: Field) -> Option<usize> {
        match field {
            Field::F => self.f,
            Field::G => self.g,
            Field::Nested => self.nested.flatten(),
        }
    }

    fn slot(&mut self, field: Field) -> &mut Option<usize> {
        match field {
            Field::F => &mut self.f,
            Field::G => &mut self.g,
            Field::Nested => self.nested.get_or_insert(None),
        }
    }

    fn to_ion(&self) -> Element {
        let mut text = format!("{{id: {}, n: {}", self.id, self.n);
        if let Some(v) = self.f {
            text += &format!(", f: {}", DOMAIN[v].0);
        }
        if let Some(v) = self.g {
            text += &format!(", g: {}", DOMAIN[v].0);
        }
        match self.nested {
            Some(Some(v)) => text += &format!(", nested: {{inner: {}}}", DOMAIN[v].0),
            Some(None) => text += ", nested: {}",
            None => {}
        }
        text += "}";
        ion(&text)
    }
}

type Model = BTreeMap<i64, Doc>;

/// The id an op refers to: mostly a live document, sometimes one that does not exist.
fn pick_id(model: &Model, sel: usize) -> i64 {
    if sel % 7 == 6 || model.is_empty() {
        return 1_000_000 + (sel % 1000) as i64;
    }
    *model.keys().nth(sel % model.len()).unwrap()
}

fn class_of(v: Option<usize>) -> Option<Class> {
    v.map(|i| DOMAIN[i].1)
}

fn check_table(tx: &mut Tx<'_, '_>, model: &Model, what: &str) {
    let rows = tx.exec("SELECT * FROM T", &[]).unwrap();
    let expected: Vec<Element> = model.values().map(Doc::to_ion).collect();
    assert_same_multiset(&rows, &expected, what);
}

fn run_case(case: &Case) {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE T", &[]).unwrap();
    if let Some(f) = case.index {
        c.run(&format!("CREATE INDEX ON T ({f})"), &[]).unwrap();
    }
    let mut committed: Model = BTreeMap::new();
    let mut next_id = 0i64;
    for (ti, plan) in case.txns.iter().enumerate() {
        let mut working = committed.clone();
        let mut tx = c.begin().unwrap();
        for (oi, op) in plan.ops.iter().enumerate() {
            let what = format!("txn {ti} op {oi} {op:?} (index {:?})", case.index);
            match op {
                Op::Insert { f, g, nested, n } => {
                    let doc = Doc {
                        id: next_id,
                        f: *f,
                        g: *g,
                        nested: nested.map(Some),
                        n: *n,
                    };
                    next_id += 1;
                    let rows = tx.exec("INSERT INTO T VALUE ?", &[doc.to_ion()]).unwrap();
                    assert_eq!(rows.len(), 1, "{what}");
                    assert_eq!(text_field(&rows[0], "documentId").len(), 22, "{what}");
                    working.insert(doc.id, doc);
                }
                Op::Set { id, field, val } => {
                    let id = pick_id(&working, *id);
                    let stmt = format!("UPDATE T SET {} = ? WHERE id = ?", field.path());
                    let rows = tx
                        .exec(&stmt, &[ion(DOMAIN[*val].0), Element::int(id)])
                        .unwrap();
                    let hit = working.get_mut(&id);
                    assert_eq!(rows.len(), usize::from(hit.is_some()), "{what}");
                    if let Some(d) = hit {
                        *d.slot(*field) = Some(*val);
                    }
                }
                Op::Remove { id, field } => {
                    let id = pick_id(&working, *id);
                    let stmt = format!("UPDATE T REMOVE {} WHERE id = ?", field.path());
                    let rows = tx.exec(&stmt, &[Element::int(id)]).unwrap();
                    let hit = working.get_mut(&id);
                    assert_eq!(rows.len(), usize::from(hit.is_some()), "{what}");
                    if let Some(d) = hit {
                        match field {
                            Field::Nested => {
                                if let Some(n) = d.nested.as_mut() {
                                    *n = None;
                                }
                            }
                            _ => *d.slot(*field) = None,
                        }
                    }
                }
                Op::Delete { id } => {
                    let id = pick_id(&working, *id);
                    let rows = tx
                        .exec("DELETE FROM T WHERE id = ?", &[Element::int(id)])
                        .unwrap();
                    let hit = working.remove(&id);
                    assert_eq!(rows.len(), usize::from(hit.is_some()), "{what}");
                }
                Op::SelectEq { field, val } => {
                    let stmt = format!("SELECT * FROM T WHERE {} = ?", field.path());
                    let rows = tx.exec(&stmt, &[ion(DOMAIN[*val].0)]).unwrap();
                    let expected: Vec<Element> = working
                        .values()
                        .filter(|d| {
                            class_of(d.get(*field)).is_some_and(|c| eq_class(c, DOMAIN[*val].1))
                        })
                        .map(Doc::to_ion)
                        .collect();
                    assert_same_multiset(&rows, &expected, &what);
                }
                Op::SelectGt { field, val } => {
                    let stmt = format!("SELECT VALUE id FROM T WHERE {} > ?", field.path());
                    let rows = tx.exec(&stmt, &[ion(DOMAIN[*val].0)]).unwrap();
                    let expected: Vec<Element> = working
                        .values()
                        .filter(|d| {
                            class_of(d.get(*field)).is_some_and(|c| greater(c, DOMAIN[*val].1))
                        })
                        .map(|d| Element::int(d.id))
                        .collect();
                    assert_same_multiset(&rows, &expected, &what);
                }
                Op::Count => {
                    let rows = tx.exec("SELECT COUNT(*) FROM T", &[]).unwrap();
                    assert_eq!(
                        rows,
                        vec![ion(&format!("{{_1: {}}}", working.len()))],
                        "{what}"
                    );
                }
            }
            check_table(&mut tx, &working, &format!("table after {what}"));
        }
        if plan.commit {
            tx.commit().unwrap();
            committed = working;
        } else {
            engine.abort_transaction(&c.token).unwrap();
        }
        let mut tx = c.begin().unwrap();
        check_table(
            &mut tx,
            &committed,
            &format!("committed table after txn {ti}"),
        );
        tx.commit().unwrap();
    }
    engine.ledger(L).unwrap().verify().unwrap();
}

#[test]
fn engine_matches_model() {
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&case(), |case| {
            run_case(&case);
            Ok(())
        })
        .unwrap();
}

/// The model's domain: every value equals exactly the values of its class, through a scan and
/// through an index (the hash key must agree with `=`).
#[test]
fn equality_domain_scan_and_index_agree() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE S", &[]).unwrap();
    c.run("CREATE TABLE I", &[]).unwrap();
    c.run("CREATE INDEX ON I (f)", &[]).unwrap();
    c.txn(|t| {
        for (i, (v, _)) in DOMAIN.iter().enumerate() {
            let doc = ion(&format!("{{i: {i}, f: {v}}}"));
            t.exec("INSERT INTO S VALUE ?", std::slice::from_ref(&doc))?;
            t.exec("INSERT INTO I VALUE ?", &[doc])?;
        }
        Ok(())
    })
    .unwrap();
    for (i, (v, class)) in DOMAIN.iter().enumerate() {
        let mut expected: Vec<Element> = DOMAIN
            .iter()
            .enumerate()
            .filter(|(_, (_, c))| eq_class(*c, *class))
            .map(|(j, _)| Element::int(j as i64))
            .collect();
        expected.sort_by_key(|e| e.as_i64());
        for table in ["S", "I"] {
            let mut got = c
                .run(
                    &format!("SELECT VALUE i FROM {table} WHERE f = ?"),
                    &[ion(v)],
                )
                .unwrap();
            got.sort_by_key(|e| e.as_i64());
            assert_eq!(got, expected, "{table}: f = {v} (value {i})");
        }
    }
}

/// An index created earlier in the same transaction must still find the committed documents.
#[test]
fn index_created_in_the_same_transaction_finds_committed_documents() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE T", &[]).unwrap();
    c.run("INSERT INTO T << {'f': 1, 'k': 'old'}, {'f': 2} >>", &[])
        .unwrap();
    let mut tx = c.begin().unwrap();
    tx.exec("CREATE INDEX ON T (f)", &[]).unwrap();
    tx.exec("INSERT INTO T VALUE {'f': 1, 'k': 'new'}", &[])
        .unwrap();
    let mut rows = tx.exec("SELECT VALUE k FROM T WHERE f = 1", &[]).unwrap();
    rows.sort_by_key(|e| e.to_string());
    assert_eq!(rows, vec![ion("\"new\""), ion("\"old\"")]);
    let updated = tx.exec("UPDATE T SET g = 1 WHERE f = 2", &[]).unwrap();
    assert_eq!(
        updated.len(),
        1,
        "UPDATE through the new index finds the committed document"
    );
    tx.commit().unwrap();
}
