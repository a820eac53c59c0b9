//! Local folders, checked without touching them: whether a folder exists and can be written, or
//! — when it does not exist yet — whether it could be created (its nearest existing ancestor is a
//! writable folder). Used by `check` for `file://` stores and by `ocr-file` for its output, before
//! any work. Nothing is created; the answer comes from `access(2)`, which is what a write would
//! be allowed (root included, read-only mounts included).

use std::path::{Path, PathBuf};

/// Why a folder cannot be written or created.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("{path} is not a folder")]
    NotAFolder { path: PathBuf },
    #[error("{path} does not exist")]
    Missing { path: PathBuf },
    #[error("{path} is not writable")]
    NotWritable {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What [`writable_folder`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderState {
    /// The folder exists and is writable.
    Writable,
    /// The folder does not exist; it can be created under `ancestor` (an existing, writable
    /// folder).
    Creatable { ancestor: PathBuf },
}

/// Checks that `path` is a writable folder, or (with `may_create`) that it could be created.
/// Creates nothing.
pub fn writable_folder(path: &Path, may_create: bool) -> Result<FolderState, FolderError> {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    if path.exists() {
        check_dir(path)?;
        return Ok(FolderState::Writable);
    }
    if !may_create {
        return Err(FolderError::Missing {
            path: path.to_path_buf(),
        });
    }
    let ancestor = path
        .ancestors()
        .skip(1)
        .map(|a| {
            if a.as_os_str().is_empty() {
                Path::new(".")
            } else {
                a
            }
        })
        .find(|a| a.exists())
        .unwrap_or(Path::new("/"));
    check_dir(ancestor)?;
    Ok(FolderState::Creatable {
        ancestor: ancestor.to_path_buf(),
    })
}

fn check_dir(path: &Path) -> Result<(), FolderError> {
    if !path.is_dir() {
        return Err(FolderError::NotAFolder {
            path: path.to_path_buf(),
        });
    }
    use rustix::fs::{access, Access};
    access(path, Access::WRITE_OK | Access::EXEC_OK).map_err(|e| FolderError::NotWritable {
        path: path.to_path_buf(),
        source: e.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_checked_without_being_created() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            writable_folder(dir.path(), false).unwrap(),
            FolderState::Writable
        );
        let deep = dir.path().join("a/b/c");
        assert_eq!(
            writable_folder(&deep, true).unwrap(),
            FolderState::Creatable {
                ancestor: dir.path().to_path_buf()
            }
        );
        assert!(!dir.path().join("a").exists());
        let e = writable_folder(&deep, false).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        let file = dir.path().join("f");
        std::fs::write(&file, "x").unwrap();
        let e = writable_folder(&file.join("sub"), true).unwrap_err();
        assert!(e.to_string().ends_with("f is not a folder"), "{e}");
        assert_eq!(
            writable_folder(Path::new(""), false).unwrap(),
            FolderState::Writable
        );
    }
}
