//! Digests and proofs (`spec/hashing.md` §4–§7): GetDigest, GetRevision and GetBlock with a tip,
//! verified client-side the way drivers do it (recompute the revision hash from data and
//! metadata, fold the proof into the leaf with `dot`, compare with the digest), tampering
//! detected, addresses beyond the tip rejected, and a reopened file ledger keeping its digest.

use crate::support::*;
use ion_rs::Element;
use qldb_ion::{dot, ion_hash, verify_proof, Hash};
use qldb_ledger::{BlockAddress, CreateLedgerRequest, Engine, EngineConfig, LedgerError};
use std::sync::Arc;

const L: &str = "proofs";

fn to_hash(e: &Element) -> Hash {
    <[u8; 32]>::try_from(e.as_blob().unwrap_or_else(|| panic!("not a blob: {e}")))
        .expect("a 32-byte hash")
}

/// `Proof.IonText`: an Ion list of blobs.
fn parse_proof(text: &str) -> Vec<Hash> {
    let list = Element::read_one(text.as_bytes()).expect("proof is Ion");
    list.as_sequence()
        .expect("proof is a list")
        .elements()
        .map(to_hash)
        .collect()
}

fn address_of(e: &Element) -> BlockAddress {
    BlockAddress {
        strand_id: Arc::from(text_field(e, "strandId")),
        sequence_no: field(e, "sequenceNo").as_i64().unwrap() as u64,
    }
}

/// A document's current block address and id, from the committed view.
fn locate(c: &Client<'_>, table: &str, name: &str) -> (BlockAddress, String) {
    let rows = c
        .run(
            &format!(
                "SELECT blockAddress, metadata.id FROM _ql_committed_{table} WHERE data.name = ?"
            ),
            &[Element::string(name)],
        )
        .unwrap();
    assert_eq!(rows.len(), 1, "{name}");
    (
        address_of(field(&rows[0], "blockAddress")),
        text_field(&rows[0], "id"),
    )
}

/// GetRevision with a tip, verified like a driver; returns the revision.
fn verify_revision(
    engine: &Engine,
    addr: &BlockAddress,
    doc_id: &str,
    digest: &Hash,
    tip: &BlockAddress,
) -> Element {
    let (text, proof) = engine.get_revision(L, addr, doc_id, Some(tip)).unwrap();
    let rev = Element::read_one(text.as_bytes()).expect("revision is Ion text");
    let proof = parse_proof(&proof.expect("a proof when a tip is given"));
    let meta = field(&rev, "metadata");
    assert_eq!(text_field(meta, "id"), doc_id);
    assert_eq!(address_of(field(&rev, "blockAddress")), *addr);
    let leaf = dot(&ion_hash(field(&rev, "data")), &ion_hash(meta));
    assert_eq!(
        leaf,
        to_hash(field(&rev, "hash")),
        "revision hash = dot(H(data), H(metadata))"
    );
    assert!(
        verify_proof(&leaf, &proof, digest),
        "the revision proof folds to the digest (block {}, tip {})",
        addr.sequence_no,
        tip.sequence_no
    );
    // Any flipped bit breaks it: in the leaf, in a proof hash, or in the data.
    let mut bad = leaf;
    bad[17] ^= 0x04;
    assert!(!verify_proof(&bad, &proof, digest));
    for i in 0..proof.len() {
        let mut p = proof.clone();
        p[i][i % 32] ^= 1;
        assert!(!verify_proof(&leaf, &p, digest), "flipped proof hash {i}");
    }
    let mut data = field(&rev, "data").clone();
    data = Element::from(
        data.as_struct()
            .unwrap()
            .clone_builder()
            .with_field("tampered", Element::boolean(true))
            .build(),
    );
    let forged = dot(&ion_hash(&data), &ion_hash(meta));
    assert!(!verify_proof(&forged, &proof, digest));
    rev
}

/// GetBlock with a tip, verified; returns the block.
fn verify_block(engine: &Engine, seq: u64, digest: &Hash, tip: &BlockAddress) -> Element {
    let addr = BlockAddress {
        strand_id: tip.strand_id.clone(),
        sequence_no: seq,
    };
    let (text, proof) = engine.get_block(L, &addr, Some(tip)).unwrap();
    let block = Element::read_one(text.as_bytes()).expect("block is Ion text");
    assert_eq!(address_of(field(&block, "blockAddress")), addr);
    let proof = parse_proof(&proof.expect("a proof when a tip is given"));
    let leaf = to_hash(field(&block, "blockHash"));
    assert!(
        verify_proof(&leaf, &proof, digest),
        "block {seq} against tip {}",
        tip.sequence_no
    );
    let mut bad = leaf;
    bad[0] ^= 0x80;
    assert!(!verify_proof(&bad, &proof, digest));
    // blockHash = dot(entriesHash, previousBlockHash).
    let expected = dot(
        &to_hash(field(&block, "entriesHash")),
        &to_hash(field(&block, "previousBlockHash")),
    );
    assert_eq!(leaf, expected, "block {seq}");
    block
}

