//! Views and query shapes (`spec/semantics.md` §5, §7, §8, §10; `spec/partiql.md` §3–§6): the
//! committed view, `history()` (windows, delete revisions, dropped tables by id),
//! `information_schema.user_tables` with indexes, DROP/UNDROP TABLE, DROP INDEX, unnesting,
//! joins, ReadIOs of the 6-way join, paging, FROM-DML, whole-document UPDATE, REMOVE. Results
//! come in no particular order (QLDB has no ORDER BY), so tests sort them themselves.

use crate::support::*;
use ion_rs::{Element, IonType};
use qldb_ledger::{Engine, EngineConfig, LedgerError};

const L: &str = "views";

fn committed_rows(c: &Client<'_>, table: &str) -> Vec<Element> {
    c.run(&format!("SELECT * FROM _ql_committed_{table}"), &[])
        .unwrap()
}

fn field_names(e: &Element) -> Vec<String> {
    let mut names: Vec<String> = e
        .as_struct()
        .unwrap()
        .fields()
        .map(|(n, _)| n.text().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn committed_view_shape_and_versions() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE Person", &[]).unwrap();
    let doc = ion("{Name: \"Ann\", Age: 30}");
    let mut tx = c.begin().unwrap();
    let txid = tx.id.clone();
    let ins = tx
        .exec("INSERT INTO Person ?", std::slice::from_ref(&doc))
        .unwrap();
    tx.commit().unwrap();
    let (_, tip) = engine.get_digest(L).unwrap();
    let doc_id = text_field(&ins[0], "documentId");

    let rows = committed_rows(&c, "Person");
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(field_names(r), ["blockAddress", "data", "hash", "metadata"]);
    let addr = field(r, "blockAddress");
    assert_eq!(field_names(addr), ["sequenceNo", "strandId"]);
    assert_eq!(text_field(addr, "strandId"), &*tip.strand_id);
    assert_eq!(text_field(addr, "strandId").len(), 22);
    assert_eq!(
        field(addr, "sequenceNo").as_i64(),
        Some(tip.sequence_no as i64),
        "the revision lives in the insert's block"
    );
    assert_ion_eq(field(r, "data"), &doc);
    let meta = field(r, "metadata");
    assert_eq!(field_names(meta), ["id", "txId", "txTime", "version"]);
    assert_eq!(text_field(meta, "id"), doc_id);
    assert_eq!(field(meta, "version").as_i64(), Some(0));
    assert_eq!(text_field(meta, "txId"), txid);
    assert_eq!(field(meta, "txTime").ion_type(), IonType::Timestamp);
    let hash = field(r, "hash").as_blob().expect("hash is a blob");
    let expected = qldb_ion::dot(&qldb_ion::ion_hash(&doc), &qldb_ion::ion_hash(meta));
    assert_eq!(hash, &expected[..]);

    // Paths into the committed view.
    let ids = c
        .run(
            "SELECT VALUE metadata.id FROM _ql_committed_Person WHERE data.Name = ?",
            &[ion("\"Ann\"")],
        )
        .unwrap();
    assert_eq!(ids, vec![Element::string(doc_id.as_str())]);

    // Each update adds a version; the id stays.
    for (i, age) in [31, 32].iter().enumerate() {
        c.run("UPDATE Person SET Age = ?", &[Element::int(*age)])
            .unwrap();
        let rows = c
            .run(
                "SELECT c.metadata.version, c.metadata.id, c.data.Age FROM _ql_committed_Person AS c",
                &[],
            )
            .unwrap();
        let expected = ion(&format!(
            "{{version: {}, id: \"{doc_id}\", Age: {age}}}",
            i + 1
        ));
        assert_eq!(rows.len(), 1);
        assert_ion_eq(&rows[0], &expected);
    }

    // A deleted document leaves the user and committed views.
    c.run("DELETE FROM Person", &[]).unwrap();
    assert!(committed_rows(&c, "Person").is_empty());
    assert!(c.run("SELECT * FROM Person", &[]).unwrap().is_empty());
}

/// The revisions of `doc_id` in `history(Person)`, by version.
fn revision_times(c: &Client<'_>, doc_id: &str) -> Vec<(i64, Element)> {
    let rows = c
        .run(
            "SELECT * FROM history(Person) AS h WHERE h.metadata.id = ?",
            &[Element::string(doc_id)],
        )
        .unwrap();
    let mut out: Vec<(i64, Element)> = rows
        .into_iter()
        .map(|r| (field(field(&r, "metadata"), "version").as_i64().unwrap(), r))
        .collect();
    out.sort_by_key(|(v, _)| *v);
    out
}

#[test]
fn history_includes_every_revision_and_the_delete() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE Person", &[]).unwrap();
    let ins = c
        .run("INSERT INTO Person VALUE {'Name': 'Ann', 'v': 0}", &[])
        .unwrap();
    let other = c
        .run("INSERT INTO Person VALUE {'Name': 'Bob'}", &[])
        .unwrap();
    let id = text_field(&ins[0], "documentId");
    std::thread::sleep(std::time::Duration::from_millis(3));
    c.run("UPDATE Person SET v = 1 WHERE Name = 'Ann'", &[])
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(3));
    c.run("DELETE FROM Person WHERE Name = 'Ann'", &[]).unwrap();

    let revs = revision_times(&c, &id);
    assert_eq!(revs.iter().map(|(v, _)| *v).collect::<Vec<_>>(), [0, 1, 2]);
    assert_ion_eq(field(&revs[0].1, "data"), &ion("{Name: \"Ann\", v: 0}"));
    assert_ion_eq(field(&revs[1].1, "data"), &ion("{Name: \"Ann\", v: 1}"));
    let delete = &revs[2].1;
    assert_eq!(
        field_names(delete),
        ["blockAddress", "hash", "metadata"],
        "a delete revision has metadata but neither data nor dataHash: {delete}"
    );
    assert_eq!(text_field(field(delete, "metadata"), "id"), id);
    // History of the whole table: 3 + 1 revisions.
    let all = c.run("SELECT * FROM history(Person)", &[]).unwrap();
    assert_eq!(all.len(), 4);
    let bob = text_field(&other[0], "documentId");
    assert_eq!(
        c.run(
            "SELECT VALUE h.data.Name FROM history(Person) AS h WHERE h.metadata.id = ?",
            &[Element::string(bob.as_str())]
        )
        .unwrap(),
        vec![ion("\"Bob\"")]
    );

    // Windows: a revision is in [start, end] when it was active at some time in it.
    let t: Vec<String> = revs
        .iter()
        .map(|(_, r)| field(field(r, "metadata"), "txTime").to_string())
        .collect();
    assert!(t[0] < t[1] && t[1] < t[2], "distinct commit times {t:?}");
    let window = |q: &str| -> Vec<i64> {
        let stmt =
            format!("SELECT VALUE h.metadata.version FROM {q} AS h WHERE h.metadata.id = '{id}'");
        let mut v: Vec<i64> = c
            .run(&stmt, &[])
            .unwrap()
            .iter()
            .map(|e| e.as_i64().unwrap())
            .collect();
        v.sort_unstable();
        v
    };
    assert_eq!(
        window(&format!("history(Person, `{}`, `{}`)", t[0], t[0])),
        [0]
    );
    assert_eq!(
        window(&format!("history(Person, `{}`, `{}`)", t[1], t[1])),
        [1]
    );
    assert_eq!(
        window(&format!("history(Person, `{}`, `{}`)", t[0], t[1])),
        [0, 1]
    );
    assert_eq!(window(&format!("history(Person, `{}`)", t[1])), [1, 2]);
    assert_eq!(window(&format!("history(Person, `{}`)", t[2])), [2]);
    assert_eq!(
        window("history(Person, `2000-01-01T`, `2000-01-02T`)"),
        Vec::<i64>::new()
    );
    assert_eq!(window("history(Person)"), [0, 1, 2]);
    // The bounds may be parameters too.
    let rows = c
        .run(
            "SELECT VALUE h.metadata.version FROM history(Person, ?, ?) AS h WHERE h.metadata.id = ?",
            &[ion(&t[1]), ion(&t[1]), Element::string(id.as_str())],
        )
        .unwrap();
    assert_eq!(rows, vec![ion("1")]);
}

