//! The integer reference: the bit-exact oracle for all hardware.
//!
//! [`naive`] holds one obviously-right loop per op, written straight from the contract in
//! [`crate::quant`]. [`fast`] holds the paths used on whole frames; property tests keep them equal
//! to the naive ones. [`run`] executes a whole network with either.
//!
//! Tensors are `u8` in HWC order (pixel-major, channel-minor), the order the hardware streams.

use crate::error::ModelError;
use crate::network::{ConvLayer, PoolLayer, Shape};
use crate::qmodel::{QConv, QuantModel};
use crate::quant::{apply_logit, AddParams, Requant};

/// Obviously-right integer ops.
pub mod naive {
    use super::*;

    /// Convolution + bias + requantize (ReLU fused), zero padding.
    pub fn conv(x: &[u8], layer: &ConvLayer, q: &QConv) -> Vec<u8> {
        let (i, o) = (layer.input, layer.output);
        assert_eq!(x.len(), i.len(), "{}: input size", layer.name);
        let mut out = vec![0u8; o.len()];
        for oy in 0..o.h {
            for ox in 0..o.w {
                for co in 0..o.c {
                    let mut acc = q.bias[co];
                    for ky in 0..layer.kernel {
                        for kx in 0..layer.kernel {
                            let iy = (oy * layer.stride + ky) as isize - layer.pad as isize;
                            let ix = (ox * layer.stride + kx) as isize - layer.pad as isize;
                            if iy < 0 || ix < 0 || iy >= i.h as isize || ix >= i.w as isize {
                                continue; // zero padding
                            }
                            for ci in 0..i.c {
                                let v = x[(iy as usize * i.w + ix as usize) * i.c + ci] as i32;
                                let w = q.w(layer, co, ci, ky, kx) as i32;
                                acc = acc.wrapping_add(v * w);
                            }
                        }
                    }
                    out[(oy * o.w + ox) * o.c + co] = q.requant[co].apply_u8(acc);
                }
            }
        }
        out
    }

