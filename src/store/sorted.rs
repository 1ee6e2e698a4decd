//! Small sorted collections for the relation cache, and what they weigh.
//!
//! Most pairs have one or two facts of a kind. A `BTreeMap` allocates a
//! whole node (room for eleven entries) for the first, so a cached pair
//! weighed about four times what its entries did, and nothing counted it.
//! A `SortedMap` keeps its entries in sorted blocks: a small map is one
//! exact allocation, and the busiest pairs (tens of thousands of meetings)
//! still insert by moving one block's entries, not the whole map's. Every
//! buffer's size is known, so the cache's byte budget can mean bytes.

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

use smallvec::SmallVec;

/// Most entries a block holds: an insert moves at most this many.
const BLOCK: usize = 512;

/// One entry, with its key's first eight bytes inline: a search compares
/// those first and follows the key's pointer only on a tie. At full scale
/// the cache is far larger than the processor's caches, and a pointer per
/// step of a binary search was a trip to memory per step. Keys here start
/// with a date (`YYYYMMDD`), so ties are rare.
struct Entry<V> {
    head: u64,
    key: Box<[u8]>,
    value: V,
}

/// The first eight bytes of `key`, big-endian, zero-padded. Comparing
/// heads, then whole keys on a tie, orders keys exactly as comparing their
/// bytes does: where two heads first differ, either both keys have a byte
/// there, or the shorter one ended (padding zero against a byte above it,
/// so the shorter sorts first, as a prefix does).
fn head(key: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let n = key.len().min(8);
    bytes[..n].copy_from_slice(&key[..n]);
    u64::from_be_bytes(bytes)
}

impl<V> Entry<V> {
    fn cmp_to(&self, head: u64, key: &[u8]) -> std::cmp::Ordering {
        self.head.cmp(&head).then_with(|| (*self.key).cmp(key))
    }

    fn below(&self, head: u64, key: &[u8]) -> bool {
        self.cmp_to(head, key).is_lt()
    }
}

/// Entries keyed by bytes, in key order, each key at most once.
pub struct SortedMap<V> {
    /// Non-empty blocks, each sorted, every key of a block below every key
    /// of the next. Most maps are one block, held inline.
    blocks: SmallVec<[Vec<Entry<V>>; 1]>,
}

impl<V> Default for SortedMap<V> {
    fn default() -> Self {
        Self {
            blocks: SmallVec::new(),
        }
    }
}

impl<V> SortedMap<V> {
    /// The block that holds `key`, or would: the first whose last key is
    /// not below it (the last block for keys above all).
    fn block_for(&self, head: u64, key: &[u8]) -> usize {
        let at = self
            .blocks
            .partition_point(|block| block.last().is_some_and(|e| e.below(head, key)));
        at.min(self.blocks.len().saturating_sub(1))
    }

    /// Where the entries below `bound` end: (block, position in it).
    fn end_before(&self, bound: &[u8]) -> (usize, usize) {
        let head = head(bound);
        let block = self
            .blocks
            .partition_point(|block| block.last().is_some_and(|e| e.below(head, bound)));
        let within = self.blocks.get(block).map_or(0, |entries| {
            entries.partition_point(|e| e.below(head, bound))
        });
        (block, within)
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        let head = head(key);
        let block = self.blocks.get(self.block_for(head, key))?;
        let at = block.binary_search_by(|e| e.cmp_to(head, key)).ok()?;
        Some(&block[at].value)
    }

