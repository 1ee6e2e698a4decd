//! Flags more than one subcommand takes.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use diplomacy::server::StoreOptions;
use diplomacy::store::WriterOptions;

#[derive(Args)]
pub struct DataArgs {
    /// Directory of the database.
    #[arg(long, env = "DIPLOMACY_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Page cache size in MiB.
    #[arg(long, env = "DIPLOMACY_CACHE_MB", default_value_t = 64)]
    pub cache_mb: u64,
    /// Memory for the pair facts relation queries read, in MiB (filled at
    /// start, the busiest pairs first; least recently used pairs are dropped
    /// past it, and reloaded when asked).
    #[arg(long, env = "DIPLOMACY_RELATION_CACHE_MB", default_value_t = 256)]
    pub relation_cache_mb: usize,
    /// Changes the change log keeps for `WatchChanges`.
    #[arg(long, env = "DIPLOMACY_CHANGE_RETENTION", default_value_t = 100_000)]
    pub change_retention: u64,
}

impl DataArgs {
    /// The store these flags describe; `seed` loads the seed dataset into a
    /// new database.
    pub fn store_options(&self, seed: bool) -> StoreOptions {
        StoreOptions {
            data_dir: self.data_dir.clone(),
            seed,
            cache_bytes: self.cache_mb * 1024 * 1024,
            writer: WriterOptions {
                change_retention: self.change_retention,
                relation_cache_bytes: self.relation_cache_mb << 20,
                ..WriterOptions::default()
            },
            lock_wait: Duration::ZERO,
        }
    }
}

/// How a client subcommand reaches a running server.
#[derive(Args)]
pub struct ServerArgs {
    /// A running server (e.g. `http://127.0.0.1:50051`) instead of a data
    /// dir.
    #[arg(long, env = "DIPLOMACY_SERVER")]
    pub server: Option<String>,
    /// Bearer token for `--server` (writes need a read-write token; reads
    /// one where the server requires it).
    #[arg(long, env = "DIPLOMACY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}
