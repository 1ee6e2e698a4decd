//! The server under measurement: the real `diplomacy` binary started as a
//! child process, known to be ready by its ready file (never by its log
//! text), and stopped with SIGTERM as an orchestrator would, so that it
//! checkpoints its database on the way out.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diplomacy::server::ready::{wait_for_child, Ready, Warming};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The `diplomacy` binary to measure: `explicit`, or the one built beside
/// this program (`cargo build` puts both in `target/<profile>/`).
pub fn server_binary(explicit: Option<&Path>) -> Result<PathBuf, Error> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => std::env::current_exe()?
            .parent()
            .ok_or("this program's path has no folder")?
            .join("diplomacy"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "no diplomacy server binary at {}: build it (`cargo build --release` at the top \
             of the repository) or name it with --server-bin",
            path.display()
        )
        .into())
    }
}

/// How to start the server: the binary, the data it serves and its flags.
pub struct Launch {
    pub binary: PathBuf,
    pub data_dir: PathBuf,
    pub cache_mb: u64,
    pub relation_cache_mb: usize,
    /// More flags, given as they are (`--server-arg`).
    pub extra: Vec<String>,
}

/// A started server, stopped with SIGTERM when dropped if not before.
pub struct ServerProcess {
    child: Child,
    pub ready: Ready,
    pub started: Instant,
    ready_path: PathBuf,
    log_path: PathBuf,
    _files: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts the server with the read-write `token` (for the writes) and
    /// waits (up to `limit`) for its ready file.
    pub async fn start(launch: &Launch, token: &str, limit: Duration) -> Result<Self, Error> {
        let mut command = Command::new(&launch.binary);
        command
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--drain-delay-secs",
                "0",
            ])
            .arg("--data-dir")
            .arg(&launch.data_dir)
            .args(["--cache-mb", &launch.cache_mb.to_string()])
            .args(["--relation-cache-mb", &launch.relation_cache_mb.to_string()])
            .args(&launch.extra)
            .env("DIPLOMACY_TOKEN", token)
            .env("RUST_LOG", "warn,diplomacy=info")
            .env("DIPLOMACY_MAX_CONCURRENT_CALLS", "100000");
        Self::spawn(command, limit).await
    }

    /// Starts the empty tonic server (`empty`) as a process of this
    /// program's, and waits for its ready file.
    pub async fn empty_tonic(limit: Duration) -> Result<Self, Error> {
        let mut command = Command::new(std::env::current_exe()?);
        command.arg("empty-server");
        Self::spawn(command, limit).await
    }

    /// Runs `command` with `--ready-file` and its log in a temporary folder,
    /// and waits (up to `limit`) for the file.
    async fn spawn(mut command: Command, limit: Duration) -> Result<Self, Error> {
        let files = tempfile::tempdir()?;
        let ready_path = files.path().join("ready.json");
        let log_path = files.path().join("server.log");
        let started = Instant::now();
        let mut child = command
            .arg("--ready-file")
            .arg(&ready_path)
            .stderr(std::fs::File::create(&log_path)?)
            .stdout(Stdio::null())
            .spawn()?;
        match tokio::task::block_in_place(|| wait_for_child(&ready_path, &mut child, limit)) {
            Ok(ready) => Ok(Self {
                child,
                ready,
                started,
                ready_path,
                log_path,
                _files: files,
            }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "{e}; its log:\n{}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                )
                .into())
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until the server has filled its relation cache (or given up on
    /// it): measured as a server that has been up a while. Returns the time
    /// from start.
    pub async fn wait_warm(&self, limit: Duration) -> Result<Duration, Error> {
        let deadline = Instant::now() + limit;
        loop {
            match Ready::read(&self.ready_path)? {
                Some(ready) if ready.relation_cache != Warming::Warming => {
                    return Ok(self.started.elapsed())
                }
                Some(_) => {}
                None => return Err("the server stopped before its relation cache was warm".into()),
            }
            if Instant::now() > deadline {
                return Err(format!("the relation cache was not warm within {limit:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server with SIGTERM (killed if it has not stopped within a
    /// minute) and returns what it logged about its checkpoint.
    pub async fn stop(mut self) -> Vec<String> {
        self.terminate().await;
        std::fs::read_to_string(&self.log_path)
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains("checkpoint"))
            .map(str::to_string)
            .collect()
    }

    async fn terminate(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let pid = nix::unistd::Pid::from_raw(pid);
            if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).is_ok() {
                let deadline = Instant::now() + Duration::from_secs(60);
                while Instant::now() < deadline {
                    if let Ok(Some(_)) = self.child.try_wait() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
