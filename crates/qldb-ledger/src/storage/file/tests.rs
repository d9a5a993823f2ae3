//! Tests of the file journal: format, crash recovery, group commit, poisoning,
//! preallocation, durability notifications.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

fn open(path: &Path) -> (FileJournal, Vec<Vec<u8>>) {
    FileJournal::open(path).expect("open journal")
}

fn open_err(path: &Path) -> StorageError {
    FileJournal::open(path).expect_err("open should fail")
}

/// Writes `records`, each synced on its own (so each is its own batch).
fn write_synced(path: &Path, records: &[&[u8]]) -> FileJournal {
    let (j, _) = open(path);
    for r in records {
        let i = j.append(r).unwrap();
        j.sync(i).unwrap();
    }
    j
}

const FIVE_RECORDS: [&[u8]; 5] = [b"zero", b"one", b"two", b"three", b"four"];

/// Writes [`FIVE_RECORDS`]: records 0 and 1 synced one by one, 2, 3 and 4 by a single round.
/// Returns the file as written.
fn write_two_synced_then_three_in_one_round(path: &Path) -> Vec<u8> {
    let j = write_synced(path, &FIVE_RECORDS[..2]);
    for r in &FIVE_RECORDS[2..] {
        j.append(r).unwrap();
    }
    j.sync(4).unwrap();
    drop(j);
    std::fs::read(path).unwrap()
}

/// Byte offset of each record's frame, for records of the given sizes.
fn frame_offsets(records: &[&[u8]]) -> Vec<usize> {
    let mut pos = FILE_HEADER_LEN;
    records
        .iter()
        .map(|r| {
            let at = pos;
            pos += FRAME_HEADER_LEN + r.len();
            at
        })
        .collect()
}

/// The journal file's bytes up to its logical end (the end of the last frame),
/// after checking that everything behind it is preallocated zeros.
fn logical_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let s = scan(&bytes).unwrap();
    assert_eq!(s.tail_defect, None);
    assert!(
        is_zero(&bytes[s.valid_len..]),
        "non-zero bytes after the logical end"
    );
    bytes.truncate(s.valid_len);
    bytes
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

fn owned(records: &[&[u8]]) -> Vec<Vec<u8>> {
    records.iter().map(|r| r.to_vec()).collect()
}

const THREE: [&[u8]; 3] = [b"first record", b"second", b"the third record"];

#[test]
fn creates_a_new_journal_with_a_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal");
    let (j, recs) = open(&path);
    assert!(recs.is_empty());
    assert!(j.is_empty());
    assert_eq!(j.path(), path);
    drop(j);
    assert_eq!(std::fs::read(&path).unwrap(), file_header());
    let (j, recs) = open(&path);
    assert!(recs.is_empty() && j.is_empty());
}

#[test]
fn empty_or_torn_header_file_is_initialized() {
    let dir = tempfile::tempdir().unwrap();
    let header = file_header();
    let cases: Vec<Vec<u8>> = vec![
        vec![],
        header[..1].to_vec(),
        header[..7].to_vec(),
        header[..15].to_vec(),
        vec![0; 5],
        vec![0; FILE_HEADER_LEN],
    ];
    for (n, bytes) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("j{n}"));
        std::fs::write(&path, &bytes).unwrap();
        let (j, recs) = open(&path);
        assert!(recs.is_empty(), "case {n}");
        assert_eq!(j.append(b"x").unwrap(), 0);
        j.sync(0).unwrap();
        drop(j);
        assert_eq!(open(&path).1, vec![b"x".to_vec()], "case {n}");
    }
}

#[test]
fn foreign_or_future_files_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");

    std::fs::write(&path, b"hello, world").unwrap();
    assert!(matches!(open_err(&path), StorageError::Corrupt(m) if m.contains("neither")));

    std::fs::write(&path, b"definitely not a journal file").unwrap();
    assert!(matches!(open_err(&path), StorageError::Corrupt(m) if m.contains("bad magic")));

    std::fs::write(&path, [0u8; 40]).unwrap();
    assert!(matches!(open_err(&path), StorageError::Corrupt(m) if m.contains("bad magic")));

    let mut header = file_header();
    header[8] = 2;
    std::fs::write(&path, header).unwrap();
    assert!(
        matches!(open_err(&path), StorageError::Corrupt(m) if m.contains("unsupported journal format version 2"))
    );
    // Rejecting must not have modified the file.
    assert_eq!(std::fs::read(&path).unwrap(), header);
}

#[test]
fn reopen_recovers_records_and_continues_indices() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    drop(write_synced(&path, &THREE));

    let (j, recs) = open(&path);
    assert_eq!(recs, owned(&THREE));
    assert_eq!(j.len(), 3);
    assert_eq!(j.durable_len(), 3);
    for (i, r) in THREE.iter().enumerate() {
        assert_eq!(j.read(i as u64).unwrap(), *r);
    }
    assert_eq!(j.append(b"four").unwrap(), 3);
    assert_eq!(j.append(b"").unwrap(), 4);
    j.sync(4).unwrap();
    drop(j);

    let (j, recs) = open(&path);
    let mut expected = owned(&THREE);
    expected.extend([b"four".to_vec(), vec![]]);
    assert_eq!(recs, expected);
    assert_eq!(j.read(4).unwrap(), b"");
}