#[test]
fn dropped_table_history_by_id_and_undrop() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    let created = c.run("CREATE TABLE Car", &[]).unwrap();
    let table_id = text_field(&created[0], "tableId");
    c.run("CREATE INDEX ON Car (VIN)", &[]).unwrap();
    c.run("INSERT INTO Car << {'VIN': 'v1'}, {'VIN': 'v2'} >>", &[])
        .unwrap();
    c.run("UPDATE Car SET seen = true WHERE VIN = 'v1'", &[])
        .unwrap();

    let dropped = c.run("DROP TABLE Car", &[]).unwrap();
    assert_eq!(dropped, vec![ion(&format!("{{tableId: \"{table_id}\"}}"))]);
    let status = c
        .run(
            "SELECT VALUE status FROM information_schema.user_tables WHERE tableId = ?",
            &[Element::string(table_id.as_str())],
        )
        .unwrap();
    assert_eq!(status, vec![ion("\"INACTIVE\"")]);
    let active = c
        .run(
            "SELECT VALUE name FROM information_schema.user_tables WHERE status = 'ACTIVE'",
            &[],
        )
        .unwrap();
    assert!(active.is_empty(), "{active:?}");
    for stmt in [
        "SELECT * FROM Car",
        "SELECT * FROM history(Car)",
        "INSERT INTO Car VALUE {'a': 1}",
    ] {
        let e = c.run(stmt, &[]).unwrap_err();
        assert!(matches!(e, LedgerError::BadRequest(_)), "{stmt}: {e:?}");
    }
    // History is reachable by table id: 2 inserts + 1 update.
    let hist = c
        .run(&format!("SELECT * FROM history('{table_id}')"), &[])
        .unwrap();
    assert_eq!(hist.len(), 3);

    let undropped = c.run(&format!("UNDROP TABLE \"{table_id}\""), &[]).unwrap();
    assert_eq!(undropped.len(), 1);
    let status = c
        .run(
            "SELECT VALUE status FROM information_schema.user_tables WHERE name = 'Car'",
            &[],
        )
        .unwrap();
    assert_eq!(status, vec![ion("\"ACTIVE\"")]);
    let mut docs = c.run("SELECT * FROM Car", &[]).unwrap();
    docs.sort_by_key(|d| d.to_string());
    assert_eq!(
        docs,
        vec![ion("{VIN: \"v1\", seen: true}"), ion("{VIN: \"v2\"}")]
    );
    // The index came back with the table.
    assert_eq!(
        c.run("SELECT * FROM Car WHERE VIN = 'v2'", &[]).unwrap(),
        vec![ion("{VIN: \"v2\"}")]
    );
    c.run("INSERT INTO Car VALUE {'VIN': 'v3'}", &[]).unwrap();
    assert_eq!(c.run("SELECT * FROM history(Car)", &[]).unwrap().len(), 4);
}

