//! How activation ranges are chosen from calibration frames.
//!
//! - [`Method::Max`] (the default): each tensor's largest value over all calibration frames
//!   ([`crate::float::calibrate`]). Nothing saturates on frames like the calibration set.
//! - [`Method::Percentile`]: the `p`-th percentile of each tensor's values over all frames, which
//!   clips rare large activations to spend the 8 bits on the common ones.
//!
//! Max is the default because it keeps the float model's answers better on SqueezeNet v1.1:
//! clipping conv10's largest outputs — the winning logits' inputs — is exactly what changes a
//! top-1 (docs/models.md has the measured figures for both).

use std::str::FromStr;

use crate::error::ModelError;
use crate::float::{calibrate, FloatModel, Ranges};

/// A calibration method.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Method {
    /// The largest value seen.
    #[default]
    Max,
    /// The given percentile (0 < p <= 100) of all values seen.
    Percentile(f64),
}

impl FromStr for Method {
    type Err = ModelError;
    /// `max` or `percentile:P` (for example `percentile:99.99`).
    fn from_str(s: &str) -> Result<Self, ModelError> {
        if s == "max" {
            return Ok(Method::Max);
        }
        let bad = || {
            ModelError::config(
                "calibration",
                format!("'{s}': expected max or percentile:P with 0 < P <= 100"),
            )
        };
        let p: f64 = s
            .strip_prefix("percentile:")
            .ok_or_else(bad)?
            .parse()
            .map_err(|_| bad())?;
        if !(p > 0.0 && p <= 100.0) {
            return Err(bad());
        }
        Ok(Method::Percentile(p))
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Method::Max => write!(f, "max"),
            Method::Percentile(p) => write!(f, "percentile:{p}"),
        }
    }
}

/// Activation ranges of every tensor over the frames (raw RGB, HWC), by `method`.
pub fn ranges(
    model: &FloatModel,
    frames: &[Vec<u8>],
    method: Method,
) -> Result<Ranges, ModelError> {
    let p = match method {
        Method::Max => return calibrate(model, frames),
        Method::Percentile(p) => p,
    };
    let mut values: std::collections::BTreeMap<String, Vec<f32>> = Default::default();
    for frame in frames {
        let f: Vec<f32> = frame.iter().map(|&v| v as f32).collect();
        for (name, t) in model.run(&f)?.tensors {
            values.entry(name).or_default().extend(t);
        }
    }
    Ok(values
        .into_iter()
        .map(|(name, mut v)| {
            let r = percentile(&mut v, p);
            (name, r)
        })
        .collect())
}

/// The `p`-th percentile (nearest rank) of `v`; 0 for an empty slice.
fn percentile(v: &mut [f32], p: f64) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize - 1;
    let rank = rank.min(v.len() - 1);
    *v.select_nth_unstable_by(rank, f32::total_cmp).1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NetworkConfig;
    use crate::float::synthetic_frame;

    #[test]
    fn parse_and_percentile() {
        assert_eq!("max".parse::<Method>().unwrap(), Method::Max);
        assert_eq!(
            "percentile:99.9".parse::<Method>().unwrap(),
            Method::Percentile(99.9)
        );
        for bad in ["", "percentile", "percentile:0", "percentile:101", "mse"] {
            let e = bad.parse::<Method>().unwrap_err().to_string();
            assert!(e.contains("calibration"), "{e}");
        }
        let mut v: Vec<f32> = (1..=100).map(|x| x as f32).collect();
        assert_eq!(percentile(&mut v, 100.0), 100.0);
        assert_eq!(percentile(&mut v, 99.0), 99.0);
        assert_eq!(percentile(&mut v, 50.0), 50.0);
        assert_eq!(percentile(&mut v, 0.001), 1.0);
    }

    #[test]
    fn percentile_100_is_max() {
        let mut c = NetworkConfig::squeezenet1_1();
        c.input_size = 35;
        let m = FloatModel::synthetic(&c, 3).unwrap();
        let frames = vec![synthetic_frame(m.network.input_shape(), 1)];
        let a = ranges(&m, &frames, Method::Max).unwrap();
        let b = ranges(&m, &frames, Method::Percentile(100.0)).unwrap();
        assert_eq!(a, b);
        let c = ranges(&m, &frames, Method::Percentile(50.0)).unwrap();
        assert!(c.iter().all(|(k, v)| *v <= a[k]));
    }
}