#[test]
fn read_before_sync_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let (j, _) = open(&path);
    assert_eq!(j.append(b"a").unwrap(), 0);
    assert_eq!(j.append(b"bb").unwrap(), 1);
    // Pending: served from memory.
    assert_eq!(j.read(0).unwrap(), b"a");
    assert_eq!(j.read(1).unwrap(), b"bb");
    assert_eq!(j.durable_len(), 0);
    // Syncing record 0 makes record 1 durable too: one round takes everything pending.
    j.sync(0).unwrap();
    assert_eq!(j.durable_len(), 2);
    j.sync(1).unwrap();
    assert_eq!(j.append(b"ccc").unwrap(), 2);
    // Mixed: 0 and 1 come from the file, 2 from memory.
    assert_eq!(j.read(0).unwrap(), b"a");
    assert_eq!(j.read(1).unwrap(), b"bb");
    assert_eq!(j.read(2).unwrap(), b"ccc");
    assert!(matches!(
        j.read(3),
        Err(StorageError::OutOfRange { index: 3, len: 3 })
    ));
    assert!(matches!(
        j.sync(3),
        Err(StorageError::OutOfRange { index: 3, len: 3 })
    ));
    // Unsynced records are lost by a crash; dropping the store without sync is one.
    drop(j);
    assert_eq!(open(&path).1, vec![b"a".to_vec(), b"bb".to_vec()]);
}

#[test]
fn oversized_record_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let (j, _) = open(&dir.path().join("j"));
    let big = vec![7u8; MAX_RECORD_LEN + 1];
    assert!(matches!(
        j.append(&big),
        Err(StorageError::RecordTooLarge { len, max }) if len == MAX_RECORD_LEN + 1 && max == MAX_RECORD_LEN
    ));
    assert!(j.is_empty());
}

#[test]
fn torn_tail_at_every_byte_offset_of_the_last_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    drop(write_synced(&path, &THREE));
    let full = logical_bytes(&path);
    let last = frame_offsets(&THREE)[2];
    assert_eq!(full.len(), last + FRAME_HEADER_LEN + THREE[2].len());

    for cut in last..full.len() {
        let torn = dir.path().join(format!("torn{cut}"));
        std::fs::write(&torn, &full[..cut]).unwrap();
        let (j, recs) = open(&torn);
        assert_eq!(recs, owned(&THREE[..2]), "cut at {cut}");
        assert_eq!(
            std::fs::metadata(&torn).unwrap().len(),
            last as u64,
            "cut at {cut}"
        );
        // Appending continues where the valid prefix ended.
        assert_eq!(j.append(b"new third").unwrap(), 2);
        j.sync(2).unwrap();
        drop(j);
        let (_, recs) = open(&torn);
        assert_eq!(recs[2], b"new third", "cut at {cut}");
        std::fs::remove_file(&torn).unwrap();
    }
}

#[test]
fn garbage_after_the_last_record_is_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    drop(write_synced(&path, &THREE));
    let full = logical_bytes(&path);
    // (All-zero tails are preallocated space: see `zero_tail_is_preallocated_space`.)
    let garbage: Vec<Vec<u8>> = vec![
        vec![0xAB; 100],
        vec![1],
        // Zeros with a stray non-zero byte are not preallocated space.
        [vec![0; 4096], vec![1], vec![0; 4096]].concat(),
        FRAME_MAGIC.to_vec(),
        // A frame header that promises more payload than there is.
        encode_frame(&[1; 300], 3, 3)[..200].to_vec(),
    ];
    for (n, tail) in garbage.iter().enumerate() {
        let mut bytes = full.clone();
        bytes.extend_from_slice(tail);
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(open(&path).1, owned(&THREE), "case {n}");
        assert_eq!(std::fs::read(&path).unwrap(), full, "case {n}");
    }
}

#[test]
fn damage_anywhere_in_the_last_record_is_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    drop(write_synced(&path, &THREE));
    let full = logical_bytes(&path);
    let last = frame_offsets(&THREE)[2];
    for at in last..full.len() {
        let mut bytes = full.clone();
        bytes[at] ^= 0x10;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(open(&path).1, owned(&THREE[..2]), "byte {at}");
    }
}

#[test]
fn damage_anywhere_in_a_middle_record_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    drop(write_synced(&path, &THREE));
    let full = std::fs::read(&path).unwrap();
    let offsets = frame_offsets(&THREE);
    for at in offsets[1]..offsets[2] {
        let mut bytes = full.clone();
        bytes[at] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        match open_err(&path) {
            StorageError::Corrupt(msg) => {
                assert!(msg.contains("record 1 at byte offset"), "byte {at}: {msg}");
                assert!(msg.contains("refusing to drop"), "byte {at}: {msg}");
            }
            other => panic!("byte {at}: {other:?}"),
        }
        // Nothing was truncated.
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "byte {at}");
    }
}