    /// Sets `key` to `value`; the value it replaces, if any. Keys arriving
    /// in order (as a range scan gives them) fill blocks to the brim.
    pub fn insert(&mut self, key: Box<[u8]>, value: V) -> Option<V> {
        let head = head(&key);
        if self.blocks.is_empty() {
            self.blocks.push(vec![Entry { head, key, value }]);
            return None;
        }
        let b = self.block_for(head, &key);
        let last = b + 1 == self.blocks.len();
        let block = &mut self.blocks[b];
        let at = match block.binary_search_by(|e| e.cmp_to(head, &key)) {
            Ok(at) => return Some(std::mem::replace(&mut block[at].value, value)),
            Err(at) => at,
        };
        let entry = Entry { head, key, value };
        if block.len() < BLOCK {
            block.insert(at, entry);
        } else if last && at == block.len() {
            self.blocks.push(vec![entry]);
        } else {
            let upper = block.split_off(BLOCK / 2);
            if at <= BLOCK / 2 {
                block.insert(at, entry);
                self.blocks.insert(b + 1, upper);
            } else {
                self.blocks.insert(b + 1, upper);
                self.blocks[b + 1].insert(at - BLOCK / 2, entry);
            }
        }
        None
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let head = head(key);
        let b = self.block_for(head, key);
        let block = self.blocks.get_mut(b)?;
        let at = block.binary_search_by(|e| e.cmp_to(head, key)).ok()?;
        let entry = block.remove(at);
        if block.is_empty() {
            self.blocks.remove(b);
        }
        Some(entry.value)
    }

    /// How many entries have a key below `bound`.
    pub fn count_before(&self, bound: &[u8]) -> usize {
        let (block, within) = self.end_before(bound);
        self.blocks[..block].iter().map(Vec::len).sum::<usize>() + within
    }

    /// The entries whose key sorts below `bound`, highest key first.
    pub fn before_rev(&self, bound: &[u8]) -> impl Iterator<Item = (&[u8], &V)> {
        let (block, within) = self.end_before(bound);
        let partial = self.blocks.get(block).map_or(&[][..], |b| &b[..within]);
        partial
            .iter()
            .rev()
            .chain(
                self.blocks[..block]
                    .iter()
                    .rev()
                    .flat_map(|b| b.iter().rev()),
            )
            .map(|e| (&*e.key, &e.value))
    }

    /// The entries whose key is `bound` or above, lowest key first.
    pub fn from(&self, bound: &[u8]) -> impl Iterator<Item = (&[u8], &V)> {
        let (block, within) = self.end_before(bound);
        let partial = self.blocks.get(block).map_or(&[][..], |b| &b[within..]);
        let rest = self.blocks.get(block + 1..).unwrap_or_default();
        partial
            .iter()
            .chain(rest.iter().flatten())
            .map(|e| (&*e.key, &e.value))
    }

    /// Every value, in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.blocks.iter().flatten().map(|e| &e.value)
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Heap bytes of the blocks (not of what the entries own).
    pub fn buffer_bytes(&self) -> usize {
        let outer = if self.blocks.spilled() {
            allocation(self.blocks.capacity() * std::mem::size_of::<Vec<Entry<V>>>())
        } else {
            0
        };
        outer + self.blocks.iter().map(buffer).sum::<usize>()
    }

