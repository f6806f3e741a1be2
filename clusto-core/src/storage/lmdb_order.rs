//! The order of keys in LMDB's trees: LMDB's own (bytes compared as unsigned, then the
//! shorter key first), computed here eight bytes at a time.
//!
//! LMDB's default comparator calls `memcmp` through a function pointer, and a lookup in
//! a tree of 10k entity records makes about fourteen comparisons: a sixth of a pool's
//! contents went there (`memcmp` and `mdb_cmp_memn` in its profile). The order is the same one, so a store stays readable by LMDB's
//! tools and by builds that use the default comparator.

use std::cmp::Ordering;

use heed::Comparator;

/// LMDB's default key order (see the module doc).
pub(super) enum KeyOrder {}

impl Comparator for KeyOrder {
    fn compare(a: &[u8], b: &[u8]) -> Ordering {
        let common = a.len().min(b.len());
        let (mut x, mut y) = (&a[..common], &b[..common]);
        while let (Some((p, rest_x)), Some((q, rest_y))) =
            (x.split_first_chunk::<8>(), y.split_first_chunk::<8>())
        {
            let (p, q) = (u64::from_be_bytes(*p), u64::from_be_bytes(*q));
            if p != q {
                return p.cmp(&q);
            }
            (x, y) = (rest_x, rest_y);
        }
        for (p, q) in x.iter().zip(y) {
            if p != q {
                return p.cmp(q);
            }
        }
        a.len().cmp(&b.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Keys sharing long prefixes, as a store's do, so the words compared often tie.
    fn key() -> impl Strategy<Value = Vec<u8>> {
        (
            0usize..20,
            prop::collection::vec(prop::sample::select(vec![0u8, 1, 0x7f, 0x80, 0xff]), 0..20),
        )
            .prop_map(|(shared, tail)| {
                let mut key = vec![b'A'; shared];
                key.extend(tail);
                key
            })
    }

    proptest! {
        #[test]
        fn the_order_is_lmdbs_byte_order(a in key(), b in key()) {
            prop_assert_eq!(KeyOrder::compare(&a, &b), a.as_slice().cmp(b.as_slice()));
            prop_assert_eq!(KeyOrder::compare(&a, &a), Ordering::Equal);
        }
    }
}
