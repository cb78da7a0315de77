//! Deep Compression's weight sharing (Han et al., 2016), on top of the int8 contract: a layer
//! stores its weights as `k`-bit indices into a per-layer codebook of at most `2^k` int8 values.
//!
//! - The codebook's entries are int8 weights in the layer's per-output-channel weight scales:
//!   the real weight of output channel `c` is `entries[index] * weight_scale[c]`, exactly as a
//!   dense int8 weight is `w * weight_scale[c]`. So biases, accumulation and requantization are
//!   those of [`crate::quant`] unchanged; only the storage differs, and the MAC sees int8.
//! - [`Codebook::entries`] are distinct and ascending (one canonical form: an index is the rank
//!   of its value), at most `2^bits` of them.
//! - `bits = 8` is the dense int8 layer (no codebook).
//!
//! [`kmeans`] is the quantizer: Lloyd's algorithm in one dimension on the scaled weights, with
//! Deep Compression's linear initialisation (centroids evenly spaced between the smallest and
//! the largest weight), so it is deterministic.

use crate::error::ModelError;

/// Smallest index width a layer may use.
pub const MIN_WEIGHT_BITS: u8 = 4;
/// The dense int8 width (no codebook).
pub const DENSE_WEIGHT_BITS: u8 = 8;

/// A layer's shared int8 weight values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Codebook {
    /// Index width in bits (`MIN_WEIGHT_BITS..DENSE_WEIGHT_BITS`).
    pub bits: u8,
    /// Distinct int8 values, ascending; at most `2^bits`.
    pub entries: Vec<i8>,
}

impl Codebook {
    /// Checks the canonical form: a width in range, 1..=2^bits distinct ascending entries.
    pub fn check(&self, layer: &str) -> Result<(), ModelError> {
        if !(MIN_WEIGHT_BITS..DENSE_WEIGHT_BITS).contains(&self.bits) {
            return Err(ModelError::model_file(format!(
                "{layer}: a codebook of {}-bit indices (codebooks take {MIN_WEIGHT_BITS}..={} bits)",
                self.bits,
                DENSE_WEIGHT_BITS - 1
            )));
        }
        if self.entries.is_empty() || self.entries.len() > 1 << self.bits {
            return Err(ModelError::model_file(format!(
                "tensor '{layer}.codebook' has {} entries, {}-bit indices address 1..={}",
                self.entries.len(),
                self.bits,
                1 << self.bits
            )));
        }
        if self.entries.windows(2).any(|p| p[0] >= p[1]) {
            return Err(ModelError::model_file(format!(
                "tensor '{layer}.codebook' is not strictly ascending (entries must be distinct \
                 and sorted)"
            )));
        }
        Ok(())
    }

    /// The index of a weight value, if the codebook holds it.
    pub fn index_of(&self, w: i8) -> Option<u8> {
        self.entries.binary_search(&w).ok().map(|i| i as u8)
    }

    /// The indices of `weights`; a weight that is not an entry is an error naming `layer`.
    pub fn indices(&self, layer: &str, weights: &[i8]) -> Result<Vec<u8>, ModelError> {
        // A table from the int8 value to its index: one lookup a weight.
        let mut table = [u8::MAX; 256];
        for (i, &e) in self.entries.iter().enumerate() {
            table[(e as u8) as usize] = i as u8;
        }
        weights
            .iter()
            .map(|&w| match table[(w as u8) as usize] {
                u8::MAX => Err(ModelError::model_file(format!(
                    "layer {layer}: weight {w} is not in its codebook {:?}",
                    self.entries
                ))),
                i => Ok(i),
            })
            .collect()
    }

    /// The int8 weights of `indices` (each below the number of entries).
    pub fn decode(&self, layer: &str, indices: &[u8]) -> Result<Vec<i8>, ModelError> {
        indices
            .iter()
            .map(|&i| {
                self.entries.get(i as usize).copied().ok_or_else(|| {
                    ModelError::model_file(format!(
                        "tensor '{layer}.weight_index' holds {i}, the codebook has {} entries",
                        self.entries.len()
                    ))
                })
            })
            .collect()
    }

    /// The codebook that covers exactly the values of `weights` (their distinct values).
    pub fn of_values(bits: u8, weights: &[i8]) -> Codebook {
        let mut seen = [false; 256];
        for &w in weights {
            seen[(w as i16 + 128) as usize] = true;
        }
        let entries = (0..256)
            .filter(|&i| seen[i])
            .map(|i| (i as i16 - 128) as i8)
            .collect();
        Codebook { bits, entries }
    }
}

