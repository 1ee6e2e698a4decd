//! The replica's figures for Prometheus: the applied revision, how far it
//! is behind etcd (in revisions and in seconds), snapshots loaded, and
//! failed calls to etcd.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

static APPLIED: AtomicI64 = AtomicI64::new(0);
static NEWEST: AtomicI64 = AtomicI64::new(0);
/// Since when the replica has been behind etcd, if it is.
static BEHIND_SINCE: Mutex<Option<Instant>> = Mutex::new(None);

/// Every figure, at zero until it changes (so that a dashboard sees none
/// missing).
pub fn register() {
    metrics::counter!("diplomacy_replica_etcd_errors_total").increment(0);
    metrics::counter!("diplomacy_replica_resyncs_total").increment(0);
    publish_lag();
}

pub fn etcd_error() {
    metrics::counter!("diplomacy_replica_etcd_errors_total").increment(1);
}

pub fn resynced() {
    metrics::counter!("diplomacy_replica_resyncs_total").increment(1);
}

/// The index has applied `revision`.
pub fn applied(revision: i64) {
    APPLIED.fetch_max(revision, Ordering::AcqRel);
    metrics::gauge!("diplomacy_replica_applied_revision").set(revision as f64);
    publish_lag();
}

/// etcd has reached `revision` (from a watch response's header).
pub fn newest(revision: i64) {
    NEWEST.fetch_max(revision, Ordering::AcqRel);
    publish_lag();
}

fn publish_lag() {
    let behind = (NEWEST.load(Ordering::Acquire) - APPLIED.load(Ordering::Acquire)).max(0);
    let seconds = match BEHIND_SINCE.lock() {
        Ok(mut since) => {
            if behind == 0 {
                *since = None;
                0.0
            } else {
                since
                    .get_or_insert_with(Instant::now)
                    .elapsed()
                    .as_secs_f64()
            }
        }
        Err(_) => 0.0,
    };
    metrics::gauge!("diplomacy_replica_lag_revisions").set(behind as f64);
    metrics::gauge!("diplomacy_replica_lag_seconds").set(seconds);
}
