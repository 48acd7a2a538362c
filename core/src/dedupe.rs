//! A bounded cache of recently delivered events, to drop the duplicates the service re-delivers
//! after a reconnect or a region change.

use std::collections::{HashSet, VecDeque};

/// Remembers the fingerprints of the last `capacity` events.
#[derive(Debug)]
pub struct Dedupe {
    capacity: usize,
    order: VecDeque<u64>,
    seen: HashSet<u64>,
}

impl Dedupe {
    /// A cache of `capacity` entries; 0 turns deduplication off.
    pub fn new(capacity: usize) -> Dedupe {
        Dedupe {
            capacity,
            order: VecDeque::with_capacity(capacity.min(4096)),
            seen: HashSet::with_capacity(capacity.min(4096)),
        }
    }

    /// Records `fingerprint`; false if it was already seen (a duplicate).
    pub fn insert(&mut self, fingerprint: u64) -> bool {
        if self.capacity == 0 {
            return true;
        }
        if !self.seen.insert(fingerprint) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.order.push_back(fingerprint);
        true
    }

    /// How many fingerprints are remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// FNV-1a over several byte strings, separated so that ("ab","c") ≠ ("a","bc").
pub fn fingerprint(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.iter().chain(&[0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_repeats_and_forgets_oldest() {
        let mut d = Dedupe::new(2);
        assert!(d.insert(1));
        assert!(!d.insert(1));
        assert!(d.insert(2));
        assert!(d.insert(3));
        assert_eq!(d.len(), 2);
        assert!(d.insert(1), "1 was evicted");
        let mut off = Dedupe::new(0);
        assert!(off.insert(1) && off.insert(1));
        assert_ne!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"a", b"bc"]));
    }
}
