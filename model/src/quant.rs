//! The int8 arithmetic contract. Everything that computes a quantized value — the integer
//! reference, the hardware's Rust models and the hand-written Verilog — follows this module,
//! and the widths below are the widths the hardware is built with.
//!
//! | quantity | type | notes |
//! |---|---|---|
//! | activation | `u8` | zero point 0, one scale per tensor; every conv is followed by ReLU |
//! | network input | `u8` | raw RGB, scale 1.0 (the ImageNet normalization is folded into conv1) |
//! | weight | `i8` | symmetric, one scale per output channel; the quantizer writes -127..=127, the arithmetic accepts -128; stored dense or as k-bit codebook indices ([`crate::codebook`]), decoded before the MAC |
//! | bias | `i32` | scale `input_scale * weight_scale[c]`, added to the accumulator before requantizing |
//! | accumulator | `i32` | `bias + sum(x * w)`, wrapping (the network check keeps it below 2^31 in magnitude) |
//! | multiplier `M` | `u16` | [`MULT_BITS`] bits; `M * 2^-s` is the real rescale factor |
//! | shift `s` | `u8` | [`MIN_SHIFT`]..=[`MAX_SHIFT`] |
//! | product | `i49` | `acc * M` fits in [`PRODUCT_BITS`] signed bits, and so does the product plus the rounding constant |
//! | logits | `u16` | the global average pool, requantized to [`LOGIT_BITS`] bits (see [`gap_requant`]) |
//!
//! Requantization (ReLU fused in the clamp), with an arithmetic (sign-preserving) right shift:
//!
//! `y = clamp((acc * M + (1 << (s - 1))) >> s, 0, 255)`
//!
//! that is, round half up (toward +infinity) of `acc * M / 2^s`, then clamp. Max pooling works on
//! `u8` directly (the scale passes through). A Fire module's expand1x1 and expand3x3 share one
//! output scale, so concatenation is free. A bypass add computes `acc = a * ka + b * kb` with
//! `u16` weights `ka`, `kb` (at most [`ADD_WEIGHT_ONE`]) and requantizes `acc` with the same
//! requantizer. The global average pool sums a channel in `i32` and requantizes the sum to `u16`.

use serde::{Deserialize, Serialize};

/// Width of the requantizer's multiplier `M` (unsigned).
pub const MULT_BITS: u32 = 16;
/// Smallest shift: the rounding constant `1 << (s - 1)` needs `s >= 1`.
pub const MIN_SHIFT: u8 = 1;
/// Largest shift: `acc * M + round` stays within [`PRODUCT_BITS`] signed bits.
pub const MAX_SHIFT: u8 = 47;
/// Width of the signed product `acc * M` plus the rounding constant.
pub const PRODUCT_BITS: u32 = 49;
/// Width of the accumulator (signed).
pub const ACC_BITS: u32 = 32;
/// Width of the logits leaving the network (unsigned).
pub const LOGIT_BITS: u32 = 16;
/// Largest activation value.
pub const ACT_MAX: i32 = 255;
/// Largest logit value.
pub const LOGIT_MAX: i32 = (1 << LOGIT_BITS) - 1;
/// The bypass add's weight for the operand with the larger scale.
pub const ADD_WEIGHT_ONE: u16 = 1 << 14;
/// Fractional bits of the logits: a logit is the average of conv10's `u8` outputs times 2^8.
pub const LOGIT_FRAC_BITS: u32 = 8;

/// A per-channel requantizer: multiplier and shift.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requant {
    pub mult: u16,
    pub shift: u8,
}

impl Requant {
    /// The requantizer that always outputs 0 (a channel whose output range is empty).
    pub const ZERO: Requant = Requant {
        mult: 0,
        shift: MIN_SHIFT,
    };