#[test]
fn damage_inside_the_last_unsynced_batch_drops_that_batch_from_there() {
    // Records 0 and 1 synced one by one; 2, 3, 4 written by a single round. A
    // crash during that round may persist its pages out of order, so an intact
    // record 4 behind a damaged record 3 is no evidence of corruption.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let records = FIVE_RECORDS;
    let full = write_two_synced_then_three_in_one_round(&path);
    let offsets = frame_offsets(&records);

    let mut bytes = full.clone();
    bytes[offsets[3] + FRAME_HEADER_LEN] ^= 0xFF;
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(open(&path).1, owned(&records[..3]));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), offsets[3] as u64);

    // Zeroed (never written) first page of the batch, later page present.
    let mut bytes = full.clone();
    bytes[offsets[2]..offsets[3]].fill(0);
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(open(&path).1, owned(&records[..2]));

    // But damage to record 1 is behind records of a later write: corruption.
    let mut bytes = full.clone();
    bytes[offsets[1] + FRAME_HEADER_LEN] ^= 0xFF;
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(open_err(&path), StorageError::Corrupt(_)));
}

#[test]
fn misplaced_intact_frame_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let mut bytes = file_header().to_vec();
    bytes.extend(encode_frame(b"a", 0, 0));
    bytes.extend(encode_frame(b"b", 1, 1));
    bytes.extend(encode_frame(b"b", 1, 1)); // duplicated
    std::fs::write(&path, &bytes).unwrap();
    assert!(
        matches!(open_err(&path), StorageError::Corrupt(m) if m.contains("holds record 1, expected record 2"))
    );
}

#[test]
fn batch_claims_are_checked_against_the_damaged_index() {
    // Frames built by hand: [0 batch 0] [1 batch 1, damaged] [2 batch 1].
    // Record 2 was written together with record 1, so 1 and 2 are a torn tail.
    let data = |batch2: u64| {
        let mut bytes = file_header().to_vec();
        bytes.extend(encode_frame(b"r0", 0, 0));
        let damaged_at = bytes.len();
        bytes.extend(encode_frame(b"r1", 1, 1));
        bytes[damaged_at + FRAME_HEADER_LEN] ^= 1;
        bytes.extend(encode_frame(b"r2", 2, batch2));
        (bytes, damaged_at)
    };
    let (bytes, damaged_at) = data(1);
    let s = scan(&bytes).unwrap();
    assert_eq!(s.frames.len(), 1);
    assert_eq!(s.valid_len, damaged_at);
    assert_eq!(s.tail_defect, Some(FrameDefect::Checksum));
    // Written in a later round: record 1 had been durable.
    let (bytes, _) = data(2);
    assert!(scan(&bytes)
        .unwrap_err()
        .contains("record 1 at byte offset"));
}

#[test]
fn decode_rejects_inconsistent_and_oversized_frames() {
    let frame = encode_frame(b"x", 3, 4);
    assert_eq!(
        decode_frame(&frame, 0),
        Err(FrameDefect::Inconsistent { index: 3, batch: 4 })
    );
    let mut frame = encode_frame(b"x", 0, 0);
    frame[4..8].copy_from_slice(&(MAX_RECORD_LEN as u32 + 1).to_le_bytes());
    assert_eq!(
        decode_frame(&frame, 0),
        Err(FrameDefect::TooLarge(MAX_RECORD_LEN as u64 + 1))
    );
}

#[test]
fn read_detects_on_disk_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let j = write_synced(&path, &THREE);
    // Damage record 1 behind the open store's back.
    let at = frame_offsets(&THREE)[1] + FRAME_HEADER_LEN;
    let f = OpenOptions::new().write(true).open(&path).unwrap();
    f.write_all_at(b"X", at as u64).unwrap();
    assert!(matches!(j.read(1), Err(StorageError::Corrupt(m)) if m.contains("record 1")));
    assert_eq!(j.read(2).unwrap(), THREE[2]);
}

#[test]
fn write_failure_poisons_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let j = write_synced(&path, &[b"durable"]);
    j.append(b"lost one").unwrap();
    j.append(b"lost two").unwrap();
    j.inject_fault(Fault::Write);
    assert!(matches!(j.sync(2), Err(StorageError::Io(_))));

    assert!(matches!(j.append(b"more"), Err(StorageError::Poisoned(_))));
    assert!(matches!(j.sync(1), Err(StorageError::Poisoned(_))));
    assert!(matches!(j.sync(2), Err(StorageError::Poisoned(_))));
    // What was durable before the failure still is.
    j.sync(0).unwrap();
    // Reads keep working, including of the batch whose write failed.
    assert_eq!(j.read(0).unwrap(), b"durable");
    assert_eq!(j.read(1).unwrap(), b"lost one");
    assert_eq!(j.read(2).unwrap(), b"lost two");
    assert!(format!("{j:?}").contains("injected write failure"));
    drop(j);

    // Half the batch reached the file: its first frame whole, the second torn.
    // Recovery keeps the whole one (never acknowledged, but intact, like any
    // record that reached the disk before a crash) and truncates the rest.
    let (j, recs) = open(&path);
    assert_eq!(recs, vec![b"durable".to_vec(), b"lost one".to_vec()]);
    assert_eq!(j.append(b"next").unwrap(), 2);
}

