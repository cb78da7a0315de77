//! The float model and its reference inference, calibration, quantization to the int8 contract,
//! and deterministic synthetic weights.
//!
//! A [`FloatModel`]'s conv1 takes raw RGB values (0..=255): the ImageNet normalization
//! `(x / 255 - mean) / std` is folded into conv1's weights and bias on import, which is exact
//! because conv1 has no padding ([`fold_normalization`]).

use std::collections::BTreeMap;

use crate::codebook::{self, DENSE_WEIGHT_BITS};
use crate::config::NetworkConfig;
use crate::error::ModelError;
use crate::network::{ConvLayer, Network, PoolLayer, Shape};
use crate::qmodel::{QAdd, QConv, QuantModel};
use crate::quant::{
    activation_scale, gap_requant, quantize_bias, quantize_weight, weight_scale, Requant,
    LOGIT_FRAC_BITS,
};

/// One float convolution (followed by ReLU). Weights OIHW.
#[derive(Clone, Debug, PartialEq)]
pub struct FConv {
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

/// A float network of the family.
#[derive(Clone, Debug, PartialEq)]
pub struct FloatModel {
    pub network: Network,
    pub convs: BTreeMap<String, FConv>,
    pub source: String,
}

impl FloatModel {
    /// The same weights with the weights stored as `quantization` says (the network rebuilt
    /// with that `[quantization]` table; it names the layer when a width or name is wrong).
    pub fn with_quantization(
        mut self,
        quantization: crate::config::Quantization,
    ) -> Result<Self, ModelError> {
        let mut cfg = self.network.config.clone();
        cfg.quantization = quantization;
        self.network = Network::new(&cfg)?;
        Ok(self)
    }
}

/// ImageNet normalization constants (torchvision).
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Folds `(x / 255 - mean[c]) / std[c]` on conv1's input into its weights and bias, so the folded
/// conv takes raw 0..=255 values. Exact for a convolution without padding.
pub fn fold_normalization(layer: &ConvLayer, conv: &mut FConv, mean: [f32; 3], std: [f32; 3]) {
    let k2 = layer.kernel * layer.kernel;
    let ci_n = layer.in_channels();
    for co in 0..layer.out_channels() {
        let mut shift = 0f64;
        for ci in 0..ci_n {
            for t in 0..k2 {
                let idx = (co * ci_n + ci) * k2 + t;
                let w = conv.weights[idx] as f64;
                shift += w * mean[ci] as f64 / std[ci] as f64;
                conv.weights[idx] = (w / (255.0 * std[ci] as f64)) as f32;
            }
        }
        conv.bias[co] = (conv.bias[co] as f64 - shift) as f32;
    }
}

/// Float tensors of one run, by the same names as [`crate::reference::Trace`].
#[derive(Clone, Debug)]
pub struct FloatTrace {
    pub tensors: Vec<(String, Vec<f32>)>,
    pub logits: Vec<f32>,
    /// Per convolution, the mean of each of its input channels over the input map.
    pub conv_input_means: BTreeMap<String, Vec<f32>>,
}

/// Per convolution, the mean of each input channel over calibration frames ([`input_means`]).
pub type InputMeans = BTreeMap<String, Vec<f32>>;

/// The mean of every convolution's input channels over `frames` (raw RGB, HWC): what bias
/// correction of shared weights needs ([`quantize_with_means`]).
pub fn input_means(model: &FloatModel, frames: &[Vec<u8>]) -> Result<InputMeans, ModelError> {
    let mut sums: InputMeans = BTreeMap::new();
    for frame in frames {
        let f: Vec<f32> = frame.iter().map(|&v| v as f32).collect();
        for (name, m) in model.run(&f)?.conv_input_means {
            let e = sums.entry(name).or_insert_with(|| vec![0.0; m.len()]);
            for (a, b) in e.iter_mut().zip(m) {
                *a += b / frames.len() as f32;
            }
        }
    }
    Ok(sums)
}

fn conv_f32(x: &[f32], l: &ConvLayer, c: &FConv) -> Vec<f32> {
    let (i, o) = (l.input, l.output);
    let (k, s, pad) = (l.kernel, l.stride, l.pad as isize);
    // Repack to [ky][kx][ci][co] for a contiguous inner loop.
    let mut w = vec![0f32; k * k * i.c * o.c];
    for co in 0..o.c {
        for ci in 0..i.c {
            for t in 0..k * k {
                w[(t * i.c + ci) * o.c + co] = c.weights[(co * i.c + ci) * k * k + t];
            }
        }
    }
    let mut out = vec![0f32; o.len()];
    let mut acc = vec![0f32; o.c];
    for oy in 0..o.h {
        for ox in 0..o.w {
            acc.copy_from_slice(&c.bias);
            for ky in 0..k {
                let iy = (oy * s + ky) as isize - pad;
                if iy < 0 || iy >= i.h as isize {
                    continue;
                }
                for kx in 0..k {
                    let ix = (ox * s + kx) as isize - pad;
                    if ix < 0 || ix >= i.w as isize {
                        continue;
                    }
                    let px = &x[(iy as usize * i.w + ix as usize) * i.c..][..i.c];
                    let wb = (ky * k + kx) * i.c * o.c;
                    for (ci, &v) in px.iter().enumerate() {
                        if v == 0.0 {
                            continue;
                        }
                        let wrow = &w[wb + ci * o.c..][..o.c];
                        for (a, &wv) in acc.iter_mut().zip(wrow) {
                            *a += v * wv;
                        }
                    }
                }
            }
            let dst = &mut out[(oy * o.w + ox) * o.c..][..o.c];
            for (d, &a) in dst.iter_mut().zip(&acc) {
                *d = a.max(0.0);
            }
        }
    }
    out
}

pub(crate) fn maxpool_f32(x: &[f32], p: &PoolLayer) -> Vec<f32> {
    let (i, o) = (p.input, p.output);
    let mut out = vec![0f32; o.len()];
    for oy in 0..o.h {
        for ox in 0..o.w {
            for c in 0..o.c {
                let mut m = f32::NEG_INFINITY;
                for ky in 0..p.kernel {
                    for kx in 0..p.kernel {
                        let (iy, ix) = (oy * p.stride + ky, ox * p.stride + kx);
                        if iy < i.h && ix < i.w {
                            m = m.max(x[(iy * i.w + ix) * i.c + c]);
                        }
                    }
                }
                out[(oy * o.w + ox) * o.c + c] = m;
            }
        }
    }
    out
}

pub(crate) fn concat_f32(a: &[f32], ca: usize, b: &[f32], cb: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    for p in 0..a.len() / ca {
        out.extend_from_slice(&a[p * ca..(p + 1) * ca]);
        out.extend_from_slice(&b[p * cb..(p + 1) * cb]);
    }
    out
}

impl FloatModel {
    /// Runs one frame (raw RGB as 0..=255 values, HWC).
    pub fn run(&self, frame: &[f32]) -> Result<FloatTrace, ModelError> {
        let net = &self.network;
        let ishape = net.input_shape();
        if frame.len() != ishape.len() {
            return Err(ModelError::Shape(format!(
                "frame has {} values, network takes {}",
                frame.len(),
                ishape.len()
            )));
        }
        let mut cx = FloatCx {
            model: self,
            tensors: Vec::new(),
            logits: Vec::new(),
            means: BTreeMap::new(),
        };
        let mut x = frame.to_vec();
        for stage in &net.stages {
            x = stage.layer().run_float(x, &mut cx);
        }
        Ok(FloatTrace {
            tensors: cx.tensors,
            logits: cx.logits,
            conv_input_means: cx.means,
        })
    }

