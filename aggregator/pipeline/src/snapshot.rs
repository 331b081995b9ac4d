//! Durable snapshots of a partition's engine together with the offset of the
//! next record to read: the unit of "no loss, no double counting". A snapshot
//! is written to a temporary file, synced and renamed over the previous one,
//! so a crash at any moment leaves either the old or the new one whole.
//!
//! A file is the magic line, the xxh3-64 checksum of the body (8 bytes,
//! little-endian) and the body (postcard). A file whose checksum does not
//! match (a flipped bit, a torn sector) is never trusted: reading it is an
//! error, and its partition is rebuilt from the log. The same bytes are
//! what the changelog topic stores (`changelog.rs`).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

const MAGIC: &[u8; 8] = b"WBSNAP3\n";

/// A snapshot file's contents.
#[derive(Debug, Serialize, Deserialize)]
pub struct Stored {
    /// Offset of the next record to read: everything before it is in `engine`.
    pub next_offset: i64,
    /// Unix ms when it was taken.
    pub taken_ms: i64,
    /// `aggregator::Engine::to_bytes`.
    pub engine: Vec<u8>,
    /// The partition's counters, so they survive restarts too.
    pub counters: Vec<(String, u64)>,
    /// Ranges that could not be rebuilt (`architecture.md`, "Never silently
    /// partial"): they stay marked across restarts and failovers.
    pub incomplete: Vec<super::IncompleteRange>,
}

/// The bytes of a snapshot: magic, checksum, body.
pub fn encode(stored: &Stored) -> io::Result<Vec<u8>> {
    let body = postcard::to_stdvec(stored).map_err(io::Error::other)?;
    let mut bytes = Vec::with_capacity(MAGIC.len() + 8 + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&xxh3_64(&body).to_le_bytes());
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

/// Checks and decodes [`encode`]'s bytes; `what` names them in errors.
pub fn decode(bytes: &[u8], what: &str) -> io::Result<Stored> {
    let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidData, why);
    let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(|| {
        invalid(format!(
            "{what} is not a wallboard snapshot of this version"
        ))
    })?;
    let (sum, body) = rest
        .split_first_chunk::<8>()
        .ok_or_else(|| invalid(format!("{what}: truncated")))?;
    let (stored, computed) = (u64::from_le_bytes(*sum), xxh3_64(body));
    if stored != computed {
        return Err(invalid(format!(
            "{what}: checksum mismatch (stored {stored:016x}, computed {computed:016x}): corrupt"
        )));
    }
    postcard::from_bytes(body).map_err(|e| io::Error::other(format!("{what}: {e}")))
}

/// Snapshots of one topic's partitions in a directory.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    dir: PathBuf,
    topic: String,
}

impl SnapshotStore {
    /// Snapshots of `topic`'s partitions, stored under `dir`.
    pub fn new(dir: impl Into<PathBuf>, topic: &str) -> Self {
        SnapshotStore {
            dir: dir.into(),
            topic: topic.to_owned(),
        }
    }

    fn path(&self, partition: i32) -> PathBuf {
        self.dir
            .join(format!("{}-{partition}.snapshot", self.topic))
    }

    /// Writes the snapshot of `partition` durably.
    pub fn write(&self, partition: i32, stored: &Stored) -> io::Result<()> {
        self.write_bytes(partition, &encode(stored)?)
    }

    /// Writes [`encode`]'s bytes of the snapshot of `partition` durably.
    pub fn write_bytes(&self, partition: i32, bytes: &[u8]) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let path = self.path(partition);
        let tmp = path.with_extension("tmp");
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)?;
        if let Some(dir) = path.parent() {
            // Make the rename itself durable.
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// The snapshot of `partition`, if there is a readable one.
    pub fn read(&self, partition: i32) -> io::Result<Option<Stored>> {
        read_file(&self.path(partition))
    }
}

fn read_file(path: &Path) -> io::Result<Option<Stored>> {
    match fs::read(path) {
        Ok(b) => decode(&b, &path.display().to_string()).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_replaces_atomically() {
        let dir = std::env::temp_dir().join(format!("wb-snap-{}", std::process::id()));
        let store = SnapshotStore::new(&dir, "t");
        assert!(store.read(0).unwrap().is_none());
        for offset in [5, 9] {
            store
                .write(
                    0,
                    &Stored {
                        next_offset: offset,
                        taken_ms: 1,
                        engine: vec![1, 2, 3],
                        counters: vec![("applied".into(), 4)],
                        incomplete: vec![],
                    },
                )
                .unwrap();
        }
        let s = store.read(0).unwrap().unwrap();
        assert_eq!((s.next_offset, s.engine.len()), (9, 3));
        fs::write(dir.join("t-1.snapshot"), b"garbage").unwrap();
        assert!(store.read(1).is_err());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn one_flipped_bit_anywhere_after_the_magic_is_caught() {
        let dir = std::env::temp_dir().join(format!("wb-snap-bit-{}", std::process::id()));
        let store = SnapshotStore::new(&dir, "t");
        let stored = Stored {
            next_offset: 72080,
            taken_ms: 1,
            engine: vec![7; 40],
            counters: vec![("applied".into(), 72080)],
            incomplete: vec![],
        };
        store.write(0, &stored).unwrap();
        let path = dir.join("t-0.snapshot");
        let good = fs::read(&path).unwrap();
        for byte in MAGIC.len()..good.len() {
            let mut bad = good.clone();
            bad[byte] ^= 1 << (byte % 8);
            fs::write(&path, &bad).unwrap();
            let err = store.read(0).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "byte {byte}");
        }
        fs::remove_dir_all(dir).unwrap();
    }
}