#[test]
fn fsync_failure_poisons_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let (j, _) = open(&path);
    j.append(b"maybe").unwrap();
    j.inject_fault(Fault::Sync);
    assert!(matches!(j.sync(0), Err(StorageError::Io(_))));
    assert!(matches!(j.sync(0), Err(StorageError::Poisoned(_))));
    assert!(matches!(j.append(b"more"), Err(StorageError::Poisoned(_))));
    assert_eq!(j.read(0).unwrap(), b"maybe");
    assert_eq!(j.durable_len(), 0);
}

#[test]
fn all_waiters_of_a_failed_round_fail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let (j, _) = open(&path);
    for i in 0..8u8 {
        j.append(&[i]).unwrap();
    }
    j.inject_fault(Fault::Write);
    let barrier = Barrier::new(8);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8u64)
            .map(|i| {
                let (j, barrier) = (&j, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    j.sync(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let io = results
        .iter()
        .filter(|r| matches!(r, Err(StorageError::Io(_))))
        .count();
    let poisoned = results
        .iter()
        .filter(|r| matches!(r, Err(StorageError::Poisoned(_))))
        .count();
    assert_eq!((io, poisoned), (1, 7), "{results:?}");
}

/// 8 committers × 500 append+sync, as the ledger does them: append under a
/// shared lock (commit order), sync without it. Checks every record is
/// readable and recovered in order; prints the rate for information.
#[test]
fn group_commit_with_8_concurrent_committers() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 500;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let (j, _) = open(&path);
    let ledger_lock = Mutex::new(());
    let barrier = Barrier::new(THREADS);

    let started = Instant::now();
    let appended: Vec<Vec<(u64, Vec<u8>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (j, ledger_lock, barrier) = (&j, &ledger_lock, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let mut mine = Vec::with_capacity(PER_THREAD);
                    for n in 0..PER_THREAD {
                        // Roughly the size of a small Ion block.
                        let record = format!("thread {t} commit {n} {}", "x".repeat(200 + n % 300));
                        let index = {
                            let _commit = ledger_lock.lock();
                            j.append(record.as_bytes()).unwrap()
                        };
                        j.sync(index).unwrap();
                        assert!(j.durable_len() > index);
                        mine.push((index, record.into_bytes()));
                    }
                    mine
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    let total = (THREADS * PER_THREAD) as u64;
    let rounds = j.round_counts().0;
    eprintln!(
        "group commit: {total} fsync'd commits by {THREADS} threads in {elapsed:.2?} = {:.0} commits/s, \
         {rounds} fdatasync rounds ({:.1} commits per fdatasync)",
        total as f64 / elapsed.as_secs_f64(),
        total as f64 / rounds as f64
    );

    assert_eq!(j.len(), total);
    let mut by_index = vec![None; total as usize];
    for thread in &appended {
        // Each thread's commits got increasing indices.
        assert!(thread.windows(2).all(|w| w[0].0 < w[1].0));
        for (index, record) in thread {
            assert!(by_index[*index as usize].replace(record.clone()).is_none());
            assert_eq!(&j.read(*index).unwrap(), record);
        }
    }
    drop(j);

    let (j, recovered) = open(&path);
    let expected: Vec<Vec<u8>> = by_index.into_iter().map(Option::unwrap).collect();
    assert_eq!(recovered.len(), expected.len());
    assert!(recovered == expected, "recovered records differ");
    assert_eq!(j.len(), total);
}

#[test]
fn reads_run_concurrently_with_commits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let (j, _) = open(&path);
    let record = |i: u64| format!("record {i}").into_bytes();
    let ledger_lock = Mutex::new(());
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let writers: Vec<_> = (0..4)
            .map(|_| {
                let (j, ledger_lock) = (&j, &ledger_lock);
                s.spawn(move || {
                    for _ in 0..200 {
                        let index = {
                            let _commit = ledger_lock.lock();
                            let i = j.len();
                            assert_eq!(j.append(&record(i)).unwrap(), i);
                            i
                        };
                        j.sync(index).unwrap();
                    }
                })
            })
            .collect();
        // Readers hammer the newest records: pending, in flight and written ones.
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (j, done) = (&j, &done);
                s.spawn(move || {
                    let mut seen = HashSet::new();
                    while !done.load(Ordering::Relaxed) {
                        for i in (0..j.len()).rev().take(16) {
                            assert_eq!(j.read(i).unwrap(), record(i));
                            seen.insert(i);
                        }
                    }
                    seen.len()
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
    });
    assert_eq!(j.len(), 800);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random record sizes (including empty and multi-page ones) and random sync
    /// points round-trip through read and reopen.
    #[test]
    fn random_records_round_trip(
        records in prop::collection::vec(
            prop_oneof![
                4 => prop::collection::vec(any::<u8>(), 0..64),
                4 => prop::collection::vec(any::<u8>(), 64..2048),
                1 => prop::collection::vec(any::<u8>(), 2048..70_000),
            ],
            0..24,
        ),
        sync_every in 1usize..6,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let (j, _) = open(&path);
        for (n, r) in records.iter().enumerate() {
            let i = j.append(r).unwrap();
            prop_assert_eq!(i, n as u64);
            prop_assert_eq!(&j.read(i).unwrap(), r);
            if n % sync_every == 0 {
                j.sync(i).unwrap();
            }
        }
        if let Some(last) = j.len().checked_sub(1) {
            j.sync(last).unwrap();
        }
        for (n, r) in records.iter().enumerate() {
            prop_assert_eq!(&j.read(n as u64).unwrap(), r);
        }
        drop(j);
        let (j, recovered) = open(&path);
        prop_assert_eq!(&recovered, &records);
        prop_assert_eq!(j.len(), records.len() as u64);
    }
}

#[test]
fn a_second_open_of_the_same_journal_is_refused_while_the_first_lives() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.qlj");
    let (first, _) = open(&path);
    let err = FileJournal::open(&path).expect_err("second open must fail");
    assert!(err.to_string().contains("in use"), "{err}");
    drop(first);
    open(&path);
}

#[test]
fn a_lock_released_within_half_a_second_is_waited_for() {
    // As when a child forked by another thread still shares the descriptor until its exec.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.qlj");
    drop(open(&path));
    let holder = std::fs::File::open(&path).unwrap();
    holder.lock().unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(150));
        drop(holder);
    });
    let started = std::time::Instant::now();
    FileJournal::open(&path).expect("the lock is released in time");
    assert!(started.elapsed() >= std::time::Duration::from_millis(100));
    release.join().unwrap();
}

