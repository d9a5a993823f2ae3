//! The control plane over HTTP: the ledger lifecycle of test harnesses (§6.2), ListLedgers
//! paging, GetDigest/GetRevision/GetBlock with proofs verified client-side, and the errors of
//! §6.1 with their statuses and members.

use crate::support::*;
use crate::{start_server, LEDGER};
use ion_rs::Element;
use qldb_ion::{dot, ion_hash, verify_proof, Hash};
use serde_json::{json, Value};

fn call(http: &mut Http, method: &str, path: &str, body: Option<Value>) -> HttpResponse {
    let bytes = body.map(|b| b.to_string()).unwrap_or_default();
    let headers: &[(&str, &str)] = if bytes.is_empty() {
        &[]
    } else {
        &[("Content-Type", "application/json")]
    };
    http.request(method, path, headers, bytes.as_bytes())
        .expect("request")
}

fn ok(r: HttpResponse) -> Value {
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/json"));
    r.json()
}

#[test]
fn ledger_lifecycle() {
    let server = start_server(|_| {});
    let mut http = Http::new(server.addr());

    let created = ok(call(
        &mut http,
        "POST",
        "/ledgers",
        Some(json!({"Name": "life-1", "PermissionsMode": "ALLOW_ALL"})),
    ));
    assert_eq!(created["Name"], "life-1");
    assert_eq!(created["State"], "CREATING");
    assert_eq!(created["PermissionsMode"], "ALLOW_ALL");
    assert_eq!(created["DeletionProtection"], true, "defaults to true");
    assert_eq!(created["KmsKeyArn"], "AWS_OWNED_KMS_KEY");
    assert!(created["Arn"].as_str().unwrap().ends_with(":ledger/life-1"));
    let created_at = created["CreationDateTime"].as_f64().expect("epoch seconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - created_at).abs() < 300.0, "{created_at} vs {now}");

    // The first DescribeLedger settles the ledger to ACTIVE.
    let d = ok(call(&mut http, "GET", "/ledgers/life-1", None));
    assert_eq!(d["State"], "ACTIVE");
    assert_eq!(d["Arn"], created["Arn"]);
    assert_eq!(d["CreationDateTime"], created["CreationDateTime"]);
    assert_eq!(
        d["EncryptionDescription"],
        json!({"KmsKeyArn": "AWS_OWNED_KMS_KEY", "EncryptionStatus": "ENABLED"})
    );

    // The session plane sees it at once.
    let mut s = Session::start(server.addr(), "life-1");
    s.run("CREATE TABLE T", &[]).unwrap();

    // Deletion protection refuses DeleteLedger with 412.
    let r = call(&mut http, "DELETE", "/ledgers/life-1", None);
    let (status, code, _) = r.error();
    assert_eq!(
        (status, code.as_str()),
        (412, "ResourcePreconditionNotMetException")
    );
    assert_eq!(r.json()["ResourceName"], "life-1");
    assert_eq!(r.json()["ResourceType"], "LEDGER");

    let u = ok(call(
        &mut http,
        "PATCH",
        "/ledgers/life-1",
        Some(json!({"DeletionProtection": false})),
    ));
    assert_eq!(u["DeletionProtection"], false);
    assert_eq!(u["State"], "ACTIVE");
    assert_eq!(u["Name"], "life-1");
    assert!(u["EncryptionDescription"].is_object());
    assert_eq!(
        ok(call(&mut http, "GET", "/ledgers/life-1", None))["DeletionProtection"],
        false
    );

    let r = call(&mut http, "DELETE", "/ledgers/life-1", None);
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());

    let r = call(&mut http, "GET", "/ledgers/life-1", None);
    let (status, code, message) = r.error();
    assert_eq!(
        (status, code.as_str()),
        (404, "ResourceNotFoundException"),
        "{message}"
    );
    assert_eq!(r.json()["ResourceName"], "life-1");
    // Sessions of a deleted ledger are gone.
    assert_eq!(s.begin().err().unwrap().1, "InvalidSessionException");
}