#[test]
fn user_tables_indexes_and_drop_index() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    let created = c.run("CREATE TABLE T", &[]).unwrap();
    let table_id = text_field(&created[0], "tableId");
    let r = c.run("CREATE INDEX ON T (Name)", &[]).unwrap();
    assert_eq!(r.len(), 1, "CREATE INDEX returns one struct");
    let idx = c
        .run(
            "SELECT VALUE indexes[0] FROM information_schema.user_tables WHERE status = 'ACTIVE'AND name = 'T'",
            &[],
        )
        .unwrap();
    assert_eq!(idx.len(), 1, "{idx:?}");
    assert_eq!(text_field(&idx[0], "expr"), "[Name]");
    let index_id = text_field(&idx[0], "indexId");
    assert_eq!(index_id.len(), 22);
    let status = text_field(&idx[0], "status");
    assert!(
        ["BUILDING", "FINALIZING", "ONLINE"].contains(&status.as_str()),
        "{status}"
    );
    let row = c
        .run(
            "SELECT * FROM information_schema.user_tables WHERE name = 'T'",
            &[],
        )
        .unwrap();
    assert_eq!(row.len(), 1);
    assert_eq!(text_field(&row[0], "tableId"), table_id);
    assert_eq!(text_field(&row[0], "status"), "ACTIVE");

    // DROP INDEX needs WITH (purge = true).
    let e = c
        .run(&format!("DROP INDEX \"{index_id}\" ON T"), &[])
        .unwrap_err();
    assert!(matches!(e, LedgerError::BadRequest(_)), "{e:?}");
    let r = c
        .run(
            &format!("DROP INDEX \"{index_id}\" ON T WITH (purge = true)"),
            &[],
        )
        .unwrap();
    assert_eq!(r, vec![ion(&format!("{{tableId: \"{table_id}\"}}"))]);
    let idx = c
        .run(
            "SELECT VALUE indexes FROM information_schema.user_tables WHERE name = 'T'",
            &[],
        )
        .unwrap();
    assert_eq!(idx, vec![ion("[]")]);
    // Queries on the field still work, by scan.
    c.run("INSERT INTO T VALUE {'Name': 'x'}", &[]).unwrap();
    assert_eq!(
        c.run("SELECT VALUE Name FROM T WHERE Name = 'x'", &[])
            .unwrap(),
        vec![ion("\"x\"")]
    );
}