// Preallocation.

/// Size of the frame of a record of `len` bytes.
fn frame_len(len: usize) -> usize {
    FRAME_HEADER_LEN + len
}

#[test]
fn commits_overwrite_preallocated_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let j = write_synced(&path, &THREE);
    let logical = FILE_HEADER_LEN + THREE.iter().map(|r| frame_len(r.len())).sum::<usize>();
    // The first commit extended the file by a chunk of zeros; the other two
    // were written into it.
    assert_eq!(file_len(&path), PREALLOC_CHUNK);
    assert_eq!(j.round_counts().1, 1);
    assert_eq!(j.round_counts().0, 3);
    assert_eq!(logical_bytes(&path).len(), logical);
    assert!(format!("{j:?}").contains("extensions: 1"));
}

#[test]
fn zero_tail_is_preallocated_space() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    drop(write_synced(&path, &THREE));
    let physical = std::fs::read(&path).unwrap();
    let full = logical_bytes(&path);
    assert!(physical.len() > full.len());
    let four = frame_len(4);

    let tails = [
        1,
        FRAME_HEADER_LEN - 1,
        FRAME_HEADER_LEN,
        four - 1,
        four,
        4096,
        physical.len() - full.len(),
    ];
    for (n, zeros) in tails.into_iter().enumerate() {
        let mut bytes = full.clone();
        bytes.resize(full.len() + zeros, 0);
        std::fs::write(&path, &bytes).unwrap();
        let (j, recs) = open(&path);
        assert_eq!(recs, owned(&THREE), "case {n}");
        // Kept as it is: nothing truncated.
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "case {n}");

        // Appends continue at the logical end, not at the end of the file.
        assert_eq!(j.append(b"four").unwrap(), 3);
        j.sync(3).unwrap();
        let after = std::fs::read(&path).unwrap();
        assert_eq!(after[..full.len()], full[..], "case {n}");
        let frame = decode_frame(&after, full.len()).unwrap();
        assert_eq!(frame.index, 3, "case {n}");
        assert_eq!(&after[frame.payload.clone()], b"four", "case {n}");
        assert!(is_zero(&after[frame.end()..]), "case {n}");
        if zeros >= four {
            // It fitted into the preallocated space.
            assert_eq!(after.len(), bytes.len(), "case {n}");
            assert_eq!(j.round_counts().1, 0, "case {n}");
        } else {
            assert_eq!(after.len() as u64 % PREALLOC_CHUNK, 0, "case {n}");
            assert_eq!(j.round_counts().1, 1, "case {n}");
        }
        drop(j);
        let mut expected = owned(&THREE);
        expected.push(b"four".to_vec());
        assert_eq!(open(&path).1, expected, "case {n}");
    }

    // A journal without records, only preallocated space.
    let mut bytes = file_header().to_vec();
    bytes.resize(1000, 0);
    std::fs::write(&path, &bytes).unwrap();
    let (j, recs) = open(&path);
    assert!(recs.is_empty());
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(j.append(b"first").unwrap(), 0);
    j.sync(0).unwrap();
    assert_eq!(file_len(&path), 1000);
    drop(j);
    assert_eq!(open(&path).1, vec![b"first".to_vec()]);
}