#[test]
fn control_plane_errors() {
    let server = start_server(|_| {});
    let mut http = Http::new(server.addr());
    let dup = call(
        &mut http,
        "POST",
        "/ledgers",
        Some(json!({"Name": LEDGER, "PermissionsMode": "ALLOW_ALL"})),
    );
    let (status, code, _) = dup.error();
    assert_eq!(
        (status, code.as_str()),
        (409, "ResourceAlreadyExistsException")
    );
    assert_eq!(dup.json()["ResourceName"], LEDGER);

    for (body, parameter) in [
        (json!({"PermissionsMode": "ALLOW_ALL"}), "Name"),
        (json!({"Name": "a--b", "PermissionsMode": "ALLOW_ALL"}), ""),
        (json!({"Name": "123", "PermissionsMode": "ALLOW_ALL"}), ""),
        (json!({"Name": "ok-name"}), "PermissionsMode"),
        (
            json!({"Name": "ok-name", "PermissionsMode": "NOPE"}),
            "PermissionsMode",
        ),
        (
            json!({"Name": "ok-name", "PermissionsMode": "ALLOW_ALL", "KmsKey": "k".repeat(1601)}),
            "KmsKey",
        ),
        (json!({"Name": 5}), ""),
    ] {
        let r = call(&mut http, "POST", "/ledgers", Some(body.clone()));
        let (status, code, message) = r.error();
        assert_eq!(
            (status, code.as_str()),
            (400, "InvalidParameterException"),
            "{body}: {message}"
        );
        if !parameter.is_empty() {
            assert_eq!(r.json()["ParameterName"], parameter, "{body}");
        }
    }
    let r = http
        .request(
            "POST",
            "/ledgers",
            &[("Content-Type", "application/json")],
            b"{not json",
        )
        .unwrap();
    assert_eq!(r.error().1, "InvalidParameterException");

    for (method, path) in [
        ("GET", "/ledgers/missing"),
        ("PATCH", "/ledgers/missing"),
        ("DELETE", "/ledgers/missing"),
        ("POST", "/ledgers/missing/digest"),
    ] {
        let r = call(&mut http, method, path, None);
        let (status, code, _) = r.error();
        assert_eq!(
            (status, code.as_str()),
            (404, "ResourceNotFoundException"),
            "{method} {path}"
        );
    }

    // Unknown operations: 404 for unknown paths, 405 for a wrong method, 400 for POST / without
    // a target.
    let r = call(&mut http, "GET", "/nothing/here", None);
    assert_eq!(r.error().0, 404);
    assert_eq!(r.error().1, "UnknownOperationException");
    let r = call(&mut http, "PUT", "/ledgers", None);
    assert_eq!(r.error().0, 405);
    let r = call(
        &mut http,
        "POST",
        "/",
        Some(json!({"StartSession": {"LedgerName": LEDGER}})),
    );
    let (status, code, message) = r.error();
    assert_eq!((status, code.as_str()), (400, "UnknownOperationException"));
    assert!(message.contains("X-Amz-Target"), "{message}");
}

#[test]
fn list_ledgers_pages() {
    let server = start_server(|c| {
        c.create_ledgers
            .extend(["b-ledger".to_string(), "a-ledger".to_string()]);
    });
    let mut http = Http::new(server.addr());
    let all = ok(call(&mut http, "GET", "/ledgers", None));
    let names: Vec<&str> = all["Ledgers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a-ledger", "b-ledger", LEDGER]);
    assert!(all.get("NextToken").is_none());
    for l in all["Ledgers"].as_array().unwrap() {
        assert_eq!(l["State"], "ACTIVE");
        assert!(l["CreationDateTime"].is_f64() || l["CreationDateTime"].is_u64());
    }

    let mut paged = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let path = match &token {
            Some(t) => format!(
                "/ledgers?max_results=1&next_token={}",
                t.replace('=', "%3D")
            ),
            None => "/ledgers?max_results=1".into(),
        };
        let page = ok(call(&mut http, "GET", &path, None));
        let ledgers = page["Ledgers"].as_array().unwrap();
        assert!(ledgers.len() <= 1);
        paged.extend(
            ledgers
                .iter()
                .map(|l| l["Name"].as_str().unwrap().to_string()),
        );
        token = page["NextToken"].as_str().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(paged, names);

    for bad in [
        "/ledgers?max_results=0",
        "/ledgers?max_results=101",
        "/ledgers?max_results=x",
        "/ledgers?next_token=zz",
        "/ledgers?next_token=QUFBQUFB",
    ] {
        let (status, code, _) = call(&mut http, "GET", bad, None).error();
        assert_eq!(
            (status, code.as_str()),
            (400, "InvalidParameterException"),
            "{bad}"
        );
    }
}

fn proof_hashes(ion_text: &str) -> Vec<Hash> {
    Element::read_one(ion_text.as_bytes())
        .unwrap()
        .as_sequence()
        .expect("a proof is an Ion list")
        .iter()
        .map(|b| b.as_blob().expect("blob").try_into().expect("32 bytes"))
        .collect()
}

fn blob_field(s: &ion_rs::Struct, name: &str) -> Hash {
    s.get(name)
        .and_then(Element::as_blob)
        .unwrap_or_else(|| panic!("no {name}"))
        .try_into()
        .unwrap()
}

