//! End-to-end basics: tables, inserts, selects, updates, deletes, result shapes.

use crate::support::*;
use ion_rs::Element;

#[test]
fn create_insert_select_round_trip() {
    let engine = memory_engine("ledger");
    let c = Client::new(&engine, "ledger");
    let r = c.run("CREATE TABLE Person", &[]).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(
        r[0].as_struct()
            .unwrap()
            .get("tableId")
            .unwrap()
            .as_text()
            .unwrap()
            .len(),
        22
    );
    let r = c
        .run("INSERT INTO Person VALUE {'name': 'Ann', 'age': 30}", &[])
        .unwrap();
    assert_eq!(r.len(), 1);
    let doc_id = r[0]
        .as_struct()
        .unwrap()
        .get("documentId")
        .unwrap()
        .as_text()
        .unwrap()
        .to_string();
    assert_eq!(doc_id.len(), 22);
    c.run("INSERT INTO Person ?", &[ion("{name: \"Bob\", age: 41}")])
        .unwrap();
    let rows = c.run("SELECT * FROM Person WHERE age > 35", &[]).unwrap();
    assert_eq!(rows, vec![ion("{name: \"Bob\", age: 41}")]);
    let rows = c.run("SELECT COUNT(*) FROM Person", &[]).unwrap();
    assert_eq!(rows, vec![ion("{_1: 2}")]);
    let rows = c
        .run(
            "SELECT p_id FROM Person AS p BY p_id WHERE p.name = 'Ann'",
            &[],
        )
        .unwrap();
    assert_eq!(
        rows,
        vec![Element::from(
            Element::struct_builder()
                .with_field("p_id", Element::string(doc_id.as_str()))
                .build(),
        )]
    );
    c.run(
        "UPDATE Person AS p SET p.age = p.age + 1 WHERE p.name = ?",
        &[ion("\"Ann\"")],
    )
    .unwrap();
    let rows = c
        .run("SELECT VALUE age FROM Person WHERE name = 'Ann'", &[])
        .unwrap();
    assert_eq!(rows, vec![ion("31")]);
    c.run("DELETE FROM Person WHERE name = 'Bob'", &[]).unwrap();
    let rows = c.run("SELECT VALUE name FROM Person", &[]).unwrap();
    assert_eq!(rows, vec![ion("\"Ann\"")]);
    let tables = c
        .run(
            "SELECT VALUE name FROM information_schema.user_tables WHERE status = 'ACTIVE'",
            &[],
        )
        .unwrap();
    assert_eq!(tables, vec![ion("\"Person\"")]);
    let report = engine.ledger("ledger").unwrap().verify().unwrap();
    assert!(report.blocks >= 9);
}