#[test]
fn torn_frame_followed_by_zeros_is_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    drop(write_synced(&path, &THREE));
    let full = logical_bytes(&path);
    let last = frame_offsets(&THREE)[2];
    let with_zero_tail = |mut bytes: Vec<u8>| {
        bytes.resize(PREALLOC_CHUNK as usize, 0);
        bytes
    };

    let mut images = Vec::new();
    // The last write into the preallocated space was cut short.
    for cut in last + 1..full.len() {
        images.push((
            format!("cut at {cut}"),
            with_zero_tail(full[..cut].to_vec()),
        ));
    }
    // Out of order: the end of the frame reached the disk, its start did not.
    let mut bytes = full.clone();
    bytes[last..last + FRAME_HEADER_LEN].fill(0);
    images.push(("header never written".to_string(), with_zero_tail(bytes)));
    // Damage anywhere in the last frame.
    for at in last..full.len() {
        let mut bytes = full.clone();
        bytes[at] ^= 0x10;
        images.push((format!("damaged byte {at}"), with_zero_tail(bytes)));
    }

    for (what, bytes) in images {
        std::fs::write(&path, &bytes).unwrap();
        let (j, recs) = open(&path);
        assert_eq!(recs, owned(&THREE[..2]), "{what}");
        // Truncated at the end of the valid prefix, preallocated space included...
        assert_eq!(file_len(&path), last as u64, "{what}");
        // ...and the next write preallocates again.
        assert_eq!(j.append(b"new third").unwrap(), 2);
        j.sync(2).unwrap();
        assert_eq!(file_len(&path), PREALLOC_CHUNK, "{what}");
        drop(j);
        assert_eq!(open(&path).1[2], b"new third", "{what}");
    }
}

