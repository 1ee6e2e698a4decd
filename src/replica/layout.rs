//! The keys under the etcd prefix: one per record, holding its protobuf
//! encoding without the store's revision and etag (each replica derives
//! those from the etcd revision), and the head key every write puts, so
//! that one compare on it orders all writes.

use crate::domain::Collection;

/// Where a replica keeps its records in etcd.
#[derive(Clone, Debug)]
pub struct Layout {
    prefix: Vec<u8>,
}

/// What an etcd key under the prefix is.
#[derive(Debug, PartialEq)]
pub enum Key {
    Record(Collection, String),
    Head,
    /// Says the built-in data has been loaded.
    Loaded,
    /// Not ours: never served, logged.
    Other,
}

const RECORDS: &str = "records/";
const HEAD: &str = "_head";
const LOADED: &str = "_builtin_loaded";

impl Layout {
    /// `prefix` must end in `/` (`--etcd-prefix`, default `/diplomacy/`).
    pub fn new(prefix: &str) -> Result<Self, String> {
        if prefix.is_empty() || !prefix.ends_with('/') {
            return Err(format!(
                "--etcd-prefix: `{prefix}` must end in `/` (e.g. `/diplomacy/`)"
            ));
        }
        Ok(Self {
            prefix: prefix.as_bytes().to_vec(),
        })
    }

    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    pub fn record(&self, collection: Collection, id: &str) -> Vec<u8> {
        let mut key = self.prefix.clone();
        key.extend_from_slice(format!("{RECORDS}{}/{id}", collection.as_str()).as_bytes());
        key
    }

    /// The prefix of one collection's records.
    pub fn collection(&self, collection: Collection) -> Vec<u8> {
        let mut key = self.prefix.clone();
        key.extend_from_slice(format!("{RECORDS}{}/", collection.as_str()).as_bytes());
        key
    }

    pub fn head(&self) -> Vec<u8> {
        let mut key = self.prefix.clone();
        key.extend_from_slice(HEAD.as_bytes());
        key
    }

    pub fn loaded(&self) -> Vec<u8> {
        let mut key = self.prefix.clone();
        key.extend_from_slice(LOADED.as_bytes());
        key
    }

    pub fn parse(&self, key: &[u8]) -> Key {
        let Some(rest) = key.strip_prefix(self.prefix.as_slice()) else {
            return Key::Other;
        };
        if rest == HEAD.as_bytes() {
            return Key::Head;
        }
        if rest == LOADED.as_bytes() {
            return Key::Loaded;
        }
        let Some(name) = rest
            .strip_prefix(RECORDS.as_bytes())
            .and_then(|name| std::str::from_utf8(name).ok())
        else {
            return Key::Other;
        };
        match name.split_once('/') {
            Some((collection, id)) if !id.is_empty() && !id.contains('/') => {
                match Collection::parse(collection) {
                    Some(collection) => Key::Record(collection, id.to_string()),
                    None => Key::Other,
                }
            }
            _ => Key::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_records_the_head_or_nothing_of_ours() {
        let layout = Layout::new("/diplomacy/").expect("a prefix");
        let key = layout.record(Collection::Treaties, "t01");
        assert_eq!(key, b"/diplomacy/records/treaties/t01".to_vec());
        assert_eq!(
            layout.parse(&key),
            Key::Record(Collection::Treaties, "t01".into())
        );
        assert_eq!(layout.parse(&layout.head()), Key::Head);
        assert_eq!(layout.parse(&layout.loaded()), Key::Loaded);
        for other in [
            &b"/diplomacy/notes"[..],
            b"/diplomacy/records/planets/x",
            b"/diplomacy/records/treaties/",
            b"/other/records/treaties/t01",
        ] {
            assert_eq!(layout.parse(other), Key::Other);
        }
        assert!(Layout::new("/diplomacy").is_err());
    }
}