#[test]
fn unnest_and_joins() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE Vehicle", &[]).unwrap();
    c.run("CREATE TABLE Person", &[]).unwrap();
    c.run(
        "INSERT INTO Vehicle << {'VIN': 'A', 'Owners': [{'Name': 'Ann'}, {'Name': 'Bob'}]}, {'VIN': 'B', 'Owners': [{'Name': 'Cy'}]}, {'VIN': 'C', 'Owners': []} >>",
        &[],
    )
    .unwrap();
    c.run(
        "INSERT INTO Person << {'Name': 'Ann', 'Age': 30}, {'Name': 'Bob', 'Age': 40}, {'Name': 'Dee', 'Age': 50} >>",
        &[],
    )
    .unwrap();

    let rows = c
        .run("SELECT v.VIN, o.Name FROM Vehicle AS v, v.Owners AS o", &[])
        .unwrap();
    assert_same_multiset(
        &rows,
        &[
            ion("{VIN: \"A\", Name: \"Ann\"}"),
            ion("{VIN: \"A\", Name: \"Bob\"}"),
            ion("{VIN: \"B\", Name: \"Cy\"}"),
        ],
        "unnest",
    );
    let rows = c
        .run(
            "SELECT VALUE o.Name FROM Vehicle AS v, @v.Owners AS o WHERE v.VIN = 'A'",
            &[],
        )
        .unwrap();
    assert_same_multiset(&rows, &[ion("\"Ann\""), ion("\"Bob\"")], "unnest with @");

    let expected = [ion("{VIN: \"A\", Age: 30}"), ion("{VIN: \"A\", Age: 40}")];
    let rows = c
        .run(
            "SELECT v.VIN, p.Age FROM Vehicle AS v, v.Owners AS o, Person AS p WHERE o.Name = p.Name",
            &[],
        )
        .unwrap();
    assert_same_multiset(&rows, &expected, "comma join");
    let rows = c
        .run(
            "SELECT v.VIN, p.Age FROM Vehicle AS v, v.Owners AS o INNER JOIN Person AS p ON o.Name = p.Name",
            &[],
        )
        .unwrap();
    assert_same_multiset(&rows, &expected, "INNER JOIN … ON");
    let rows = c
        .run(
            "SELECT p.Name FROM Person AS p WHERE EXISTS (SELECT * FROM Vehicle AS v, v.Owners AS o WHERE o.Name = p.Name)",
            &[],
        )
        .unwrap();
    assert_same_multiset(
        &rows,
        &[ion("{Name: \"Ann\"}"), ion("{Name: \"Bob\"}")],
        "EXISTS",
    );
}