#[test]
fn damage_is_detected_in_front_of_a_preallocated_tail() {
    // Records 0 and 1 synced one by one, 2, 3, 4 by a single round; the file as
    // written, zero tail included.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let records = FIVE_RECORDS;
    let full = write_two_synced_then_three_in_one_round(&path);
    let logical = logical_bytes(&path).len();
    assert_eq!(full.len() as u64, PREALLOC_CHUNK);
    let offsets = frame_offsets(&records);

    // Damage to a record that a later write proves durable: corruption, and
    // nothing is dropped, the preallocated space included.
    for at in offsets[0]..offsets[2] {
        let mut bytes = full.clone();
        bytes[at] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        match open_err(&path) {
            StorageError::Corrupt(msg) => assert!(msg.contains("refusing to drop"), "{msg}"),
            other => panic!("byte {at}: {other:?}"),
        }
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "byte {at}");
    }

    // Damage inside the last round: a torn tail, dropped from there.
    let mut bytes = full.clone();
    bytes[offsets[3] + FRAME_HEADER_LEN] ^= 0xFF;
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(open(&path).1, owned(&records[..3]));
    assert_eq!(file_len(&path), offsets[3] as u64);

    // A stray non-zero byte in the preallocated space: not preallocated space
    // any more, but no record is damaged either. Truncated at the logical end.
    let mut bytes = full.clone();
    bytes[logical + 1000] = 0xAB;
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(open(&path).1, owned(&records));
    assert_eq!(file_len(&path), logical as u64);

    // Acknowledged records lost (zeroed) while a later round survived in the
    // preallocated space: that is not preallocated space but corruption.
    let mut bytes = full.clone();
    bytes[offsets[2]..logical].fill(0);
    let later = encode_frame(b"seven", 7, 6);
    bytes[logical + 100..logical + 100 + later.len()].copy_from_slice(&later);
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(open_err(&path), StorageError::Corrupt(m) if m.contains("intact record 7")));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn concurrent_commits_cross_many_extension_boundaries() {
    // Not a power of two, and smaller than some records.
    const CHUNK: u64 = 1000;
    const THREADS: usize = 4;
    const PER_THREAD: usize = 150;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let (j, _) = FileJournal::open_with_chunk(&path, CHUNK).unwrap();
    let ledger_lock = Mutex::new(());
    let barrier = Barrier::new(THREADS);
    let record = |t: usize, n: usize| {
        let pad = if n % 37 == 5 {
            2500
        } else {
            20 + (n * 7 + t * 13) % 300
        };
        format!("thread {t} commit {n} {}", "x".repeat(pad)).into_bytes()
    };

    let appended: Vec<Vec<(u64, Vec<u8>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (j, ledger_lock, barrier) = (&j, &ledger_lock, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    (0..PER_THREAD)
                        .map(|n| {
                            let record = record(t, n);
                            let index = {
                                let _commit = ledger_lock.lock();
                                j.append(&record).unwrap()
                            };
                            j.sync(index).unwrap();
                            assert_eq!(j.read(index).unwrap(), record);
                            (index, record)
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let total = THREADS * PER_THREAD;
    let mut expected = vec![Vec::new(); total];
    for (index, record) in appended.into_iter().flatten() {
        expected[index as usize] = record;
    }
    let logical = FILE_HEADER_LEN + expected.iter().map(|r| frame_len(r.len())).sum::<usize>();
    let extensions = j.round_counts().1;
    eprintln!(
        "{total} commits, {} rounds, {extensions} extensions",
        j.round_counts().0
    );
    // An extension ends at most a chunk and a half beyond the batch that needed
    // it, and a batch holds at most one record per thread (each waits for its
    // record to be durable before appending the next).
    let max_batch = THREADS * expected.iter().map(|r| frame_len(r.len())).max().unwrap();
    let max_extension = max_batch + CHUNK as usize * 3 / 2;
    assert!(
        extensions as usize >= logical / max_extension,
        "{extensions}"
    );
    assert!(extensions >= 10, "{extensions}");
    assert_eq!(file_len(&path) % CHUNK, 0);
    assert!(file_len(&path) >= logical as u64);
    assert_eq!(logical_bytes(&path).len(), logical);
    for (i, r) in expected.iter().enumerate() {
        assert_eq!(&j.read(i as u64).unwrap(), r);
    }
    drop(j);

    // Recovery keeps the preallocated tail; later commits go on from the logical end.
    let (j, recovered) = FileJournal::open_with_chunk(&path, CHUNK).unwrap();
    assert!(recovered == expected, "recovered records differ");
    for n in 0..20 {
        let r = record(9, n);
        assert_eq!(j.append(&r).unwrap(), expected.len() as u64);
        j.sync(expected.len() as u64).unwrap();
        expected.push(r);
    }
    assert!(j.round_counts().1 > 0);
    drop(j);
    let (_, recovered) = FileJournal::open_with_chunk(&path, CHUNK).unwrap();
    assert!(
        recovered == expected,
        "recovered records differ after reopening"
    );
    assert_eq!(
        logical_bytes(&path).len(),
        FILE_HEADER_LEN + expected.iter().map(|r| frame_len(r.len())).sum::<usize>()
    );
}

#[test]
fn extension_failure_poisons_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let (j, _) = FileJournal::open_with_chunk(&path, 256).unwrap();
    j.append(b"durable").unwrap();
    j.sync(0).unwrap();
    assert_eq!(file_len(&path), 256);
    // Does not fit into the preallocated space.
    j.append(&[7; 300]).unwrap();
    j.inject_fault(Fault::Extend);
    assert!(matches!(j.sync(1), Err(StorageError::Io(_))));
    assert!(matches!(j.sync(1), Err(StorageError::Poisoned(_))));
    assert!(matches!(j.append(b"more"), Err(StorageError::Poisoned(_))));
    assert_eq!(j.read(1).unwrap(), [7; 300]);
    assert_eq!(j.round_counts().1, 1);
    drop(j);

    // The batch was never written; the zeros of the failed extension are
    // preallocated space like any other.
    let (j, recs) = open(&path);
    assert_eq!(recs, vec![b"durable".to_vec()]);
    assert_eq!(j.append(b"next").unwrap(), 1);
    j.sync(1).unwrap();
    drop(j);
    assert_eq!(open(&path).1, vec![b"durable".to_vec(), b"next".to_vec()]);
}

/// Polls `d` once without a runtime: whether it has completed, and how.
fn poll_once(d: &mut Durability) -> Option<Result<(), StorageError>> {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::Pin::new(d).poll(&mut cx) {
        std::task::Poll::Ready(r) => Some(r),
        std::task::Poll::Pending => None,
    }
}

#[test]
fn request_sync_does_not_block_and_completes_in_index_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let (j, _) = open(&path);
    const N: u64 = 400;
    let mut waiting: Vec<Option<Durability>> = Vec::new();
    {
        // Nothing can become durable while the flusher is held: every
        // notification is pending, and none of them blocked.
        let _held = j.hold_rounds();
        for i in 0..N {
            assert_eq!(j.append(format!("record {i}").as_bytes()).unwrap(), i);
            let mut d = j.request_sync(i);
            assert!(!d.is_complete());
            assert!(poll_once(&mut d).is_none());
            waiting.push(Some(d));
        }
        // Out of range, even while held.
        assert!(matches!(
            j.request_sync(N).wait(),
            Err(StorageError::OutOfRange { index, len }) if index == N && len == N
        ));
        assert_eq!(j.durable_len(), 0);
    }
    // Completions must always form a prefix: sweeping from the highest index
    // down, once one is seen complete every lower one must be complete too
    // (it completed earlier, and is looked at later).
    let started = Instant::now();
    while waiting.iter().any(Option::is_some) {
        let mut seen_complete = false;
        for (i, slot) in waiting.iter_mut().enumerate().rev() {
            let Some(d) = slot else { continue };
            match poll_once(d) {
                Some(r) => {
                    r.unwrap();
                    assert!(j.durable_len() > i as u64);
                    seen_complete = true;
                    *slot = None;
                }
                None => assert!(!seen_complete, "record {i} acknowledged after a later one"),
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not durable in time"
        );
        std::thread::yield_now();
    }
    // Everything appended before the round started went into it.
    assert_eq!(j.round_counts().0, 1);
    assert!(j.request_sync(N - 1).is_complete());
    drop(j);
    assert_eq!(open(&path).1.len(), N as usize);
}

#[test]
fn an_injected_fsync_failure_reaches_every_waiting_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let j = write_synced(&path, &[b"durable"]);
    let waiting: Vec<Durability> = {
        let _held = j.hold_rounds();
        j.inject_fault(Fault::Sync);
        (1..=16u64)
            .map(|i| {
                assert_eq!(j.append(&[i as u8]).unwrap(), i);
                j.request_sync(i)
            })
            .collect()
    };
    // Each waits on a thread of its own, as blocking committers do.
    let results: Vec<Result<(), StorageError>> = std::thread::scope(|s| {
        let handles: Vec<_> = waiting
            .into_iter()
            .map(|d| s.spawn(move || d.wait()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // The lowest record's committer gets the I/O error, the others find the store poisoned.
    assert!(
        matches!(&results[0], Err(StorageError::Io(e)) if e.to_string().contains("injected Sync failure")),
        "{results:?}"
    );
    for r in &results[1..] {
        assert!(
            matches!(r, Err(StorageError::Poisoned(m)) if m.contains("injected Sync failure")),
            "{r:?}"
        );
    }
    assert_eq!(j.durable_len(), 1);
    assert!(j.failure().unwrap().contains("injected Sync failure"));
    // Later requests fail at once; what was durable before still is.
    assert!(matches!(
        j.request_sync(3).wait(),
        Err(StorageError::Poisoned(_))
    ));
    assert!(matches!(j.append(b"more"), Err(StorageError::Poisoned(_))));
    j.request_sync(0).wait().unwrap();
}

#[test]
fn dropping_the_journal_finishes_requested_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let (j, _) = open(&path);
    let d = {
        let _held = j.hold_rounds();
        j.append(b"asked for").unwrap();
        j.request_sync(0)
    };
    drop(j);
    d.wait().unwrap();
    assert_eq!(open(&path).1, vec![b"asked for".to_vec()]);
}

#[test]
fn awaiting_durability_in_an_async_task() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let (j, _) = open(&path);
    let j = Arc::new(j);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // On a single-threaded runtime, awaiting must not block its only thread: 8
    // tasks wait at once and all complete.
    let indexes = rt.block_on(async {
        let tasks: Vec<_> = (0..8u8)
            .map(|i| {
                let j = Arc::clone(&j);
                tokio::task::spawn(async move {
                    let index = j.append(&[i]).unwrap();
                    j.request_sync(index).await.unwrap();
                    index
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    assert!(indexes.iter().all(|&i| i < j.durable_len()));
}

#[test]
fn blocking_and_async_waiters_share_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j");
    let (j, _) = open(&path);
    // An idle journal: a blocking sync runs the round on the caller's thread.
    j.append(b"zero").unwrap();
    j.sync(0).unwrap();
    assert_eq!((j.durable_len(), j.round_counts().0), (1, 1));

    j.inject_fault(Fault::Sync);
    let (blocking, awaited) = std::thread::scope(|s| {
        let held = j.hold_rounds();
        // Whichever runs the round (this blocking caller, or the flusher because the
        // async request below came first), it carries both records and fails: the
        // lowest waiter registered when it fails gets the I/O error, the other finds the
        // store poisoned. Which one that is depends on whether the blocking thread has
        // reached `sync` before the round ran.
        let blocking = s.spawn(|| {
            assert_eq!(j.append(b"one").unwrap(), 1);
            j.sync(1)
        });
        while j.len() < 2 {
            std::thread::yield_now();
        }
        assert_eq!(j.append(b"two").unwrap(), 2);
        let awaited = j.request_sync(2);
        drop(held);
        (blocking.join().unwrap(), awaited.wait())
    });
    let io = |r: &Result<(), StorageError>| matches!(r, Err(StorageError::Io(_)));
    let poisoned = |r: &Result<(), StorageError>| matches!(r, Err(StorageError::Poisoned(_)));
    assert!(
        (io(&blocking) && poisoned(&awaited)) || (poisoned(&blocking) && io(&awaited)),
        "one waiter gets the I/O error, the other the poisoned store: {blocking:?}, {awaited:?}"
    );
    assert_eq!(j.durable_len(), 1);
}