    /// Deterministic synthetic weights for any config: He-uniform weights and small biases from
    /// a seeded generator (SplitMix64, stable across platforms and versions).
    pub fn synthetic(config: &NetworkConfig, seed: u64) -> Result<Self, ModelError> {
        let network = Network::new(config)?;
        let mut rng = SplitMix64::new(seed);
        let mut convs = BTreeMap::new();
        for l in network.convs() {
            let mut a = (6.0 / l.fan_in() as f64).sqrt();
            if l.name == "conv1" {
                a /= 128.0; // conv1 sees raw 0..=255 values
            }
            let weights = (0..l.weights())
                .map(|_| (rng.uniform() * 2.0 - 1.0) as f32 * a as f32)
                .collect();
            let bias = (0..l.biases())
                .map(|_| (rng.uniform() * 2.0 - 1.0) as f32 * 0.1)
                .collect();
            convs.insert(l.name.clone(), FConv { weights, bias });
        }
        Ok(FloatModel {
            network,
            convs,
            source: format!("synthetic, seed {seed}"),
        })
    }
}

/// A deterministic test frame: smooth colour gradients with seeded noise (raw RGB, HWC).
pub fn synthetic_frame(shape: Shape, seed: u64) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed ^ 0x5eed_f4a3e);
    let mut out = Vec::with_capacity(shape.len());
    for y in 0..shape.h {
        for x in 0..shape.w {
            for c in 0..shape.c {
                let base = match c % 3 {
                    0 => 255 * x / shape.w.max(1),
                    1 => 255 * y / shape.h.max(1),
                    _ => 255 * (x + y) / (shape.w + shape.h).max(1),
                } as i32;
                let noise = (rng.next_u64() % 97) as i32 - 48;
                out.push((base + noise).clamp(0, 255) as u8);
            }
        }
    }
    out
}

