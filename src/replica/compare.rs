//! `diplomacy check --etcd-endpoints`: a replica's index against etcd at the
//! revision the index applied. Every record etcd held then must be in the
//! index with the same content and the revision it last changed at, and the
//! index must hold nothing else.

use std::collections::HashSet;

use super::etcd::Etcd;
use super::layout::{Key, Layout};
use crate::domain::Collection;
use crate::error::{Error, Result};
use crate::records::{decode_record, meta, without_store_meta};
use crate::store::Store;

/// What the comparison found.
#[derive(Debug, Default)]
pub struct Comparison {
    /// The revision compared at (the index's).
    pub revision: i64,
    /// Records etcd held at that revision.
    pub records: usize,
    pub differences: Vec<String>,
}

/// Compares `store` (a replica's index, not running) with etcd at the
/// index's revision.
pub async fn compare(store: &Store, etcd: &Etcd, layout: &Layout) -> Result<Comparison> {
    let mut revision = store.revision();
    let mut comparison = Comparison::default();
    let (_, newest) = etcd.newest(layout.prefix()).await?;
    if revision > newest {
        comparison.differences.push(format!(
            "the index is at revision {revision}, ahead of etcd's newest ({newest}): it was written to other than through etcd"
        ));
        revision = newest;
    }
    comparison.revision = revision;
    let mut held = HashSet::new();
    for collection in Collection::ALL {
        let mut pages = etcd.pages(&layout.collection(collection), revision);
        loop {
            let page = pages.next().await.map_err(|e| {
                if e.to_string().contains("compacted") {
                    Error::Unavailable(format!(
                        "etcd has compacted past revision {revision}, the index's: it cannot be compared (a replica on it loads a snapshot when it starts): {e}"
                    ))
                } else {
                    e
                }
            })?;
            let Some(page) = page else { break };
            for kv in &page {
                let Key::Record(collection, id) = layout.parse(&kv.key) else {
                    continue;
                };
                comparison.records += 1;
                held.insert((collection, id.clone()));
                let name = format!("{}/{id}", collection.as_str());
                let Ok(truth) = decode_record(collection, &kv.value) else {
                    comparison.differences.push(format!(
                        "{name}: etcd's value does not decode (never served)"
                    ));
                    continue;
                };
                match store.get(collection, &id)? {
                    None => comparison
                        .differences
                        .push(format!("{name}: in etcd, missing from the index")),
                    Some(mut indexed) => {
                        let indexed_revision = *meta(&mut indexed).revision;
                        if without_store_meta(indexed) != without_store_meta(truth) {
                            comparison
                                .differences
                                .push(format!("{name}: the index holds other content than etcd"));
                        } else if indexed_revision != kv.mod_revision {
                            comparison.differences.push(format!(
                                "{name}: revision {indexed_revision} in the index, {} in etcd",
                                kv.mod_revision
                            ));
                        }
                    }
                }
            }
        }
    }
    for name in store.record_names() {
        let (collection, id) = name?;
        if !held.contains(&(collection, id.clone())) {
            comparison.differences.push(format!(
                "{}/{id}: in the index, not in etcd",
                collection.as_str()
            ));
        }
    }
    Ok(comparison)
}
