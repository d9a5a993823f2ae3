//! An in-memory journal for tests and ephemeral ledgers.
//!
//! It honours the [`JournalStore`] contract except durability: nothing survives
//! the process, so `request_sync` only validates its argument and returns a
//! completed [`Durability`] (awaiting it never waits).

use parking_lot::RwLock;

use super::{Durability, JournalStore, StorageError, MAX_RECORD_LEN};

/// A journal held in a `Vec`; syncing is a no-op.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    records: RwLock<Vec<Vec<u8>>>,
}

impl MemoryJournal {
    /// Creates an empty journal.
    pub fn new() -> Self {
        Self::default()
    }
}

impl JournalStore for MemoryJournal {
    fn append(&self, record: &[u8]) -> Result<u64, StorageError> {
        // Same limit as the file journal, so a ledger tested in memory cannot
        // depend on records the file journal would refuse.
        if record.len() > MAX_RECORD_LEN {
            return Err(StorageError::RecordTooLarge {
                len: record.len(),
                max: MAX_RECORD_LEN,
            });
        }
        let mut records = self.records.write();
        records.push(record.to_vec());
        Ok(records.len() as u64 - 1)
    }

    fn request_sync(&self, index: u64) -> Durability {
        let len = self.len();
        Durability::ready(if index >= len {
            Err(StorageError::OutOfRange { index, len })
        } else {
            Ok(())
        })
    }

    fn read(&self, index: u64) -> Result<Vec<u8>, StorageError> {
        let records = self.records.read();
        usize::try_from(index)
            .ok()
            .and_then(|i| records.get(i))
            .cloned()
            .ok_or(StorageError::OutOfRange {
                index,
                len: records.len() as u64,
            })
    }

    fn len(&self) -> u64 {
        self.records.read().len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_read_sync() {
        let j = MemoryJournal::new();
        assert!(j.is_empty());
        assert_eq!(j.append(b"a").unwrap(), 0);
        assert_eq!(j.append(b"").unwrap(), 1);
        assert_eq!(j.append(b"ccc").unwrap(), 2);
        assert_eq!(j.len(), 3);
        assert_eq!(j.read(0).unwrap(), b"a");
        assert_eq!(j.read(1).unwrap(), b"");
        assert_eq!(j.read(2).unwrap(), b"ccc");
        j.sync(2).unwrap();
        assert!(j.request_sync(2).is_complete());
        assert!(matches!(
            j.read(3),
            Err(StorageError::OutOfRange { index: 3, len: 3 })
        ));
        assert!(matches!(
            j.sync(3),
            Err(StorageError::OutOfRange { index: 3, len: 3 })
        ));
    }
}
