//! Record sampling an auditor can reproduce: the same population, size and seed always give
//! the same records, on any machine and in any later version of Steward.
//!
//! The population is put in a fixed order (kind, then id), then shuffled with a Fisher–Yates
//! shuffle driven by SplitMix64 from the seed, and the first `size` records are taken. Both
//! algorithms are public and short, so an auditor can redo the draw without Steward.

use super::rules::RecordRef;

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny generator that is fully determined by its
/// seed. Written out here rather than taken from a crate so the draw never changes underneath
/// a recorded sample when a dependency is upgraded.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `bound` (> 0), without modulo bias (Lemire's multiply-shift with
    /// rejection).
    fn below(&mut self, bound: u64) -> u64 {
        loop {
            let product = u128::from(self.next()) * u128::from(bound);
            let low = product as u64;
            if low >= bound.wrapping_neg() % bound {
                return (product >> 64) as u64;
            }
        }
    }
}

/// `size` records of `population` (all of them when it is smaller), drawn by `seed`.
pub fn sample(population: &[RecordRef], size: usize, seed: u64) -> Vec<RecordRef> {
    let mut pool: Vec<RecordRef> = population.to_vec();
    pool.sort_by(|a, b| (&a.kind, a.id).cmp(&(&b.kind, b.id)));
    pool.dedup_by(|a, b| a.kind == b.kind && a.id == b.id);
    let take = size.min(pool.len());
    let mut rng = SplitMix64(seed);
    for i in 0..take {
        let remaining = (pool.len() - i) as u64;
        let j = i + rng.below(remaining) as usize;
        pool.swap(i, j);
    }
    pool.truncate(take);
    pool
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn refs(ids: &[i64]) -> Vec<RecordRef> {
        ids.iter()
            .map(|id| RecordRef {
                kind: if id % 2 == 0 { "change" } else { "incident" }.into(),
                id: *id,
                label: format!("#{id}"),
            })
            .collect()
    }

    #[test]
    fn the_draw_is_fixed_for_ever() {
        // A recorded sample must come out the same in every later version.
        let drawn: Vec<i64> = sample(&refs(&(1..=20).collect::<Vec<_>>()), 4, 42)
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(drawn, vec![9, 10, 16, 18]);
    }

    #[test]
    fn a_small_population_is_taken_whole() {
        assert_eq!(sample(&refs(&[3, 1, 2]), 10, 7).len(), 3);
        assert!(sample(&[], 5, 1).is_empty());
    }

    proptest! {
        #[test]
        fn same_seed_same_records_whatever_the_order(
            ids in proptest::collection::hash_set(1i64..10_000, 0..200),
            size in 0usize..30,
            seed: u64,
        ) {
            let ids: Vec<i64> = ids.into_iter().collect();
            let mut reversed = ids.clone();
            reversed.reverse();
            let a = sample(&refs(&ids), size, seed);
            prop_assert_eq!(&a, &sample(&refs(&reversed), size, seed));
            prop_assert_eq!(a.len(), size.min(ids.len()));
            let mut seen = std::collections::HashSet::new();
            for r in &a {
                prop_assert!(ids.contains(&r.id));
                prop_assert!(seen.insert(r.id), "drawn twice");
            }
        }
    }
}