    /// k x k max pool with stride; windows that run past the edge (ceil mode) cover only the
    /// pixels inside.
    pub fn maxpool(x: &[u8], p: &PoolLayer) -> Vec<u8> {
        let (i, o) = (p.input, p.output);
        let mut out = vec![0u8; o.len()];
        for oy in 0..o.h {
            for ox in 0..o.w {
                for c in 0..o.c {
                    let mut m = 0u8;
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

    /// Per-pixel concatenation: `a`'s channels, then `b`'s.
    pub fn concat(a: &[u8], ca: usize, b: &[u8], cb: usize) -> Vec<u8> {
        let pixels = a.len() / ca;
        let mut out = Vec::with_capacity(pixels * (ca + cb));
        for p in 0..pixels {
            out.extend_from_slice(&a[p * ca..(p + 1) * ca]);
            out.extend_from_slice(&b[p * cb..(p + 1) * cb]);
        }
        out
    }

    /// Element-wise bypass add.
    pub fn add(a: &[u8], b: &[u8], p: &AddParams) -> Vec<u8> {
        a.iter().zip(b).map(|(&x, &y)| p.apply(x, y)).collect()
    }

    /// Global average pool: i32 sum per channel, then the logit requantizer.
    pub fn avgpool(x: &[u8], shape: Shape, r: &Requant) -> Vec<u16> {
        (0..shape.c)
            .map(|c| {
                let sum: i32 = (0..shape.pixels()).map(|p| x[p * shape.c + c] as i32).sum();
                apply_logit(r, sum)
            })
            .collect()
    }
}

/// Fast paths, equal to [`naive`] bit for bit.
pub mod fast {
    use super::*;

    /// Weights repacked for the fast convolution: `[ky][kx][ci][co]` as `i16`, so the inner loop
    /// runs over contiguous output channels and vectorizes. (`u8 * i8` always fits in `i16`.)
    #[derive(Clone, Debug)]
    pub struct PackedConv {
        w: Vec<i16>,
    }

    impl PackedConv {
        pub fn new(layer: &ConvLayer, q: &QConv) -> Self {
            let (k, ci_n, co_n) = (layer.kernel, layer.in_channels(), layer.out_channels());
            let mut w = vec![0i16; k * k * ci_n * co_n];
            for co in 0..co_n {
                for ci in 0..ci_n {
                    for ky in 0..k {
                        for kx in 0..k {
                            w[((ky * k + kx) * ci_n + ci) * co_n + co] =
                                q.w(layer, co, ci, ky, kx) as i16;
                        }
                    }
                }
            }
            PackedConv { w }
        }
    }

    /// Convolution + bias + requantize, equal to [`naive::conv`]. Zero activations (half of
    /// them after a ReLU) are skipped. On x86-64 processors with AVX2 the same code runs
    /// compiled for AVX2 (chosen at run time; the arithmetic is the same integer arithmetic).
    pub fn conv(x: &[u8], layer: &ConvLayer, q: &QConv, packed: &PackedConv) -> Vec<u8> {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor supports AVX2 (checked just above).
                return unsafe { conv_avx2(x, layer, q, packed) };
            }
        }
        conv_portable(x, layer, q, packed)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn conv_avx2(x: &[u8], layer: &ConvLayer, q: &QConv, packed: &PackedConv) -> Vec<u8> {
        conv_portable(x, layer, q, packed)
    }

    #[inline(always)]
    fn conv_portable(x: &[u8], layer: &ConvLayer, q: &QConv, packed: &PackedConv) -> Vec<u8> {
        let (i, o) = (layer.input, layer.output);
        assert_eq!(x.len(), i.len(), "{}: input size", layer.name);
        let (k, s, pad) = (layer.kernel, layer.stride, layer.pad as isize);
        let co_n = o.c;
        let mut out = vec![0u8; o.len()];
        let mut acc = vec![0i32; co_n];
        for oy in 0..o.h {
            for ox in 0..o.w {
                acc.copy_from_slice(&q.bias);
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
                        let wbase = (ky * k + kx) * i.c * co_n;
                        for (ci, &v) in px.iter().enumerate() {
                            if v == 0 {
                                continue;
                            }
                            let v = v as i16;
                            let wrow = &packed.w[wbase + ci * co_n..][..co_n];
                            for (a, &w) in acc.iter_mut().zip(wrow) {
                                *a = a.wrapping_add((v * w) as i32);
                            }
                        }
                    }
                }
                let dst = &mut out[(oy * o.w + ox) * co_n..][..co_n];
                for ((d, &a), r) in dst.iter_mut().zip(&acc).zip(&q.requant) {
                    *d = r.apply_u8(a);
                }
            }
        }
        out
    }

    /// Separable max pool (rows, then columns), equal to [`naive::maxpool`].
    pub fn maxpool(x: &[u8], p: &PoolLayer) -> Vec<u8> {
        let (i, o) = (p.input, p.output);
        let c = i.c;
        // Horizontal pass: i.h x o.w x c.
        let mut rows = vec![0u8; i.h * o.w * c];
        for y in 0..i.h {
            for ox in 0..o.w {
                let dst = &mut rows[(y * o.w + ox) * c..][..c];
                for kx in 0..p.kernel {
                    let ix = ox * p.stride + kx;
                    if ix >= i.w {
                        break;
                    }
                    let src = &x[(y * i.w + ix) * c..][..c];
                    for (d, &v) in dst.iter_mut().zip(src) {
                        *d = (*d).max(v);
                    }
                }
            }
        }
        let mut out = vec![0u8; o.len()];
        for oy in 0..o.h {
            let dst = &mut out[oy * o.w * c..][..o.w * c];
            for ky in 0..p.kernel {
                let iy = oy * p.stride + ky;
                if iy >= i.h {
                    break;
                }
                let src = &rows[iy * o.w * c..][..o.w * c];
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d = (*d).max(v);
                }
            }
        }
        out
    }
}

/// Which implementation [`run`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    Naive,
    Fast,
}

