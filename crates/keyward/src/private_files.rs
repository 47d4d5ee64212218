//! Files only keyward's own user may read (PRODUCT.md §8): the data directory is 0700, and
//! the database, its WAL and shared-memory files and the pepper are 0600.
//!
//! The pepper turns a stolen database into a useless one, and the database holds every key
//! hash, so neither may be readable by other local users. New files are created with the
//! private mode from the start, never created open and narrowed afterwards, which would
//! leave a window. Files of an install made before this rule are narrowed at start-up, with
//! a log line, because the operator should know they were exposed.

use std::path::Path;

/// The data directory: only its owner may list or enter it.
pub const DIR_MODE: u32 = 0o700;
/// The database, its WAL and shared-memory files, and the pepper.
pub const FILE_MODE: u32 = 0o600;

/// Creates `path` and any missing parents with mode 0700, then narrows `path` itself if it
/// already existed with a wider mode.
pub fn create_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(path)?;
    tighten(path, DIR_MODE);
    Ok(())
}

/// Creates an empty file with mode 0600 unless it exists. SQLite accepts an empty file as
/// an empty database, and gives the WAL and shared-memory files it creates later the mode
/// of the database file, so creating the file here is what makes all three private.
pub fn create_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    match options.open(path) {
        Ok(_) => Ok(()),
        // Another process (a second node starting at the same time) made it first.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Narrows an existing file or directory to at most `max_mode`, logging the change. A path
/// that does not exist is left alone; a failure (e.g. a file owned by another user) is
/// logged, since refusing to start over it would help nobody.
pub fn tighten(path: &Path, max_mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        let old = meta.permissions().mode() & 0o777;
        let new = old & max_mode;
        if old == new {
            return;
        }
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(new)) {
            Ok(()) => tracing::warn!(
                path = %path.display(),
                "tightened permissions of {} from {old:o} to {new:o}: other local users could read it",
                path.display()
            ),
            Err(e) => tracing::warn!(
                path = %path.display(),
                error = %e,
                "cannot tighten permissions of {} ({old:o}); make it {max_mode:o} yourself",
                path.display()
            ),
        }
    }
    #[cfg(not(unix))]
    let _ = (path, max_mode);
}

/// Warns about a file keyward reads but does not own, such as a configured `pepper_file`
/// that a secrets manager mounted: narrowing it is the operator's call.
pub fn warn_if_open(path: &Path, what: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & !FILE_MODE != 0 {
                tracing::warn!(
                    path = %path.display(),
                    "{what} {} has mode {mode:o}: other local users can read it; make it 600",
                    path.display()
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn tighten_only_removes_bits_and_never_adds_any() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444)).unwrap();
        tighten(&file, FILE_MODE);
        assert_eq!(mode(&file), 0o400, "a read-only file stays read-only");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o664)).unwrap();
        tighten(&file, FILE_MODE);
        assert_eq!(mode(&file), 0o600);
        tighten(&dir.path().join("missing"), FILE_MODE);
    }

    #[test]
    fn created_directories_and_files_are_private_from_the_start() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&dir), DIR_MODE);
        let file = dir.join("db");
        create_file(&file).unwrap();
        create_file(&file).unwrap();
        assert_eq!(mode(&file), FILE_MODE);
    }
}
