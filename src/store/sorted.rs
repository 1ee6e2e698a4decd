//! Small sorted collections for the relation cache, and what they weigh.
//!
//! Most pairs have one or two facts of a kind. A `BTreeMap` allocates a
//! whole node (room for eleven entries) for the first, so a cached pair
//! weighed about four times what its entries did, and nothing counted it.
//! A sorted `Vec` holds exactly its entries, in one allocation whose size
//! is known: the cache's byte budget can then mean bytes.

/// Heap bytes an allocation of `len` bytes takes: the allocator's small
/// size classes are multiples of 16 bytes, near enough.
pub fn allocation(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        len.next_multiple_of(16)
    }
}

/// Heap bytes of a `Vec`'s buffer.
pub fn buffer<T>(vec: &Vec<T>) -> usize {
    allocation(vec.capacity() * std::mem::size_of::<T>())
}

/// Entries keyed by bytes, in key order, each key at most once.
pub struct SortedMap<V> {
    entries: Vec<(Box<[u8]>, V)>,
}

impl<V> Default for SortedMap<V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<V> SortedMap<V> {
    fn position(&self, key: &[u8]) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| (**k).cmp(key))
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        let at = self.position(key).ok()?;
        Some(&self.entries[at].1)
    }

    /// Sets `key` to `value`; the value it replaces, if any. Keys arriving
    /// in order (as a range scan gives them) are appended.
    pub fn insert(&mut self, key: Box<[u8]>, value: V) -> Option<V> {
        match self.position(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                self.entries.insert(at, (key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let at = self.position(key).ok()?;
        Some(self.entries.remove(at).1)
    }

    /// The entries whose key sorts before `bound`, in key order.
    pub fn before(&self, bound: &[u8]) -> &[(Box<[u8]>, V)] {
        let end = self.entries.partition_point(|(k, _)| **k < *bound);
        &self.entries[..end]
    }

    /// Heap bytes of the entry buffer (not of what the entries own).
    pub fn buffer_bytes(&self) -> usize {
        buffer(&self.entries)
    }

    pub fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Box<[u8]> {
        text.as_bytes().into()
    }

    #[test]
    fn entries_stay_sorted_and_unique_whatever_the_order_of_inserts() {
        let mut map = SortedMap::default();
        for (k, v) in [("b", 2), ("a", 1), ("c", 3), ("b", 20)] {
            map.insert(key(k), v);
        }
        let keys: Vec<&[u8]> = map.before(b"z").iter().map(|(k, _)| &**k).collect();
        assert_eq!(keys, vec![&b"a"[..], b"b", b"c"]);
        assert_eq!(map.get(b"b"), Some(&20), "a second insert replaces");
        assert_eq!(map.before(b"b").len(), 1, "the bound is exclusive");
        assert_eq!(map.remove(b"a"), Some(1));
        assert_eq!(map.remove(b"a"), None);
        assert_eq!(map.before(b"z").len(), 2);
    }

    #[test]
    fn a_buffer_weighs_its_capacity_in_allocator_units() {
        assert_eq!(allocation(0), 0);
        assert_eq!(allocation(1), 16);
        assert_eq!(allocation(33), 48);
        let mut map: SortedMap<u64> = SortedMap::default();
        assert_eq!(map.buffer_bytes(), 0);
        map.insert(key("a"), 1);
        let one = std::mem::size_of::<(Box<[u8]>, u64)>();
        assert!(map.buffer_bytes() >= allocation(one));
        map.shrink_to_fit();
        assert_eq!(map.buffer_bytes(), allocation(one));
    }
}
