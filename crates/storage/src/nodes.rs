//! The head's account-trie branch and extension nodes, kept in memory for the state root.
//!
//! A block's state root walks from the root to every account it changes. With a million
//! accounts that is six or seven nodes per account, each a B-tree lookup in a table of hundreds
//! of megabytes, and those lookups were most of the root's cost and most of its growth with
//! the state (docs/PERFORMANCE.md, "State growth"). The branch and extension nodes near the
//! root are few and read again by every block, so they are kept here, up to a byte budget,
//! least recently used first out. Leaves are not kept: each is read once per change.
//!
//! The cache holds the nodes of one block's trie, the head it was filled at. A state root on
//! another head empties it first; a commit on top of that head moves it forward with the
//! block's own node writes; an unwind empties it. Entries are copies of what the trie table
//! holds at that head, so a cached read returns exactly what the table would.

use alloy_primitives::B256;
use schnellru::{Limiter, LruMap};

/// Bytes the cache may hold: the top four levels of a million-account trie's branches and
/// about half of the fifth. With 64 MiB (all of the fifth) the commit benchmark's block at 1M
/// accounts cost the same, and resident memory came within 40 MiB of issue 7's 1 GiB.
pub(crate) const NODE_CACHE_BYTES: usize = 32 << 20;

/// What an entry costs beyond its key and node bytes: two vectors' headers, the map's links
/// and the allocator's rounding up to its size classes.
const ENTRY_OVERHEAD: usize = 96;

/// Account-trie nodes (by nibble path) of the trie at `head`.
pub(crate) struct NodeCache {
    /// The block whose trie the entries are from (zero: none yet).
    head: B256,
    map: LruMap<Vec<u8>, Vec<u8>, ByBytes>,
}

impl std::fmt::Debug for NodeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeCache")
            .field("head", &self.head)
            .field("entries", &self.map.len())
            .field("bytes", &self.map.limiter().used())
            .finish()
    }
}

impl NodeCache {
    /// An empty cache of at most `max_bytes`.
    pub(crate) fn new(max_bytes: usize) -> Self {
        Self {
            head: B256::ZERO,
            map: LruMap::new(ByBytes {
                max: max_bytes,
                entries: 0,
                table: 0,
            }),
        }
    }

    /// Makes the cache one of `head`'s trie: emptied if it held another block's.
    pub(crate) fn at(&mut self, head: B256) {
        if self.head != head {
            self.map.clear();
            self.head = head;
        }
    }

    /// The node at `path`, if cached.
    pub(crate) fn get(&mut self, path: &[u8]) -> Option<Vec<u8>> {
        self.map.get(path).map(|n| n.clone())
    }

    /// Keeps `node`, read from the table at `path`, if it is a branch or an extension.
    pub(crate) fn offer(&mut self, path: &[u8], node: &[u8]) {
        if is_inner(node) {
            self.map.insert(path.to_vec(), node.to_vec());
        }
    }

    /// After `head`, a child of `parent`, was committed with these account-trie node writes
    /// (path, new node or `None` for removed): the cache follows if it was `parent`'s, and is
    /// emptied otherwise.
    pub(crate) fn advance<'a>(
        &mut self,
        parent: B256,
        head: B256,
        writes: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
    ) {
        if self.head != parent {
            self.invalidate();
            return;
        }
        for (path, node) in writes {
            match node {
                Some(node) if is_inner(node) => {
                    self.map.insert(path.to_vec(), node.to_vec());
                }
                _ => {
                    self.map.remove(path);
                }
            }
        }
        self.head = head;
    }

    /// Empties the cache (after the trie table changed some other way).
    pub(crate) fn invalidate(&mut self) {
        self.map.clear();
        self.head = B256::ZERO;
    }

    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// A branch (tag 2) or an extension (tag 1), in trie.rs's stored layout.
fn is_inner(node: &[u8]) -> bool {
    matches!(node.first(), Some(1 | 2))
}