/// Bits of a layer's weight storage at `bits` per weight (dense: 8).
pub fn storage_bits(weights: usize, bits: u8) -> u64 {
    weights as u64 * bits as u64
}

/// Lloyd's k-means in one dimension: at most `k` centroids of `values`, from centroids evenly
/// spaced between the smallest and the largest value, until no centroid moves (at most 200
/// rounds). Returns the centroids ascending; a cluster that empties keeps its centroid.
///
/// On sorted values a round is `O(k log n)`: a cluster is the run of values between two
/// midpoints, and its sum comes from prefix sums.
pub fn kmeans(values: &[f64], k: usize) -> Vec<f64> {
    if values.is_empty() || k == 0 {
        return Vec::new();
    }
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return Vec::new();
    }
    v.sort_by(f64::total_cmp);
    let (lo, hi) = (v[0], v[v.len() - 1]);
    if k == 1 || lo == hi {
        return vec![v.iter().sum::<f64>() / v.len() as f64];
    }
    let mut prefix = Vec::with_capacity(v.len() + 1);
    prefix.push(0.0);
    for x in &v {
        prefix.push(prefix.last().unwrap() + x);
    }
    let mut c: Vec<f64> = (0..k)
        .map(|i| lo + (hi - lo) * i as f64 / (k - 1) as f64)
        .collect();
    for _ in 0..200 {
        // Cluster i holds the values in [mid(i-1, i), mid(i, i+1)).
        let mut start = 0usize;
        let mut next = c.clone();
        for i in 0..k {
            let end = if i + 1 == k {
                v.len()
            } else {
                let mid = 0.5 * (c[i] + c[i + 1]);
                v.partition_point(|&x| x < mid)
            };
            if end > start {
                next[i] = (prefix[end] - prefix[start]) / (end - start) as f64;
            }
            start = start.max(end);
        }
        if next == c {
            break;
        }
        c = next;
    }
    c
}

/// Shares `scaled` (a layer's weights divided by their channels' scales, in -127..=127) among
/// at most `2^bits` int8 values: [`kmeans`] (or the values themselves when there are at most
/// `2^bits` distinct ones), centroids rounded to int8 and deduplicated, each
/// weight mapped to the nearest entry. Returns the codebook and the weights.
pub fn share(scaled: &[f64], bits: u8) -> (Codebook, Vec<i8>) {
    // Values already shared (at most 2^bits distinct: a Deep Compression export) are the
    // centroids themselves; k-means from a linear start could merge two of them.
    let mut distinct: Vec<f64> = scaled.iter().copied().filter(|x| x.is_finite()).collect();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    let centroids = if distinct.len() <= 1 << bits {
        distinct
    } else {
        kmeans(scaled, 1usize << bits)
    };
    let mut entries: Vec<i8> = centroids
        .iter()
        .map(|&c| c.round().clamp(-127.0, 127.0) as i8)
        .collect();
    entries.sort_unstable();
    entries.dedup();
    if entries.is_empty() {
        entries.push(0);
    }
    let weights = scaled
        .iter()
        .map(|&x| nearest(&entries, x))
        .collect::<Vec<i8>>();
    // Entries no weight took (their cluster emptied by the rounding) are dropped.
    let book = Codebook::of_values(bits, &weights);
    (book, weights)
}

/// Refits each output channel's scale to its shared weights: a few rounds of "map every weight
/// to its nearest entry at the channel's scale" and "the least-squares scale of those entries"
/// (`sum(w * q) / sum(q * q)`), each of which can only lower the channel's squared error.
/// `weights` are the float weights (`fan` a channel); returns the int8 weights (entries).
pub fn refit_scales(weights: &[f32], fan: usize, scales: &mut [f32], book: &Codebook) -> Vec<i8> {
    let mut out = vec![0i8; weights.len()];
    for (c, s) in scales.iter_mut().enumerate() {
        let w = &weights[c * fan..(c + 1) * fan];
        let q = &mut out[c * fan..(c + 1) * fan];
        let err = |s: f32, q: &[i8]| -> f64 {
            w.iter()
                .zip(q)
                .map(|(&w, &q)| (w as f64 - q as f64 * s as f64).powi(2))
                .sum()
        };
        for (qi, &wi) in q.iter_mut().zip(w) {
            *qi = nearest(&book.entries, (wi / *s) as f64);
        }
        for _ in 0..4 {
            let wq: f64 = w
                .iter()
                .zip(q.iter())
                .map(|(&a, &b)| a as f64 * b as f64)
                .sum();
            let qq: f64 = q.iter().map(|&b| (b as f64).powi(2)).sum();
            if qq == 0.0 || wq <= 0.0 {
                break;
            }
            let s_new = (wq / qq) as f32;
            let q_new: Vec<i8> = w
                .iter()
                .map(|&wi| nearest(&book.entries, (wi / s_new) as f64))
                .collect();
            if err(s_new, &q_new) >= err(*s, q) {
                break;
            }
            *s = s_new;
            q.copy_from_slice(&q_new);
        }
    }
    out
}