/// Per-tensor maxima seen over calibration frames, by trace tensor name.
pub type Ranges = BTreeMap<String, f32>;

/// Runs the float model over frames (raw RGB, HWC) and records each tensor's maximum (plain
/// max calibration: the activations are post-ReLU, so the minimum is 0).
pub fn calibrate(model: &FloatModel, frames: &[Vec<u8>]) -> Result<Ranges, ModelError> {
    let mut ranges = Ranges::new();
    for frame in frames {
        let f: Vec<f32> = frame.iter().map(|&v| v as f32).collect();
        let trace = model.run(&f)?;
        for (name, t) in &trace.tensors {
            let m = t.iter().copied().fold(0f32, f32::max);
            let e = ranges.entry(name.clone()).or_insert(0.0);
            *e = e.max(m);
        }
    }
    Ok(ranges)
}

const ROUNDS: usize = 3;

fn quantize_conv(
    l: &ConvLayer,
    c: &FConv,
    in_scale: f32,
    out_scale: f32,
    means: Option<&Vec<f32>>,
) -> QConv {
    let fan = l.fan_in();
    let co_n = l.out_channels();
    let bits = l.weight_bits;
    let layer_max = c.weights.iter().fold(0f32, |m, w| m.max(w.abs()));
    // A layer that already shares at most 2^bits real values (a Deep Compression export) gets
    // one scale for all its channels, so each shared value stays one int8 value.
    let shared = bits < DENSE_WEIGHT_BITS && distinct_at_most(&c.weights, 1 << bits);
    let mut scales: Vec<f32> = (0..co_n)
        .map(|co| {
            if shared {
                weight_scale(layer_max)
            } else {
                let ws = &c.weights[co * fan..(co + 1) * fan];
                weight_scale(ws.iter().fold(0f32, |m, w| m.max(w.abs())))
            }
        })
        .collect();
    let (weights, codebook) = if bits < DENSE_WEIGHT_BITS {
        // The weights in units of their channels' scales.
        let scaled = |scales: &[f32]| -> Vec<f64> {
            let w = c.weights.iter().enumerate();
            w.map(|(i, &w)| (w / scales[i / fan]) as f64).collect()
        };
        let (mut book, mut weights) = codebook::share(&scaled(&scales), bits);
        if !shared {
            // Alternate: the scales for the codebook, the codebook for the scales.
            for round in 0..ROUNDS {
                weights = codebook::refit_scales(&c.weights, fan, &mut scales, &book);
                if round + 1 < ROUNDS {
                    book = codebook::share(&scaled(&scales), bits).0;
                }
            }
        }
        (weights, Some(book))
    } else {
        let w = c
            .weights
            .iter()
            .enumerate()
            .map(|(i, &w)| quantize_weight(w, scales[i / fan]))
            .collect();
        (w, None)
    };
    let kk = l.kernel * l.kernel;
    let mut bias = Vec::with_capacity(l.biases());
    let mut requant = Vec::with_capacity(l.biases());
    for (co, &scale) in scales.iter().enumerate() {
        let acc_scale = in_scale as f64 * scale as f64;
        let mut b = c.bias[co] as f64;
        if let (Some(m), Some(_)) = (means.filter(|m| m.len() == l.in_channels()), &codebook) {
            for i in co * fan..(co + 1) * fan {
                let err = c.weights[i] as f64 - weights[i] as f64 * scale as f64;
                b += err * m[(i - co * fan) / kk] as f64;
            }
        }
        bias.push(quantize_bias(b as f32, acc_scale));
        requant.push(Requant::from_real(acc_scale / out_scale as f64));
    }
    QConv {
        weights,
        bias,
        requant,
        weight_scale: scales,
        input_scale: in_scale,
        output_scale: out_scale,
        codebook,
    }
}

/// Whether `v` holds at most `n` distinct values.
fn distinct_at_most(v: &[f32], n: usize) -> bool {
    let mut seen: Vec<u32> = Vec::with_capacity(n + 1);
    for w in v {
        let b = w.to_bits();
        if !seen.contains(&b) {
            if seen.len() == n {
                return false;
            }
            seen.push(b);
        }
    }
    true
}

