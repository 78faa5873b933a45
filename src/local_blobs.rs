//! The self-hosted stand-in for the host's blob bindings: blobs are files in a local folder.
//!
//! A binding path is `<container>/<name>`; the `snippets` container is `SNIPPETS_DIR`. Paths
//! come from validated arguments, but the store checks again that nothing can step outside
//! its folder, since a mistake in one tool's schema must not expose the disk.

use std::io;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone)]
pub struct LocalBlobs {
    snippets_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob path `{0}` is not a plain `<container>/<name>` path")]
    BadPath(String),
    #[error(
        "no local folder is configured for blob container `{0}` (only `snippets`, via SNIPPETS_DIR)"
    )]
    UnknownContainer(String),
    #[error("blob `{path}`: {source}")]
    Io { path: String, source: io::Error },
}

impl LocalBlobs {
    pub fn new(snippets_dir: impl Into<PathBuf>) -> Self {
        Self {
            snippets_dir: snippets_dir.into(),
        }
    }

    pub fn snippets_dir(&self) -> &Path {
        &self.snippets_dir
    }

    fn file_for(&self, blob_path: &str) -> Result<PathBuf, BlobError> {
        let bad = || BlobError::BadPath(blob_path.to_owned());
        let (container, name) = blob_path.split_once('/').ok_or_else(bad)?;
        if name.is_empty()
            || name.contains('\\')
            || name.contains('\0')
            || !Path::new(name)
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(bad());
        }
        if container != "snippets" {
            return Err(BlobError::UnknownContainer(container.to_owned()));
        }
        Ok(self.snippets_dir.join(name))
    }

    /// The blob's bytes, or `None` when it does not exist.
    pub async fn read(&self, blob_path: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let file = self.file_for(blob_path)?;
        match tokio::fs::read(&file).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(BlobError::Io {
                path: blob_path.to_owned(),
                source,
            }),
        }
    }

    /// Writes through a temporary file and a rename, so a reader never sees half a blob.
    pub async fn write(&self, blob_path: &str, bytes: &[u8]) -> Result<(), BlobError> {
        let file = self.file_for(blob_path)?;
        let io_err = |source| BlobError::Io {
            path: blob_path.to_owned(),
            source,
        };
        if let Some(parent) = file.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io_err)?;
        }
        let tmp = file.with_extension(format!("tmp-{}", std::process::id()));
        tokio::fs::write(&tmp, bytes).await.map_err(io_err)?;
        tokio::fs::rename(&tmp, &file).await.map_err(io_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trips_and_reports_missing() {
        let dir = std::env::temp_dir().join(format!("blobs-{}", std::process::id()));
        let blobs = LocalBlobs::new(&dir);
        assert!(matches!(blobs.read("snippets/a.json").await, Ok(None)));
        assert!(blobs.write("snippets/a.json", b"hi").await.is_ok());
        assert_eq!(
            blobs.read("snippets/a.json").await.ok().flatten(),
            Some(b"hi".to_vec())
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn refuses_paths_that_leave_the_folder() {
        let blobs = LocalBlobs::new("/data");
        for path in [
            "snippets/../x.json",
            "snippets//etc/passwd",
            "snippets/",
            "snippets",
            "snippets/a\\b",
            "snippets/./a",
            "other/a.json",
        ] {
            assert!(blobs.file_for(path).is_err(), "{path}");
        }
        assert_eq!(
            blobs.file_for("snippets/a.b.json").ok(),
            Some(PathBuf::from("/data/a.b.json"))
        );
    }
}