    /// The nearest multiplier-and-shift to a real factor. The multiplier is normalised to
    /// `[2^15, 2^16)` where the shift range allows; factors too small for the largest shift lose
    /// precision (down to `M = 0`), factors too large saturate at `M = 65535, s = 1`.
    pub fn from_real(real: f64) -> Requant {
        if real.is_nan() || real <= 0.0 || real.is_infinite() {
            return Requant::ZERO;
        }
        let e = real.log2().floor() as i32;
        let mut shift = (MULT_BITS as i32 - 1) - e;
        shift = shift.clamp(MIN_SHIFT as i32, MAX_SHIFT as i32);
        loop {
            let m = (real * (2f64).powi(shift)).round();
            if m <= u16::MAX as f64 {
                return Requant {
                    mult: m as u16,
                    shift: shift as u8,
                };
            }
            if shift == MIN_SHIFT as i32 {
                return Requant {
                    mult: u16::MAX,
                    shift: MIN_SHIFT,
                };
            }
            shift -= 1;
        }
    }

    /// The real factor this requantizer applies.
    pub fn real(&self) -> f64 {
        self.mult as f64 / (2f64).powi(self.shift as i32)
    }

    /// Whether the shift is within the contract's range.
    pub fn is_valid(&self) -> bool {
        (MIN_SHIFT..=MAX_SHIFT).contains(&self.shift)
    }

    /// `clamp((acc * M + 2^(s-1)) >> s, 0, max)` with an arithmetic shift.
    #[inline(always)]
    pub fn apply(&self, acc: i32, max: i32) -> i32 {
        let p = acc as i64 * self.mult as i64 + (1i64 << (self.shift - 1));
        (p >> self.shift).clamp(0, max as i64) as i32
    }

    /// Requantize to an activation (`u8`, ReLU fused).
    #[inline(always)]
    pub fn apply_u8(&self, acc: i32) -> u8 {
        self.apply(acc, ACT_MAX) as u8
    }
}

/// The bypass add: `acc = a * ka + b * kb`, then `requant`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddParams {
    pub ka: u16,
    pub kb: u16,
    pub requant: Requant,
}

impl AddParams {
    /// Parameters for `out = a * scale_a + b * scale_b` expressed at `scale_out`.
    pub fn from_scales(scale_a: f64, scale_b: f64, scale_out: f64) -> AddParams {
        let big = scale_a.max(scale_b);
        if big.is_nan() || big <= 0.0 || scale_out.is_nan() || scale_out <= 0.0 {
            return AddParams {
                ka: 0,
                kb: 0,
                requant: Requant::ZERO,
            };
        }
        let one = ADD_WEIGHT_ONE as f64;
        let ka = (scale_a / big * one).round() as u16;
        let kb = (scale_b / big * one).round() as u16;
        AddParams {
            ka,
            kb,
            requant: Requant::from_real(big / scale_out / one),
        }
    }

    #[inline(always)]
    pub fn apply(&self, a: u8, b: u8) -> u8 {
        let acc = a as i32 * self.ka as i32 + b as i32 * self.kb as i32;
        self.requant.apply_u8(acc)
    }
}

/// The global average pool's requantizer for a `pixels`-pixel map: `round(sum * 2^8 / pixels)`,
/// so a logit is conv10's average output with [`LOGIT_FRAC_BITS`] fractional bits and never
/// saturates (`255 * 2^8 < 2^16`). The logit scale is `conv10_scale / 2^8`.
pub fn gap_requant(pixels: usize) -> Requant {
    Requant::from_real((1u64 << LOGIT_FRAC_BITS) as f64 / pixels as f64)
}

/// Requantize a global-average-pool sum to a logit.
#[inline(always)]
pub fn apply_logit(r: &Requant, sum: i32) -> u16 {
    r.apply(sum, LOGIT_MAX) as u16
}

/// Symmetric per-channel weight scale: `max|w| / 127`; an all-zero filter gets scale 1.0 (its
/// weights quantize to 0 whatever the scale, and the scale stays finite and non-zero).
pub fn weight_scale(max_abs: f32) -> f32 {
    if max_abs > 0.0 && max_abs.is_finite() {
        max_abs / 127.0
    } else {
        1.0
    }
}