/// The entry closest to `x` (the lower on a tie).
fn nearest(entries: &[i8], x: f64) -> i8 {
    let i = entries.partition_point(|&e| (e as f64) < x);
    match (i.checked_sub(1).map(|j| entries[j]), entries.get(i)) {
        (Some(a), Some(&b)) => {
            if x - a as f64 <= b as f64 - x {
                a
            } else {
                b
            }
        }
        (Some(a), None) => a,
        (None, Some(&b)) => b,
        (None, None) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kmeans_finds_separated_clusters() {
        let mut v = Vec::new();
        for (centre, n) in [(-50.0, 100), (3.0, 300), (90.0, 50)] {
            for i in 0..n {
                v.push(centre + (i % 5) as f64 - 2.0);
            }
        }
        let c = kmeans(&v, 3);
        assert_eq!(c.len(), 3);
        for (got, want) in c.iter().zip([-50.0, 3.0, 90.0]) {
            assert!((got - want).abs() < 1e-9, "{c:?}");
        }
    }

    #[test]
    fn kmeans_is_deterministic_and_handles_degenerate_input() {
        let v: Vec<f64> = (0..1000)
            .map(|i| ((i * 7919) % 255) as f64 - 127.0)
            .collect();
        assert_eq!(kmeans(&v, 16), kmeans(&v, 16));
        assert_eq!(kmeans(&[], 4), Vec::<f64>::new());
        assert_eq!(kmeans(&[5.0; 10], 4), vec![5.0]);
        assert_eq!(kmeans(&[f64::NAN, 2.0], 4), vec![2.0]);
    }

    #[test]
    fn share_keeps_at_most_two_to_the_bits_values_near_the_input() {
        let v: Vec<f64> = (0..5000)
            .map(|i| 127.0 * ((i as f64 * 0.37).sin()).powi(3))
            .collect();
        for bits in MIN_WEIGHT_BITS..DENSE_WEIGHT_BITS {
            let (book, w) = share(&v, bits);
            book.check("t").unwrap();
            assert!(book.entries.len() <= 1 << bits);
            assert!(book.entries.len() > 1 << (bits - 1), "{bits}: {book:?}");
            let idx = book.indices("t", &w).unwrap();
            assert_eq!(book.decode("t", &idx).unwrap(), w);
            // Each weight is its nearest entry: no entry is closer.
            for (x, &q) in v.iter().zip(&w) {
                let best = book
                    .entries
                    .iter()
                    .map(|&e| (e as f64 - x).abs())
                    .fold(f64::INFINITY, f64::min);
                assert!(((q as f64) - x).abs() <= best + 1e-12);
            }
        }
    }

    #[test]
    fn values_already_shared_are_kept() {
        let vals = [-120.0, -33.0, -4.0, 0.0, 17.0, 64.0, 127.0];
        let v: Vec<f64> = (0..700).map(|i| vals[(i * 3) % vals.len()]).collect();
        let (book, w) = share(&v, 4);
        assert_eq!(book.entries, vec![-120, -33, -4, 0, 17, 64, 127]);
        for (x, q) in v.iter().zip(w) {
            assert_eq!(*x as i8, q);
        }
    }

    #[test]
    fn check_refuses_non_canonical_codebooks() {
        let ok = Codebook {
            bits: 4,
            entries: vec![-3, 0, 5],
        };
        ok.check("l").unwrap();
        let e = |b: Codebook| b.check("l").unwrap_err().to_string();
        assert!(e(Codebook {
            bits: 4,
            entries: vec![0, -3]
        })
        .contains("ascending"));
        assert!(e(Codebook {
            bits: 8,
            entries: vec![0]
        })
        .contains("8-bit"));
        assert!(e(Codebook {
            bits: 4,
            entries: (0..17).collect()
        })
        .contains("17 entries"));
        assert!(e(Codebook {
            bits: 4,
            entries: vec![]
        })
        .contains("0 entries"));
        assert!(ok
            .indices("l", &[1])
            .unwrap_err()
            .to_string()
            .contains("not in"));
        assert!(ok
            .decode("l", &[3])
            .unwrap_err()
            .to_string()
            .contains("holds 3"));
    }
}