#[test]
fn six_way_self_join_reads_1092_documents() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE t", &[]).unwrap();
    c.run("INSERT INTO t << {'a': 1}, {'b': 2}, {'c': 3} >>", &[])
        .unwrap();
    let mut tx = c.begin().unwrap();
    let r = tx
        .exec_full(
            "SELECT * FROM t AS a, t AS b, t AS c, t AS d, t AS e, t AS f",
            &[],
        )
        .unwrap();
    assert_eq!(r.values.len(), 729);
    assert_eq!(r.first.read_ios, 1092, "3 + 9 + 27 + 81 + 243 + 729");
    assert!(r.first.processing_ms >= 1);
    // A single scan reads one per document.
    let r = tx.exec_full("SELECT * FROM t", &[]).unwrap();
    assert_eq!(r.first.read_ios, 3);
    assert!(r.first.processing_ms >= 1);
    tx.commit().unwrap();
}

#[test]
fn thousand_documents_come_in_five_pages() {
    let config = EngineConfig {
        page_size: 200,
        ..EngineConfig::default()
    };
    let engine: Engine = engine_with(config, L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE P", &[]).unwrap();
    for batch in 0..25 {
        let docs: Vec<String> = (0..40)
            .map(|i| format!("{{n: {}}}", batch * 40 + i))
            .collect();
        c.run("INSERT INTO P ?", &[ion(&format!("[{}]", docs.join(",")))])
            .unwrap();
    }
    let mut tx = c.begin().unwrap();
    let stmt = "SELECT VALUE n FROM P";
    tx.digest.add_statement(stmt, &[]);
    let first = engine
        .execute_statement(&c.token, &tx.id, stmt, &[])
        .unwrap();
    let mut pages = vec![first.page.values.len()];
    let mut token = first.page.next_page_token.clone();
    let mut values: Vec<i64> = first
        .page
        .values
        .iter()
        .map(|v| Element::read_one(v).unwrap().as_i64().unwrap())
        .collect();
    while let Some(t) = token {
        let r = engine.fetch_page(&c.token, &tx.id, &t).unwrap();
        assert!(r.processing_ms >= 1);
        pages.push(r.page.values.len());
        values.extend(
            r.page
                .values
                .iter()
                .map(|v| Element::read_one(v).unwrap().as_i64().unwrap()),
        );
        token = r.page.next_page_token;
    }
    assert_eq!(pages, [200, 200, 200, 200, 200]);
    assert_eq!(
        first.read_ios, 1000,
        "the whole statement's ReadIOs are on the first page"
    );
    values.sort_unstable();
    assert_eq!(values, (0..1000).collect::<Vec<i64>>());
    // Page tokens die with their transaction.
    let tx_id = tx.id.clone();
    let r = tx.exec_full(stmt, &[]).unwrap();
    let token = r.first.page.next_page_token.clone().unwrap();
    tx.commit().unwrap();
    let e = engine.fetch_page(&c.token, &tx_id, &token).unwrap_err();
    assert!(matches!(e, LedgerError::BadRequest(_)), "{e:?}");
}

#[test]
fn from_dml_whole_document_update_and_remove() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE Person", &[]).unwrap();
    c.run(
        "INSERT INTO Person << {'Name': 'Ann', 'Addresses': [], 'n': 3, 'tmp': 1}, {'Name': 'Bob', 'Addresses': ['x'], 'n': 1, 'tmp': 2} >>",
        &[],
    )
    .unwrap();

    let r = c
        .run(
            "FROM Person AS p WHERE p.Name = ? INSERT INTO p.Addresses VALUE ?",
            &[ion("\"Ann\""), ion("{City: \"Oslo\"}")],
        )
        .unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(text_field(&r[0], "documentId").len(), 22);
    let a = c
        .run("SELECT VALUE Addresses FROM Person WHERE Name = 'Ann'", &[])
        .unwrap();
    assert_eq!(a, vec![ion("[{City: \"Oslo\"}]")]);
    c.run(
        "FROM Person AS p WHERE p.Name = 'Bob' SET p.n = p.n + 10",
        &[],
    )
    .unwrap();
    c.run(
        "FROM Person AS p, p.Addresses AS a WHERE a = 'x' REMOVE a",
        &[],
    )
    .unwrap();
    let b = c
        .run("SELECT Addresses, n FROM Person WHERE Name = 'Bob'", &[])
        .unwrap();
    assert_eq!(b, vec![ion("{Addresses: [], n: 11}")]);

    // UPDATE … REMOVE f on every document.
    let r = c.run("UPDATE Person REMOVE tmp", &[]).unwrap();
    assert_eq!(r.len(), 2);
    assert!(c
        .run("SELECT * FROM Person WHERE tmp IS NOT MISSING", &[])
        .unwrap()
        .is_empty());

    // SET on the alias replaces the whole document, keeping its id.
    let id_before = c
        .run(
            "SELECT VALUE metadata.id FROM _ql_committed_Person WHERE data.Name = 'Ann'",
            &[],
        )
        .unwrap();
    let r = c
        .run(
            "UPDATE Person AS p SET p = ? WHERE p.Name = 'Ann'",
            &[ion("{Name: \"Ann\", replaced: true}")],
        )
        .unwrap();
    assert_eq!(r.len(), 1);
    let rows = c
        .run(
            "SELECT c.data, c.metadata.id, c.metadata.version FROM _ql_committed_Person AS c WHERE c.data.Name = 'Ann'",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_ion_eq(
        field(&rows[0], "data"),
        &ion("{Name: \"Ann\", replaced: true}"),
    );
    assert_ion_eq(field(&rows[0], "id"), &id_before[0]);
    assert_eq!(field(&rows[0], "version").as_i64(), Some(3));

    // No ORDER BY: the test sorts the results itself.
    c.run(
        "INSERT INTO Person << {'Name': 'Cy', 'n': 5}, {'Name': 'Al', 'n': 7} >>",
        &[],
    )
    .unwrap();
    let e = c
        .run("SELECT VALUE Name FROM Person ORDER BY Name", &[])
        .unwrap_err();
    assert!(
        matches!(e, LedgerError::BadRequest(_)) && e.message().contains("ORDER BY"),
        "{e:?}"
    );
    assert_eq!(
        sorted_names(&c, "SELECT VALUE Name FROM Person"),
        ["Al", "Ann", "Bob", "Cy"]
    );
    let mut by_n: Vec<(i64, String)> = c
        .run(
            "SELECT p.Name, p.n FROM Person AS p WHERE p.n IS NOT MISSING",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| {
            let n = field(r, "n").as_i64().expect("n is an int");
            (n, text_field(r, "Name"))
        })
        .collect();
    by_n.sort_unstable_by(|a, b| b.cmp(a));
    let names: Vec<&str> = by_n.iter().map(|(_, name)| name.as_str()).collect();
    assert_eq!(names, ["Bob", "Al", "Cy"]);

    // REMOVE of the alias itself deletes the document.
    let r = c
        .run("UPDATE Person AS p REMOVE p WHERE p.Name = 'Cy'", &[])
        .unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(
        sorted_names(&c, "SELECT VALUE Name FROM Person"),
        ["Al", "Ann", "Bob"]
    );
}

/// The strings `stmt` returns, sorted.
fn sorted_names(c: &Client<'_>, stmt: &str) -> Vec<String> {
    let mut names: Vec<String> = c
        .run(stmt, &[])
        .unwrap()
        .iter()
        .map(|e| e.as_string().expect("a string").to_owned())
        .collect();
    names.sort_unstable();
    names
}

#[test]
fn pages_are_bounded_by_bytes_too() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE Big", &[]).unwrap();
    let pad = "p".repeat(100 * 1024);
    for i in 0..15 {
        c.run(
            "INSERT INTO Big VALUE {'i': ?, 'pad': ?}",
            &[Element::int(i), Element::string(pad.as_str())],
        )
        .unwrap();
    }
    let page_bytes = engine.config().page_bytes;
    let mut tx = c.begin().unwrap();
    let stmt = "SELECT * FROM Big";
    tx.digest.add_statement(stmt, &[]);
    let mut page = engine
        .execute_statement(&c.token, &tx.id, stmt, &[])
        .unwrap()
        .page;
    let mut pages = 0;
    let mut seen = Vec::new();
    loop {
        pages += 1;
        assert!(!page.values.is_empty() || page.next_page_token.is_some());
        let bytes: usize = page.values.iter().map(Vec::len).sum();
        assert!(
            bytes <= page_bytes || page.values.len() == 1,
            "page of {bytes} bytes"
        );
        for v in &page.values {
            let e = Element::read_one(v).unwrap();
            seen.push(field(&e, "i").as_i64().unwrap());
            assert_eq!(text_field(&e, "pad").len(), pad.len());
        }
        match page.next_page_token.clone() {
            None => break,
            Some(t) => page = engine.fetch_page(&c.token, &tx.id, &t).unwrap().page,
        }
    }
    assert!(pages >= 2, "1.5 MB of results need more than one page");
    seen.sort_unstable();
    assert_eq!(seen, (0..15).collect::<Vec<i64>>());
    tx.commit().unwrap();
}