#[test]
fn revision_proofs_verify_against_the_digest() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE Person", &[]).unwrap();
    c.run("INSERT INTO Person VALUE {'name': 'solo'}", &[])
        .unwrap();
    // Several revisions in one block: odd and even positions in the revision tree.
    let names: Vec<String> = (0..5).map(|i| format!("p{i}")).collect();
    c.txn(|t| {
        for n in &names {
            t.exec(
                "INSERT INTO Person VALUE {'name': ?, 'k': [1, 2.50]}",
                &[Element::string(n.as_str())],
            )?;
        }
        Ok(())
    })
    .unwrap();
    c.run("UPDATE Person SET v = 2 WHERE name = 'p3'", &[])
        .unwrap();

    let (digest, tip) = engine.get_digest(L).unwrap();
    assert_eq!(tip.strand_id.len(), 22);
    for n in std::iter::once("solo").chain(names.iter().map(String::as_str)) {
        let (addr, id) = locate(&c, "Person", n);
        let rev = verify_revision(&engine, &addr, &id, &digest, &tip);
        assert_eq!(text_field(field(&rev, "data"), "name"), n);
    }
    // The updated revision is in a later block than the original.
    let (addr, id) = locate(&c, "Person", "p3");
    let rev = verify_revision(&engine, &addr, &id, &digest, &tip);
    assert_eq!(field(field(&rev, "metadata"), "version").as_i64(), Some(1));
    // Its first revision still verifies, from the history.
    let v0 = c
        .run(
            "SELECT VALUE h.blockAddress FROM history(Person) AS h WHERE h.metadata.id = ? AND h.metadata.version = 0",
            &[Element::string(id.as_str())],
        )
        .unwrap();
    let v0_addr = address_of(&v0[0]);
    assert!(v0_addr.sequence_no < addr.sequence_no);
    verify_revision(&engine, &v0_addr, &id, &digest, &tip);

    // Without a tip there is no proof.
    let (_, proof) = engine.get_revision(L, &addr, &id, None).unwrap();
    assert!(proof.is_none());
    // A document that is not in the block.
    let (solo_addr, _) = locate(&c, "Person", "solo");
    let e = engine
        .get_revision(L, &solo_addr, &id, Some(&tip))
        .unwrap_err();
    assert_eq!(e.code(), "InvalidParameterException", "{e:?}");
}

#[test]
fn block_proofs_verify_for_every_block_and_every_older_tip() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    let mut digests = vec![engine.get_digest(L).unwrap()];
    c.run("CREATE TABLE T", &[]).unwrap();
    digests.push(engine.get_digest(L).unwrap());
    for i in 0..10 {
        if i % 3 == 0 {
            c.run("SELECT * FROM T", &[]).unwrap();
        } else {
            c.run("INSERT INTO T VALUE {'i': ?}", &[Element::int(i)])
                .unwrap();
        }
        digests.push(engine.get_digest(L).unwrap());
    }
    for (digest, tip) in &digests {
        let mut previous: Option<Hash> = None;
        let mut hashes = Vec::new();
        for seq in 0..=tip.sequence_no {
            let block = verify_block(&engine, seq, digest, tip);
            let hash = to_hash(field(&block, "blockHash"));
            if let Some(p) = previous {
                assert_eq!(
                    to_hash(field(&block, "previousBlockHash")),
                    p,
                    "chain at {seq}"
                );
            }
            previous = Some(hash);
            hashes.push(hash);
        }
        // The digest is the Merkle root over the block hashes 0..=tip.
        assert_eq!(qldb_ion::merkle_root(&hashes), Some(*digest));
    }
    // Each digest only proves blocks up to its tip.
    let (old_digest, old_tip) = &digests[3];
    let (text, proof) = engine
        .get_block(
            L,
            &BlockAddress {
                strand_id: old_tip.strand_id.clone(),
                sequence_no: old_tip.sequence_no,
            },
            Some(old_tip),
        )
        .unwrap();
    let leaf = to_hash(field(
        &Element::read_one(text.as_bytes()).unwrap(),
        "blockHash",
    ));
    let proof = parse_proof(&proof.unwrap());
    assert!(verify_proof(&leaf, &proof, old_digest));
    assert!(!verify_proof(&leaf, &proof, &digests.last().unwrap().0));
}