/// Quantize one weight to `-127..=127`.
pub fn quantize_weight(w: f32, scale: f32) -> i8 {
    (w / scale).round().clamp(-127.0, 127.0) as i8
}

/// Activation scale for a tensor whose calibrated maximum is `max` (an empty range gets 1.0).
pub fn activation_scale(max: f32) -> f32 {
    if max > 0.0 && max.is_finite() {
        max / ACT_MAX as f32
    } else {
        1.0
    }
}

/// Largest bias magnitude the quantizer writes (keeps `bias + sum(x * w)` inside `i32`).
pub const BIAS_LIMIT: i64 = 1 << 30;

/// Quantize a bias to the accumulator's scale `in_scale * w_scale`.
pub fn quantize_bias(b: f32, acc_scale: f64) -> i32 {
    ((b as f64) / acc_scale)
        .round()
        .clamp(-(BIAS_LIMIT as f64), BIAS_LIMIT as f64) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requant_rounds_half_up_and_clamps() {
        let r = Requant { mult: 1, shift: 1 }; // x / 2
        assert_eq!(r.apply(3, 255), 2); // 1.5 -> 2
        assert_eq!(r.apply(-3, 255), 0); // -1.5 -> -1 -> clamp 0
        assert_eq!(r.apply(600, 255), 255);
        assert_eq!(r.apply(i32::MIN, 255), 0);
        let r = Requant {
            mult: u16::MAX,
            shift: MIN_SHIFT,
        };
        assert_eq!(r.apply(i32::MAX, 255), 255);
        assert_eq!(r.apply(i32::MIN, 255), 0);
    }

    #[test]
    fn from_real_is_normalised_and_close() {
        for &x in &[1e-9, 3.7e-6, 0.001234, 0.5, 1.0, 1.5148, 300.0] {
            let r = Requant::from_real(x);
            assert!(r.is_valid());
            let rel = (r.real() - x).abs() / x;
            assert!(rel < 1e-4 || x < 1e-8, "{x}: {r:?} rel {rel}");
            if x > 1e-9 && x < 1e4 {
                assert!(r.mult >= 1 << 15, "{x}: {r:?} not normalised");
            }
        }
        assert_eq!(Requant::from_real(0.0), Requant::ZERO);
        assert_eq!(Requant::from_real(f64::NAN), Requant::ZERO);
        assert_eq!(Requant::from_real(1e9).mult, u16::MAX);
    }

    #[test]
    fn product_fits_the_declared_width() {
        let lim = 1i64 << (PRODUCT_BITS - 1);
        for acc in [i32::MIN, i32::MAX] {
            let p = acc as i64 * u16::MAX as i64 + (1i64 << (MAX_SHIFT - 1));
            assert!(p < lim && p >= -lim);
        }
    }

    #[test]
    fn gap_never_saturates() {
        for pixels in [1usize, 4, 169, 196, 49 * 49] {
            let r = gap_requant(pixels);
            let max = apply_logit(&r, 255 * pixels as i32);
            assert!((max as i32) < LOGIT_MAX, "{pixels}: {max}");
            assert!((max as i32 - 255 * 256).abs() <= 1);
        }
    }

    #[test]
    fn add_params_weight_larger_scale_fully() {
        let p = AddParams::from_scales(0.1, 0.05, 0.2);
        assert_eq!(p.ka, ADD_WEIGHT_ONE);
        assert_eq!(p.kb, ADD_WEIGHT_ONE / 2);
        // 100 * 0.1 + 100 * 0.05 = 15.0 -> 75 at scale 0.2
        assert_eq!(p.apply(100, 100), 75);
        assert_eq!(p.apply(255, 255), 191);
    }

    #[test]
    fn zero_filter_scale_is_finite() {
        assert_eq!(weight_scale(0.0), 1.0);
        assert_eq!(activation_scale(0.0), 1.0);
        assert_eq!(quantize_weight(0.0, weight_scale(0.0)), 0);
    }
}