#[test]
fn digest_revision_and_block_verify() {
    let server = start_server(|_| {});
    let mut s = Session::start(server.addr(), LEDGER);
    s.run("CREATE TABLE Vault", &[]).unwrap();
    s.run(
        "INSERT INTO Vault ?",
        &[ion("{owner: \"Ada\", balance: 100}")],
    )
    .unwrap();
    s.run("UPDATE Vault SET balance = 120 WHERE owner = 'Ada'", &[])
        .unwrap();
    let committed = s
        .run(
            "SELECT metadata.id AS id, blockAddress FROM _ql_committed_Vault WHERE data.owner = ?",
            &[Element::string("Ada")],
        )
        .unwrap();
    let row = committed[0].as_struct().unwrap();
    let doc_id = row.get("id").unwrap().as_text().unwrap().to_string();
    let address = row.get("blockAddress").unwrap().to_string();

    let mut http = Http::new(server.addr());
    let d = ok(call(&mut http, "POST", "/ledgers/test/digest", None));
    let digest: Hash = qldb_wire::blob::decode(d["Digest"].as_str().unwrap())
        .unwrap()
        .try_into()
        .expect("32-byte digest");
    let tip = d["DigestTipAddress"]["IonText"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        tip.contains("strandId") && tip.contains("sequenceNo"),
        "{tip}"
    );

    // GetRevision with a tip: recompute the revision hash, fold the proof into the digest.
    let r = ok(call(
        &mut http,
        "POST",
        "/ledgers/test/revision",
        Some(
            json!({"BlockAddress": {"IonText": address}, "DocumentId": doc_id,
                    "DigestTipAddress": {"IonText": tip}}),
        ),
    ));
    let revision =
        Element::read_one(r["Revision"]["IonText"].as_str().unwrap().as_bytes()).unwrap();
    let rs = revision.as_struct().unwrap();
    assert_eq!(
        rs.get("data").unwrap(),
        &ion("{owner: \"Ada\", balance: 120}")
    );
    let leaf = dot(
        &ion_hash(rs.get("data").unwrap()),
        &ion_hash(rs.get("metadata").unwrap()),
    );
    assert_eq!(leaf, blob_field(rs, "hash"));
    let proof = proof_hashes(r["Proof"]["IonText"].as_str().unwrap());
    assert!(verify_proof(&leaf, &proof, &digest), "revision proof");
    let mut flipped = leaf;
    flipped[3] ^= 0x10;
    assert!(!verify_proof(&flipped, &proof, &digest));

    // Without a tip there is no proof.
    let r = ok(call(
        &mut http,
        "POST",
        "/ledgers/test/revision",
        Some(json!({"BlockAddress": {"IonText": address}, "DocumentId": doc_id})),
    ));
    assert!(r.get("Proof").is_none());

    // GetBlock with a tip: the block hash folds into the digest.
    let b = ok(call(
        &mut http,
        "POST",
        "/ledgers/test/block",
        Some(json!({"BlockAddress": {"IonText": address}, "DigestTipAddress": {"IonText": tip}})),
    ));
    let block = Element::read_one(b["Block"]["IonText"].as_str().unwrap().as_bytes()).unwrap();
    let bs = block.as_struct().unwrap();
    let block_hash = blob_field(bs, "blockHash");
    assert_eq!(
        block_hash,
        dot(
            &blob_field(bs, "entriesHash"),
            &blob_field(bs, "previousBlockHash")
        )
    );
    let proof = proof_hashes(b["Proof"]["IonText"].as_str().unwrap());
    assert!(verify_proof(&block_hash, &proof, &digest), "block proof");
    let b = ok(call(
        &mut http,
        "POST",
        "/ledgers/test/block",
        Some(json!({"BlockAddress": {"IonText": address}})),
    ));
    assert!(b.get("Proof").is_none());

    // Bad requests are InvalidParameterException.
    let beyond = tip.replace("sequenceNo:", "sequenceNo:9");
    for (path, body) in [
        ("/ledgers/test/block", json!({})),
        (
            "/ledgers/test/block",
            json!({"BlockAddress": {"IonText": "{strandId:"}}),
        ),
        (
            "/ledgers/test/block",
            json!({"BlockAddress": {"IonText": "[1]"}}),
        ),
        (
            "/ledgers/test/block",
            json!({"BlockAddress": {"IonText": beyond}}),
        ),
        (
            "/ledgers/test/block",
            json!({"BlockAddress": {"IonText": address}, "DigestTipAddress": {"IonText": beyond}}),
        ),
        (
            "/ledgers/test/revision",
            json!({"BlockAddress": {"IonText": address}}),
        ),
        (
            "/ledgers/test/revision",
            json!({"BlockAddress": {"IonText": address}, "DocumentId": "short"}),
        ),
        ("/ledgers/test/revision", json!({"DocumentId": doc_id})),
    ] {
        let r = call(&mut http, "POST", path, Some(body.clone()));
        let (status, code, message) = r.error();
        assert_eq!(
            (status, code.as_str()),
            (400, "InvalidParameterException"),
            "{body}: {message}"
        );
    }
}