/// Limits the map by the bytes of its entries and of its table.
struct ByBytes {
    max: usize,
    /// Bytes of the entries (keys, nodes, overhead).
    entries: usize,
    /// Bytes of the map's table.
    table: usize,
}

impl ByBytes {
    fn used(&self) -> usize {
        self.entries + self.table
    }
}

fn cost(key: &[u8], node: &[u8]) -> usize {
    key.len() + node.len() + ENTRY_OVERHEAD
}

impl Limiter<Vec<u8>, Vec<u8>> for ByBytes {
    type KeyToInsert<'a> = Vec<u8>;
    type LinkType = u32;

    fn is_over_the_limit(&self, _length: usize) -> bool {
        self.used() > self.max
    }

    fn on_insert(
        &mut self,
        _length: usize,
        key: Vec<u8>,
        node: Vec<u8>,
    ) -> Option<(Vec<u8>, Vec<u8>)> {
        let c = cost(&key, &node);
        if c > self.max {
            return None;
        }
        self.entries += c;
        Some((key, node))
    }

    fn on_replace(
        &mut self,
        _length: usize,
        old_key: &mut Vec<u8>,
        _new_key: Vec<u8>,
        old_node: &mut Vec<u8>,
        new_node: &mut Vec<u8>,
    ) -> bool {
        self.entries = self.entries - cost(old_key, old_node) + cost(old_key, new_node);
        true
    }

    fn on_removed(&mut self, key: &mut Vec<u8>, node: &mut Vec<u8>) {
        self.entries -= cost(key, node);
    }

    fn on_cleared(&mut self) {
        self.entries = 0;
    }

    fn on_grow(&mut self, new_memory_usage: usize) -> bool {
        self.table = new_memory_usage;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branch(fill: u8) -> Vec<u8> {
        let mut n = vec![2, 0xff, 0xff];
        n.extend(std::iter::repeat_n(fill, 16 * 33));
        n
    }

    #[test]
    fn keeps_inner_nodes_only_and_follows_commits_on_its_head() {
        let (a, b, c) = (
            B256::repeat_byte(1),
            B256::repeat_byte(2),
            B256::repeat_byte(3),
        );
        let mut cache = NodeCache::new(1 << 20);
        cache.at(a);
        cache.offer(&[1], &branch(7));
        cache.offer(&[1, 2], &[0, 3, 0x12, 0x30, 9]); // a leaf: not kept
        assert_eq!(cache.get(&[1]), Some(branch(7)));
        assert_eq!(cache.get(&[1, 2]), None);

        // A commit on a: its writes replace and remove entries.
        cache.offer(&[2], &branch(8));
        let writes = [(&[1u8][..], Some(&branch(9)[..])), (&[2u8][..], None)];
        cache.advance(a, b, writes.into_iter());
        assert_eq!(cache.get(&[1]), Some(branch(9)));
        assert_eq!(cache.get(&[2]), None);

        // A commit on some other parent empties it; so does being asked for another head.
        cache.advance(a, c, std::iter::empty());
        assert_eq!(cache.len(), 0);
        cache.at(b);
        cache.offer(&[3], &branch(1));
        cache.at(c);
        assert_eq!(cache.get(&[3]), None);
    }

    #[test]
    fn stays_within_its_byte_budget() {
        let node = branch(5);
        let budget = 64 * 1024;
        let mut cache = NodeCache::new(budget);
        cache.at(B256::repeat_byte(1));
        for i in 0..1000u32 {
            cache.offer(&i.to_be_bytes(), &node);
        }
        let used = cache.map.limiter().used();
        assert!(
            used <= budget,
            "{used} bytes held with a budget of {budget}"
        );
        // The newest entries are the ones kept.
        assert_eq!(cache.get(&999u32.to_be_bytes()), Some(node));
        assert_eq!(cache.get(&0u32.to_be_bytes()), None);
        assert!(cache.len() > 10);
    }
}
