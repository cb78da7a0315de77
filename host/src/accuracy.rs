//! How well an int8 model keeps its float model's answers: per frame top-1 agreement, top-5
//! overlap and cosine similarity between the dequantized int8 logits and the float logits, with
//! near-tie frames (float `(top1 - top2) / |top1| <= 0.01`) counted apart.

use anyhow::Result;
use serde::Serialize;
use squeezeflow_model::reference::Prepared;
use squeezeflow_model::{FloatModel, QuantModel};

use crate::frames::Frame;

/// A frame whose float top-1 leads top-2 by at most this fraction of |top1| is a near tie.
pub const NEAR_TIE: f64 = 0.01;

/// Indices of the `k` largest values, largest first (ties: lower index first).
pub fn top_k(v: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[b].total_cmp(&v[a]).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

/// Cosine similarity (1.0 for two zero vectors).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        ab += x as f64 * y as f64;
        aa += x as f64 * x as f64;
        bb += y as f64 * y as f64;
    }
    if aa == 0.0 && bb == 0.0 {
        return 1.0;
    }
    if aa == 0.0 || bb == 0.0 {
        return 0.0;
    }
    ab / (aa.sqrt() * bb.sqrt())
}

/// `(top1 - top2) / |top1|` of float logits.
pub fn margin(v: &[f32]) -> f64 {
    let t = top_k(v, 2);
    if t.len() < 2 {
        return f64::INFINITY;
    }
    let (a, b) = (v[t[0]] as f64, v[t[1]] as f64);
    if a == 0.0 {
        return 0.0;
    }
    (a - b) / a.abs()
}

/// One frame's comparison.
#[derive(Clone, Debug, Serialize)]
pub struct FrameAccuracy {
    pub label: String,
    pub float_top5: Vec<usize>,
    pub int8_top5: Vec<usize>,
    pub top1_agree: bool,
    pub top5_overlap: usize,
    pub cosine: f64,
    /// Float `(top1 - top2) / |top1|`.
    pub margin: f64,
    pub near_tie: bool,
}

impl FrameAccuracy {
    pub fn new(label: &str, float: &[f32], int8: &[f32]) -> Self {
        let ft = top_k(float, 5);
        let it = top_k(int8, 5);
        let overlap = ft.iter().filter(|i| it.contains(i)).count();
        let m = margin(float);
        FrameAccuracy {
            label: label.to_string(),
            top1_agree: ft.first() == it.first(),
            float_top5: ft,
            int8_top5: it,
            top5_overlap: overlap,
            cosine: cosine(float, int8),
            margin: m,
            near_tie: m <= NEAR_TIE,
        }
    }
}

/// Means and counts over the frames.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Summary {
    pub frames: usize,
    pub mean_cosine: f64,
    pub min_cosine: f64,
    pub mean_top5_overlap: f64,
    /// Top-1 agreements among frames that are not near ties, and how many those are.
    pub top1_agree_decisive: usize,
    pub decisive: usize,
    /// Top-1 agreements among near-tie frames, and their labels.
    pub top1_agree_near_tie: usize,
    pub near_tie: Vec<String>,
}

/// The whole comparison.
#[derive(Clone, Debug, Serialize)]
pub struct AccuracyReport {
    pub frames: Vec<FrameAccuracy>,
    pub summary: Summary,
}

impl AccuracyReport {
    pub fn new(frames: Vec<FrameAccuracy>) -> Self {
        let n = frames.len();
        let nf = n.max(1) as f64;
        let decisive: Vec<&FrameAccuracy> = frames.iter().filter(|f| !f.near_tie).collect();
        let ties: Vec<&FrameAccuracy> = frames.iter().filter(|f| f.near_tie).collect();
        let summary = Summary {
            frames: n,
            mean_cosine: frames.iter().map(|f| f.cosine).sum::<f64>() / nf,
            min_cosine: frames.iter().map(|f| f.cosine).fold(1.0, f64::min),
            mean_top5_overlap: frames.iter().map(|f| f.top5_overlap as f64).sum::<f64>() / nf,
            top1_agree_decisive: decisive.iter().filter(|f| f.top1_agree).count(),
            decisive: decisive.len(),
            top1_agree_near_tie: ties.iter().filter(|f| f.top1_agree).count(),
            near_tie: ties.iter().map(|f| f.label.clone()).collect(),
        };
        AccuracyReport { frames, summary }
    }

    /// Runs both models on every frame and compares them.
    pub fn evaluate(float: &FloatModel, int8: &QuantModel, frames: &[Frame]) -> Result<Self> {
        let prepared = Prepared::new(int8);
        let mut out = Vec::with_capacity(frames.len());
        for (label, rgb) in frames {
            let f: Vec<f32> = rgb.iter().map(|&v| v as f32).collect();
            let fl = float.run(&f)?.logits;
            let q = int8.dequantize_logits(&prepared.run(rgb)?.logits);
            out.push(FrameAccuracy::new(label, &fl, &q));
        }
        Ok(AccuracyReport::new(out))
    }

    /// A plain-text table and the summary.
    pub fn to_table(&self) -> String {
        let mut s = format!(
            "{:<24} {:>9} {:>6} {:>5} {:>5} {:>9}\n",
            "frame", "cosine", "top5", "top1", "float", "margin"
        );
        for f in &self.frames {
            s += &format!(
                "{:<24} {:>9.6} {:>4}/5 {:>5} {:>5} {:>8.2}%{}\n",
                f.label,
                f.cosine,
                f.top5_overlap,
                if f.top1_agree { "same" } else { "DIFF" },
                f.float_top5.first().copied().unwrap_or(0),
                f.margin * 100.0,
                if f.near_tie { "  near tie" } else { "" }
            );
        }
        let m = &self.summary;
        s += &format!(
            "\n{} frames: mean cosine {:.6} (min {:.6}), mean top-5 overlap {:.2}/5\n\
             top-1 agreement {}/{} on decisive frames (float margin > {}%), {}/{} on near ties{}\n",
            m.frames,
            m.mean_cosine,
            m.min_cosine,
            m.mean_top5_overlap,
            m.top1_agree_decisive,
            m.decisive,
            NEAR_TIE * 100.0,
            m.top1_agree_near_tie,
            m.near_tie.len(),
            if m.near_tie.is_empty() {
                String::new()
            } else {
                format!(" ({})", m.near_tie.join(", "))
            }
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics() {
        let a = [1.0f32, 5.0, 3.0, 4.96, 0.0, -1.0];
        assert_eq!(top_k(&a, 3), vec![1, 3, 2]);
        assert!((margin(&a) - 0.008).abs() < 1e-6);
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-12);
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 1.0]), 0.0);
        let b = [1.0f32, 4.0, 3.0, 5.0, 0.0, -1.0];
        let f = FrameAccuracy::new("x", &a, &b);
        assert!(!f.top1_agree && f.near_tie);
        assert_eq!(f.top5_overlap, 5);
        let r = AccuracyReport::new(vec![f, FrameAccuracy::new("y", &b, &b)]);
        assert_eq!(r.summary.decisive, 1);
        assert_eq!(r.summary.top1_agree_decisive, 1);
        assert_eq!(r.summary.near_tie, vec!["x".to_string()]);
        assert!(r.to_table().contains("near tie"));
    }
}
