//! Disk space reserved ahead of the database file, so that writing through MDBX's memory map
//! (WRITEMAP) can never meet a full disk.
//!
//! MDBX grows its file with a sparse `ftruncate`. Under WRITEMAP a commit writes its pages by
//! storing to the map; if the filesystem has no block left for a page that lands in a hole, the
//! kernel can only answer the store with SIGBUS, which ends the process instead of failing the
//! commit. Before every write transaction [`Reserve::ensure`] allocates (`fallocate`, file size
//! kept) every block of the file and enough beyond its end for the transaction, so the
//! transaction's stores land on blocks the filesystem already gave the file. If the disk cannot
//! give them, the transaction is refused with an error before it starts.
//!
//! Where `fallocate` is unavailable (another OS, or a filesystem without it), the store opens
//! MDBX without WRITEMAP and writes pages with `pwrite`, which fails cleanly on a full disk.

use crate::StorageError;
use std::path::Path;

/// MDBX's growth step: the file grows by multiples of it.
pub(crate) const GROWTH_STEP: u64 = 32 << 20;

/// Space kept allocated beyond the end of the file, whatever the transaction: two growth steps,
/// more than any block the gas limit allows can write.
pub(crate) const MIN_AHEAD: u64 = 2 * GROWTH_STEP;

/// Bytes to reserve for a write transaction that writes `keys` entries: a generous bound of
/// two new pages each (the leaf and a split), on top of [`MIN_AHEAD`].
pub(crate) fn ahead_for(keys: usize) -> u64 {
    MIN_AHEAD.saturating_add((keys as u64).saturating_mul(2 * 4096))
}

/// The database file, opened to keep blocks allocated ahead of MDBX's writes.
#[derive(Debug)]
pub(crate) struct Reserve {
    #[cfg(target_os = "linux")]
    file: std::fs::File,
}

impl Reserve {
    /// Whether the filesystem of `dir` can preallocate a file's blocks (checked on a scratch
    /// file, which is removed again).
    pub(crate) fn supported(dir: &Path) -> bool {
        #[cfg(target_os = "linux")]
        {
            let probe = dir.join(".scion-fallocate-probe");
            let ok = std::fs::File::create(&probe)
                .map(|f| linux::fallocate_keep_size(&f, 1 << 16).is_ok())
                .unwrap_or(false);
            let _ = std::fs::remove_file(&probe);
            ok
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = dir;
            false
        }
    }

    /// Opens MDBX's data file in `dir` (MDBX must have created it).
    pub(crate) fn open(dir: &Path) -> Result<Self, StorageError> {
        #[cfg(target_os = "linux")]
        {
            let path = dir.join("mdbx.dat");
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| StorageError::Io(format!("{}: {e}", path.display())))?;
            Ok(Self { file })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = dir;
            Err(StorageError::Io("preallocation needs Linux".into()))
        }
    }

    /// Makes sure every block of the file, and `ahead` bytes beyond its end, are allocated.
    /// Costs one `fstat` when they already are.
    pub(crate) fn ensure(&self, ahead: u64) -> Result<(), StorageError> {
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::MetadataExt;
            let meta = self
                .file
                .metadata()
                .map_err(|e| StorageError::Io(format!("database file: {e}")))?;
            let want = meta.len().saturating_add(ahead);
            if meta.blocks().saturating_mul(512) >= want {
                return Ok(());
            }
            // Reserve MIN_AHEAD more than asked, so that small transactions pay for a
            // fallocate only once per MIN_AHEAD of growth.
            let target = want.saturating_add(MIN_AHEAD);
            linux::fallocate_keep_size(&self.file, target).map_err(|e| {
                StorageError::Io(format!(
                    "cannot reserve disk space for the database ({} MiB beyond its {} MiB): {e}; \
                     nothing was written",
                    (target - meta.len()) >> 20,
                    meta.len() >> 20
                ))
            })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = ahead;
            Ok(())
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use rustix::fs::{fallocate, FallocateFlags};

    /// Allocates the file's blocks over `[0, len)` without changing its size.
    pub(super) fn fallocate_keep_size(file: &std::fs::File, len: u64) -> std::io::Result<()> {
        Ok(fallocate(file, FallocateFlags::KEEP_SIZE, 0, len)?)
    }
}
