//! Flags more than one subcommand takes.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use diplomacy::replica::{EtcdOptions, ReplicaOptions};
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

/// Where the records are when etcd holds them (the replicated mode), and
/// how to be let in.
#[derive(Args)]
pub struct EtcdArgs {
    /// etcd members (`http://host:2379` or `https://…`, comma-separated):
    /// etcd holds the records, and writes go through it. Without it the
    /// database in --data-dir is the truth (embedded mode).
    #[arg(long, env = "DIPLOMACY_ETCD_ENDPOINTS", value_delimiter = ',')]
    pub etcd_endpoints: Vec<String>,
    /// Where under etcd's keys the records live.
    #[arg(
        long,
        env = "DIPLOMACY_ETCD_PREFIX",
        default_value = "/diplomacy/",
        requires = "etcd_endpoints"
    )]
    pub etcd_prefix: String,
    /// The CA (PEM) that signed etcd's certificate, for https endpoints.
    #[arg(long, env = "DIPLOMACY_ETCD_CA", requires = "etcd_endpoints")]
    pub etcd_ca: Option<PathBuf>,
    /// A client certificate (PEM) for etcd, where it requires one.
    #[arg(long, env = "DIPLOMACY_ETCD_CERT", requires_all = ["etcd_key", "etcd_ca"])]
    pub etcd_cert: Option<PathBuf>,
    /// The client certificate's key (PEM).
    #[arg(long, env = "DIPLOMACY_ETCD_KEY", requires = "etcd_cert")]
    pub etcd_key: Option<PathBuf>,
    /// An etcd user, where etcd has authentication on; its password from
    /// --etcd-password-file or DIPLOMACY_ETCD_PASSWORD.
    #[arg(long, env = "DIPLOMACY_ETCD_USER", requires = "etcd_endpoints")]
    pub etcd_user: Option<String>,
    /// A file holding the etcd user's password (a trailing newline is not
    /// part of it).
    #[arg(long, env = "DIPLOMACY_ETCD_PASSWORD_FILE", requires = "etcd_user")]
    pub etcd_password_file: Option<PathBuf>,
}

impl EtcdArgs {
    pub fn is_set(&self) -> bool {
        !self.etcd_endpoints.is_empty()
    }

    /// The replica these flags describe; see `ReplicaOptions::builtin`.
    pub fn options(&self, builtin: Option<bool>) -> Result<ReplicaOptions, String> {
        let password = match &self.etcd_password_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| {
                        format!("--etcd-password-file: cannot read {}: {e}", path.display())
                    })?
                    .trim_end_matches(['\r', '\n'])
                    .to_string(),
            ),
            // Never a flag: a password on the command line shows in `ps`.
            None => std::env::var("DIPLOMACY_ETCD_PASSWORD").ok(),
        };
        Ok(ReplicaOptions {
            etcd: EtcdOptions {
                endpoints: self.etcd_endpoints.clone(),
                ca: self.etcd_ca.clone(),
                cert: self.etcd_cert.clone(),
                key: self.etcd_key.clone(),
                user: self.etcd_user.clone(),
                password,
            },
            prefix: self.etcd_prefix.clone(),
            builtin,
        })
    }
}
