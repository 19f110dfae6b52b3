//! Stable, seedable pseudo-random values.
//!
//! Every generated value is a pure function of `(seed, stream, index)`: the same seed always
//! gives the same data, whatever the platform or the `rand` version, and a row can be generated
//! from its index alone (which is what lets 1,000,000 usages cost no memory).

/// One round of SplitMix64: a fast, well-mixed bijection on `u64`.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes a list of words into one.
pub fn hash(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x5EED_u64, |acc, part| mix(acc ^ mix(*part)))
}

/// A small deterministic generator, seeded from a hash of its coordinates.
#[derive(Debug, Clone)]
pub struct Rng64 {
    state: u64,
}

impl Rng64 {
    /// A generator for the given coordinates (seed, stream, index...).
    pub fn at(parts: &[u64]) -> Self {
        Rng64 { state: hash(parts) }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-shift: unbiased enough for simulated data, and branch-free.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// An index in `0..n` as `usize`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// A value in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// A float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A float in `[lo, hi)`, rounded to `decimals`.
    pub fn float(&mut self, lo: f64, hi: f64, decimals: i32) -> f64 {
        round_to(lo + (hi - lo) * self.unit(), decimals)
    }

    /// One element of a non-empty slice (the first when empty is impossible by construction).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }
}

/// Rounds to a number of decimals.
pub fn round_to(value: f64, decimals: i32) -> f64 {
    let factor = 10f64.powi(decimals);
    (value * factor).round() / factor
}

/// A bijection on `0..2^62`, keyed, used to make generated usage ids look random while staying
/// reversible (an id maps back to its row index without any table).
#[derive(Debug, Clone, Copy)]
pub struct Scramble62 {
    key: u64,
    multiplier: u64,
    inverse: u64,
}

const MASK62: u64 = (1 << 62) - 1;

impl Scramble62 {
    /// A scramble keyed by `key`.
    pub fn new(key: u64) -> Self {
        let multiplier = mix(key) | 1;
        // Newton's iteration: each step doubles the number of correct low bits.
        let mut inverse = multiplier;
        for _ in 0..6 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(multiplier.wrapping_mul(inverse)));
        }
        Scramble62 {
            key: mix(key ^ 0xA5A5) & MASK62,
            multiplier,
            inverse,
        }
    }

    /// Scrambles `value` (which must be below 2^62).
    pub fn forward(&self, value: u64) -> u64 {
        ((value ^ self.key).wrapping_mul(self.multiplier)) & MASK62
    }

    /// Inverse of [`Scramble62::forward`].
    pub fn backward(&self, value: u64) -> u64 {
        ((value & MASK62).wrapping_mul(self.inverse) & MASK62) ^ self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scramble_is_reversible() {
        let s = Scramble62::new(1234);
        for i in (0..5_000_000u64).step_by(9973) {
            assert_eq!(s.backward(s.forward(i)), i);
        }
        assert_ne!(s.forward(1), 1);
    }

    #[test]
    fn the_same_coordinates_give_the_same_values() {
        let mut a = Rng64::at(&[1, 2, 3]);
        let mut b = Rng64::at(&[1, 2, 3]);
        let mut c = Rng64::at(&[1, 2, 4]);
        let (x, y, z) = (a.next_u64(), b.next_u64(), c.next_u64());
        assert_eq!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = Rng64::at(&[9]);
        for n in 1..200 {
            assert!(r.below(n) < n);
        }
        assert_eq!(r.below(0), 0);
    }
}
