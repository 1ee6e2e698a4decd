//! The readiness contract: `serve --ready-file PATH` writes one line of JSON
//! once the listeners are bound and health is `SERVING`, so that the load
//! generator, the tests and the client suites wait for a file rather than
//! read log text (whose wording is free to change).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What the ready file holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    /// The gRPC (and gRPC-Web) address, with the port actually bound.
    pub grpc: SocketAddr,
    /// The admin HTTP address (`/metrics`), when one was asked for.
    pub admin: Option<SocketAddr>,
    /// The server's process id.
    pub pid: u32,
    /// Whether the relation cache is still being filled at start (calls are
    /// already answered meanwhile, from the database where a pair is not in
    /// memory yet). The file is written again when this changes.
    pub relation_cache: Warming,
}

/// Where filling the relation cache at start stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Warming {
    /// Being filled, the busiest pairs first.
    Warming,
    /// Filled up to its budget, or with every pair.
    Warm,
    /// Filling failed (logged); pairs load on first use.
    Failed,
    /// The server began draining before it was filled.
    Stopped,
}

impl Ready {
    /// Writes `self` to `path` atomically: to a temporary file beside it,
    /// then renamed over it, so that a reader never sees half a line.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let line = serde_json::to_string(self).map_err(std::io::Error::other)?;
        let temporary = temporary_path(path);
        let mut file = std::fs::File::create(&temporary)?;
        writeln!(file, "{line}")?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, path)
    }

    /// Reads a ready file; `None` while it does not exist yet.
    pub fn read(path: &Path) -> std::io::Result<Option<Self>> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(text.trim())
                .map(Some)
                .map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Waits until `child`, a server started with `--ready-file path`, has
/// written its ready file; an error if it exits first or `limit` passes
/// (the child is then left to its caller). A file naming another process
/// (left by one that was killed, before the child removed it) is not it.
pub fn wait_for_child(
    path: &Path,
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> Result<Ready, String> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        match Ready::read(path) {
            Ok(Some(ready)) if ready.pid == child.id() => return Ok(ready),
            Ok(_) => {}
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the server exited ({status}) before it was ready"));
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("the server was not ready within {limit:?}"));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A ready file the server keeps up to date, shared with the task that
/// fills the relation cache.
pub struct ReadyFile {
    path: PathBuf,
    /// None once removed: a late update must not bring the file back.
    ready: std::sync::Mutex<Option<Ready>>,
}

impl ReadyFile {
    /// Writes `ready` to `path` now.
    pub fn create(path: PathBuf, ready: Ready) -> std::io::Result<Self> {
        ready.write(&path)?;
        Ok(Self {
            path,
            ready: std::sync::Mutex::new(Some(ready)),
        })
    }

    /// Records where warming the relation cache stands.
    pub fn set_relation_cache(&self, state: Warming) {
        let Ok(mut guard) = self.ready.lock() else {
            return;
        };
        let Some(ready) = guard.as_mut() else {
            return;
        };
        ready.relation_cache = state;
        if let Err(e) = ready.write(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot update the ready file");
        }
    }

    /// Removes the file: the server is no longer ready (it drains or stops).
    pub fn remove(&self) {
        if let Ok(mut guard) = self.ready.lock() {
            *guard = None;
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ready_file_reads_back_what_was_written_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ready.json");
        assert_eq!(Ready::read(&path).expect("read"), None, "absent: not ready");
        let ready = Ready {
            grpc: "127.0.0.1:4000".parse().expect("address"),
            admin: None,
            pid: 42,
            relation_cache: Warming::Warming,
        };
        ready.write(&path).expect("write");
        assert_eq!(Ready::read(&path).expect("read"), Some(ready));
        let text = std::fs::read_to_string(&path).expect("text");
        assert_eq!(text.lines().count(), 1, "one line of JSON: {text}");
        assert!(!temporary_path(&path).exists());
        assert!(text.contains(r#""relation_cache":"warming""#), "{text}");
    }

    #[test]
    fn a_ready_file_left_by_another_process_is_not_taken_for_the_childs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ready.json");
        let stale = Ready {
            grpc: "127.0.0.1:4000".parse().expect("address"),
            admin: None,
            pid: u32::MAX,
            relation_cache: Warming::Warm,
        };
        stale.write(&path).expect("write");
        let mut child = std::process::Command::new("sleep")
            .arg("0.2")
            .spawn()
            .expect("spawn sleep");
        let error = wait_for_child(&path, &mut child, std::time::Duration::from_secs(10))
            .expect_err("a file naming another process is not the child's");
        assert!(error.contains("exited"), "{error}");
    }

    #[test]
    fn a_kept_ready_file_follows_the_relation_cache_and_is_removed_on_stop() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ready.json");
        let ready = Ready {
            grpc: "127.0.0.1:4000".parse().expect("address"),
            admin: Some("127.0.0.1:4001".parse().expect("address")),
            pid: 7,
            relation_cache: Warming::Warming,
        };
        let file = ReadyFile::create(path.clone(), ready.clone()).expect("create");
        file.set_relation_cache(Warming::Warm);
        let read = Ready::read(&path).expect("read").expect("present");
        assert_eq!(read.relation_cache, Warming::Warm);
        assert_eq!(read.admin, ready.admin);
        file.remove();
        file.set_relation_cache(Warming::Stopped);
        assert_eq!(Ready::read(&path).expect("read"), None, "removed for good");
    }
}