/// One named intermediate tensor of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceTensor {
    /// `conv1`, `pool1`, `fire2.squeeze`, `fire2.expand` (the concatenation), `fire2.bypass`,
    /// `fire2` (the module's output), `conv10`.
    pub name: String,
    pub shape: Shape,
    pub data: Vec<u8>,
}

/// Result of one frame: the logits and, in execution order, every intermediate tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    pub tensors: Vec<TraceTensor>,
    pub logits: Vec<u16>,
}

impl Trace {
    pub fn tensor(&self, name: &str) -> Option<&TraceTensor> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// A model prepared for repeated fast runs (weights repacked once).
pub struct Prepared<'a> {
    model: &'a QuantModel,
    packed: std::collections::BTreeMap<String, fast::PackedConv>,
}

impl<'a> Prepared<'a> {
    pub fn new(model: &'a QuantModel) -> Self {
        let packed = model
            .network
            .convs()
            .into_iter()
            .map(|l| {
                (
                    l.name.clone(),
                    fast::PackedConv::new(l, model.conv(&l.name)),
                )
            })
            .collect();
        Prepared { model, packed }
    }

    /// Runs one frame (raw RGB, HWC, the network's input size) on the fast path.
    pub fn run(&self, frame: &[u8]) -> Result<Trace, ModelError> {
        run_with(self.model, frame, Path::Fast, Some(&self.packed))
    }
}

/// Runs one frame (raw `u8` RGB in HWC order, the network's input size) through the network.
pub fn run(model: &QuantModel, frame: &[u8], path: Path) -> Result<Trace, ModelError> {
    match path {
        Path::Naive => run_with(model, frame, path, None),
        Path::Fast => Prepared::new(model).run(frame),
    }
}

fn run_with(
    model: &QuantModel,
    frame: &[u8],
    path: Path,
    packed: Option<&std::collections::BTreeMap<String, fast::PackedConv>>,
) -> Result<Trace, ModelError> {
    let net = &model.network;
    let ishape = net.input_shape();
    if frame.len() != ishape.len() {
        return Err(ModelError::Shape(format!(
            "frame has {} bytes, network '{}' takes {} ({ishape} RGB)",
            frame.len(),
            net.config.name,
            ishape.len()
        )));
    }
    let mut cx = IntCx {
        model,
        path,
        packed,
        tensors: Vec::new(),
        logits: Vec::new(),
    };
    let mut x = frame.to_vec();
    for stage in &net.stages {
        x = stage.layer().run_int(x, &mut cx);
    }
    Ok(Trace {
        tensors: cx.tensors,
        logits: cx.logits,
    })
}

/// What a layer's step of the integer reference works with ([`crate::layer::LayerKind`]): the
/// model, the path, and the trace being recorded.
pub struct IntCx<'a> {
    pub(crate) model: &'a QuantModel,
    path: Path,
    packed: Option<&'a std::collections::BTreeMap<String, fast::PackedConv>>,
    tensors: Vec<TraceTensor>,
    pub(crate) logits: Vec<u16>,
}

impl IntCx<'_> {
    /// A convolution of the model on the chosen path.
    pub(crate) fn conv(&self, x: &[u8], l: &ConvLayer) -> Vec<u8> {
        let q = self.model.conv(&l.name);
        match (self.path, self.packed) {
            (Path::Fast, Some(p)) => fast::conv(x, l, q, &p[&l.name]),
            _ => naive::conv(x, l, q),
        }
    }
    pub(crate) fn maxpool(&self, x: &[u8], p: &PoolLayer) -> Vec<u8> {
        match self.path {
            Path::Fast => fast::maxpool(x, p),
            Path::Naive => naive::maxpool(x, p),
        }
    }
    /// Records an intermediate tensor.
    pub(crate) fn push(&mut self, name: &str, shape: Shape, data: &[u8]) {
        self.tensors.push(TraceTensor {
            name: name.to_string(),
            shape,
            data: data.to_vec(),
        })
    }
}