    pub fn shrink_to_fit(&mut self) {
        self.blocks.shrink_to_fit();
        for block in &mut self.blocks {
            block.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

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
        let keys: Vec<&[u8]> = map.before_rev(b"z").map(|(k, _)| k).collect();
        assert_eq!(keys, vec![&b"c"[..], b"b", b"a"]);
        assert_eq!(map.get(b"b"), Some(&20), "a second insert replaces");
        assert_eq!(map.count_before(b"b"), 1, "the bound is exclusive");
        assert_eq!(map.remove(b"a"), Some(1));
        assert_eq!(map.remove(b"a"), None);
        assert_eq!(map.from(b"").next(), Some((&b"b"[..], &20)));
    }

    #[test]
    fn a_buffer_weighs_its_capacity_in_allocator_units() {
        assert_eq!(allocation(0), 0);
        assert_eq!(allocation(1), 16);
        assert_eq!(allocation(33), 48);
        let mut map: SortedMap<u64> = SortedMap::default();
        assert_eq!(map.buffer_bytes(), 0);
        map.insert(key("a"), 1);
        map.insert(key("b"), 2);
        let two = 2 * std::mem::size_of::<Entry<u64>>();
        assert!(map.buffer_bytes() >= allocation(two));
        map.shrink_to_fit();
        assert_eq!(
            map.buffer_bytes(),
            allocation(two),
            "one block, held inline"
        );
    }

    #[test]
    fn keys_in_order_fill_whole_blocks() {
        let mut map = SortedMap::default();
        for i in 0..3 * BLOCK {
            map.insert(key(&format!("{i:06}")), ());
        }
        assert_eq!(map.blocks.len(), 3);
        assert!(map.blocks.iter().all(|b| b.len() == BLOCK));
        let blocks = 3 * allocation(BLOCK * std::mem::size_of::<Entry<()>>());
        let outer = map.blocks.capacity() * std::mem::size_of::<Vec<Entry<()>>>();
        assert_eq!(map.buffer_bytes(), blocks + allocation(outer));
    }

    /// Keys of every shape the heads must order right: shorter than a head,
    /// sharing a whole head (so the keys decide), prefixes of one another,
    /// and holding zero bytes, like the padding.
    fn key_text(k: u16) -> String {
        match k % 5 {
            0 => format!("{k:05}"),
            1 => format!("19990101/{k}"),
            2 => format!("1999010{}", k % 10),
            3 => format!("{}", k % 50),
            _ => format!("{}\0{k}", k % 7),
        }
    }

    #[test]
    fn heads_order_keys_as_their_bytes_do() {
        let mut keys: Vec<String> = (0..3000).map(key_text).collect();
        keys.sort();
        keys.dedup();
        for pair in keys.windows(2) {
            let (a, b) = (pair[0].as_bytes(), pair[1].as_bytes());
            let by_head = head(a).cmp(&head(b)).then_with(|| a.cmp(b));
            assert!(by_head.is_lt(), "{a:?} before {b:?}");
        }
    }

    proptest! {
        /// Any sequence of inserts and removes leaves the same entries as a
        /// `BTreeMap` given the same sequence, and every query agrees.
        #[test]
        fn behaves_as_a_btree_map(
            ops in prop::collection::vec((any::<bool>(), 0u16..3000, any::<u8>()), 0..4000),
            bounds in prop::collection::vec(0u16..3100, 1..20),
        ) {
            let mut map = SortedMap::default();
            let mut model = BTreeMap::new();
            for (insert, k, v) in ops {
                let k = key_text(k);
                if insert {
                    prop_assert_eq!(map.insert(key(&k), v), model.insert(k, v));
                } else {
                    prop_assert_eq!(map.remove(k.as_bytes()), model.remove(&k));
                }
            }
            prop_assert!(map.blocks.iter().all(|b| !b.is_empty() && b.len() <= BLOCK));
            prop_assert_eq!(map.is_empty(), model.is_empty());
            for bound in bounds {
                let bound = key_text(bound);
                let got: Vec<(String, u8)> = map
                    .before_rev(bound.as_bytes())
                    .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), *v))
                    .collect();
                let want: Vec<(String, u8)> =
                    model.range(..bound.clone()).rev().map(|(k, v)| (k.clone(), *v)).collect();
                prop_assert_eq!(map.count_before(bound.as_bytes()), want.len());
                prop_assert_eq!(got, want);
                prop_assert_eq!(map.get(bound.as_bytes()), model.get(&bound));
                let got: Vec<(String, u8)> = map
                    .from(bound.as_bytes())
                    .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), *v))
                    .collect();
                let want: Vec<(String, u8)> =
                    model.range(bound.clone()..).map(|(k, v)| (k.clone(), *v)).collect();
                prop_assert_eq!(got, want);
            }
            let all: Vec<(String, u8)> = map
                .from(b"")
                .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), *v))
                .collect();
            let want: Vec<(String, u8)> = model.into_iter().collect();
            prop_assert_eq!(all, want);
        }
    }
}