/// FROM-DML over a nested collection applies to every matching element: removing several list
/// elements must remove exactly those, whatever their positions.
#[test]
fn from_dml_removes_every_matching_list_element() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE T", &[]).unwrap();
    c.run("INSERT INTO T VALUE {'k': 1, 'l': [1, 2, 3, 4]}", &[])
        .unwrap();
    c.run("INSERT INTO T VALUE {'k': 2, 'l': [5, 1, 6, 1, 7]}", &[])
        .unwrap();
    let r = c
        .run("FROM T AS p, p.l AS x WHERE x > 1 REMOVE x", &[])
        .unwrap();
    assert_eq!(r.len(), 2, "one row per changed document");
    let mut rows = c.run("SELECT k, l FROM T", &[]).unwrap();
    rows.sort_by_key(|r| field(r, "k").as_i64());
    assert_eq!(
        rows,
        vec![ion("{k: 1, l: [1]}"), ion("{k: 2, l: [1, 1]}")],
        "every element > 1 removed"
    );
    // Also one level deeper.
    c.run(
        "INSERT INTO T VALUE {'k': 3, 'l': [{'m': [1, 2, 3]}, {'m': [4, 5]}]}",
        &[],
    )
    .unwrap();
    c.run(
        "FROM T AS p, p.l AS a, a.m AS b WHERE p.k = 3 AND b > 1 REMOVE b",
        &[],
    )
    .unwrap();
    assert_eq!(
        c.run("SELECT VALUE l FROM T WHERE k = 3", &[]).unwrap(),
        vec![ion("[{m: [1]}, {m: []}]")]
    );
    // Setting several elements keeps positions right too.
    c.run("FROM T AS p, p.l AS x AT i WHERE p.k = 2 SET x = i", &[])
        .unwrap();
    assert_eq!(
        c.run("SELECT VALUE l FROM T WHERE k = 2", &[]).unwrap(),
        vec![ion("[0, 1]")]
    );
}