#[test]
fn addresses_beyond_the_tip_are_invalid_parameters() {
    let engine = memory_engine(L);
    let c = Client::new(&engine, L);
    c.run("CREATE TABLE Person", &[]).unwrap();
    let (_, old_tip) = engine.get_digest(L).unwrap();
    c.run("INSERT INTO Person VALUE {'name': 'a'}", &[])
        .unwrap();
    let (addr, id) = locate(&c, "Person", "a");
    let (_, tip) = engine.get_digest(L).unwrap();
    let beyond = BlockAddress {
        strand_id: tip.strand_id.clone(),
        sequence_no: tip.sequence_no + 5,
    };
    let invalid = |r: Result<(String, Option<String>), LedgerError>, what: &str| match r {
        Err(e @ LedgerError::InvalidParameter { .. }) => {
            assert_eq!(e.code(), "InvalidParameterException", "{what}")
        }
        other => panic!("{what}: expected InvalidParameterException, got {other:?}"),
    };
    invalid(
        engine.get_block(L, &beyond, Some(&tip)),
        "block beyond the ledger",
    );
    invalid(
        engine.get_block(L, &beyond, None),
        "block beyond the ledger, no tip",
    );
    invalid(
        engine.get_block(L, &tip, Some(&beyond)),
        "tip beyond the ledger",
    );
    invalid(
        engine.get_block(L, &addr, Some(&old_tip)),
        "block after the given tip",
    );
    invalid(
        engine.get_revision(L, &addr, &id, Some(&old_tip)),
        "revision after the given tip",
    );
    invalid(
        engine.get_revision(L, &beyond, &id, Some(&tip)),
        "revision beyond the ledger",
    );
    let foreign = BlockAddress {
        strand_id: Arc::from("AAAAAAAAAAAAAAAAAAAAAA"),
        sequence_no: 0,
    };
    invalid(engine.get_block(L, &foreign, Some(&tip)), "another strand");
    // At the tip itself it works.
    let (digest, _) = engine.get_digest(L).unwrap();
    verify_revision(&engine, &addr, &id, &digest, &tip);
}

#[test]
fn reopened_file_ledger_keeps_its_digest_and_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let (digest, tip, addr, id) = {
        let engine = Engine::open_dir(dir.path(), EngineConfig::default()).unwrap();
        engine.create_ledger(CreateLedgerRequest::new(L)).unwrap();
        let c = Client::new(&engine, L);
        c.run("CREATE TABLE Person", &[]).unwrap();
        c.run("CREATE INDEX ON Person (name)", &[]).unwrap();
        c.run("INSERT INTO Person << {'name': 'a', 'd': 1.10}, {'name': 'b', 't': `2016-12-20T05:23:43.000000-00:00`} >>", &[])
            .unwrap();
        c.run("UPDATE Person SET x = `sym::abc` WHERE name = 'a'", &[])
            .unwrap();
        c.run("DELETE FROM Person WHERE name = 'b'", &[]).unwrap();
        let (addr, id) = locate(&c, "Person", "a");
        let (digest, tip) = engine.get_digest(L).unwrap();
        verify_revision(&engine, &addr, &id, &digest, &tip);
        (digest, tip, addr, id)
    };
    let engine = Engine::open_dir(dir.path(), EngineConfig::default()).unwrap();
    assert_eq!(engine.get_digest(L).unwrap(), (digest, tip.clone()));
    let report = engine.ledger(L).unwrap().verify().unwrap();
    assert_eq!(report.digest, digest);
    assert_eq!(report.blocks, tip.sequence_no + 1);
    let rev = verify_revision(&engine, &addr, &id, &digest, &tip);
    assert_ion_eq(
        field(&rev, "data"),
        &ion("{name: \"a\", d: 1.10, x: sym::abc}"),
    );
    for seq in 0..=tip.sequence_no {
        verify_block(&engine, seq, &digest, &tip);
    }
    // The recovered state answers queries, indexes included, and keeps committing.
    let c = Client::new(&engine, L);
    assert_eq!(
        c.run("SELECT VALUE d FROM Person WHERE name = 'a'", &[])
            .unwrap(),
        vec![ion("1.10")]
    );
    assert!(c
        .run("SELECT * FROM Person WHERE name = 'b'", &[])
        .unwrap()
        .is_empty());
    assert_eq!(
        c.run("SELECT * FROM history(Person)", &[]).unwrap().len(),
        4
    );
    c.run("INSERT INTO Person VALUE {'name': 'c'}", &[])
        .unwrap();
    // Three reads and one insert since the reopen.
    assert_eq!(tip_seq(&engine, L), tip.sequence_no + 4);
}