/// What a layer's step of the float model works with ([`crate::layer::LayerKind`]).
pub struct FloatCx<'a> {
    model: &'a FloatModel,
    tensors: Vec<(String, Vec<f32>)>,
    pub(crate) logits: Vec<f32>,
    means: InputMeans,
}

impl FloatCx<'_> {
    pub(crate) fn conv(&mut self, x: &[f32], l: &ConvLayer) -> Vec<f32> {
        let c = l.in_channels();
        let mut m = vec![0f64; c];
        for (i, v) in x.iter().enumerate() {
            m[i % c] += *v as f64;
        }
        let px = (x.len() / c).max(1) as f64;
        let m = m.into_iter().map(|s| (s / px) as f32).collect();
        self.means.insert(l.name.clone(), m);
        conv_f32(x, l, &self.model.convs[&l.name])
    }
    /// Records an intermediate tensor.
    pub(crate) fn push(&mut self, name: &str, data: &[f32]) {
        self.tensors.push((name.to_string(), data.to_vec()));
    }
}

/// What a layer's step of quantization works with and fills ([`crate::layer::LayerKind`]).
pub struct QuantCx<'a> {
    model: &'a FloatModel,
    ranges: &'a Ranges,
    means: Option<&'a InputMeans>,
    convs: BTreeMap<String, QConv>,
    pub(crate) adds: BTreeMap<String, QAdd>,
    /// The scale of the last convolution's output: the logits' before the average pool.
    pub(crate) logit_input_scale: f32,
}

impl QuantCx<'_> {
    /// The activation scale of a tensor from its calibrated range.
    pub(crate) fn scale_of(&self, name: &str) -> Result<f32, ModelError> {
        let r = self.ranges.get(name).copied().ok_or_else(|| {
            ModelError::Shape(format!("calibration has no range for tensor '{name}'"))
        })?;
        Ok(activation_scale(r))
    }
    /// Quantizes a convolution between two activation scales.
    pub(crate) fn conv(&mut self, l: &ConvLayer, in_scale: f32, out_scale: f32) {
        let means = self.means.and_then(|m| m.get(&l.name));
        let q = quantize_conv(l, &self.model.convs[&l.name], in_scale, out_scale, means);
        self.convs.insert(l.name.clone(), q);
    }
}

/// Quantizes a float model to the int8 contract with the given calibration ranges.
pub fn quantize(model: &FloatModel, ranges: &Ranges) -> Result<QuantModel, ModelError> {
    quantize_with_means(model, ranges, None)
}

/// [`quantize`], with bias correction for codebook layers when `means` are given: a layer whose
/// weights are shared loses their mean error on every output, `sum((w - q * s) * E[x])`, and
/// its bias gets it back (Nagel et al., "Data-Free Quantization", 2019, with measured means).
/// Dense int8 layers are quantized as without means.
pub fn quantize_with_means(
    model: &FloatModel,
    ranges: &Ranges,
    means: Option<&InputMeans>,
) -> Result<QuantModel, ModelError> {
    let net = &model.network;
    let mut cx = QuantCx {
        model,
        ranges,
        means,
        convs: BTreeMap::new(),
        adds: BTreeMap::new(),
        logit_input_scale: 1.0,
    };
    let mut scale = 1.0f32; // raw RGB input
    for stage in &net.stages {
        scale = stage.layer().quantize(scale, &mut cx)?;
    }
    let (convs, adds, conv10_scale) = (cx.convs, cx.adds, cx.logit_input_scale);
    let q = QuantModel {
        network: net.clone(),
        convs,
        adds,
        gap: gap_requant(net.conv10().output.pixels()),
        logit_scale: conv10_scale / (1u32 << LOGIT_FRAC_BITS) as f32,
        source: model.source.clone(),
    };
    q.check()?;
    Ok(q)
}

impl QuantModel {
    /// A deterministic synthetic quantized model for any config: synthetic float weights,
    /// calibrated on two synthetic frames.
    pub fn synthetic(config: &NetworkConfig, seed: u64) -> Result<Self, ModelError> {
        let fm = FloatModel::synthetic(config, seed)?;
        let shape = fm.network.input_shape();
        let frames = [
            synthetic_frame(shape, seed),
            synthetic_frame(shape, seed + 1),
        ];
        let ranges = calibrate(&fm, &frames)?;
        quantize(&fm, &ranges)
    }

    /// Dequantized logits.
    pub fn dequantize_logits(&self, logits: &[u16]) -> Vec<f32> {
        logits
            .iter()
            .map(|&l| l as f32 * self.logit_scale)
            .collect()
    }
}

/// SplitMix64: a tiny, fixed pseudo-random generator, so synthetic models never change.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
