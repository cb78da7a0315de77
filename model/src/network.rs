//! The layer graph of a network: every stage with its shapes, parameter and MAC counts.
//!
//! A network is a chain of stages, each with one input and one output stream: conv1, max pools,
//! Fire modules (their bypass is internal to the stage), conv10 and the global average pool.
//! Tensors are height x width x channels, stored pixel-major, channel-minor (HWC).

use serde::Serialize;

use crate::config::{Bypass, NetworkConfig};
use crate::error::ModelError;

/// A feature map shape: height, width, channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Shape {
    pub h: usize,
    pub w: usize,
    pub c: usize,
}

impl Shape {
    pub fn new(h: usize, w: usize, c: usize) -> Self {
        Shape { h, w, c }
    }
    pub fn len(&self) -> usize {
        self.h * self.w * self.c
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn pixels(&self) -> usize {
        self.h * self.w
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}x{}", self.h, self.w, self.c)
    }
}

/// One convolution followed by ReLU (every convolution in the family is).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConvLayer {
    /// torchvision name: `conv1`, `fire2.squeeze`, `fire2.expand3x3`, `fire2.bypass`, `conv10`.
    pub name: String,
    pub input: Shape,
    pub output: Shape,
    pub kernel: usize,
    pub stride: usize,
    pub pad: usize,
    /// Bits per stored weight: 8 dense int8, 4..=7 codebook indices ([`crate::codebook`]);
    /// from the config's `[quantization]`.
    pub weight_bits: u8,
}

impl ConvLayer {
    /// A convolution of `input` to `out_c` channels; errors when the kernel does not fit.
    pub fn new(
        name: String,
        input: Shape,
        out_c: usize,
        kernel: usize,
        stride: usize,
        pad: usize,
    ) -> Result<Self, ModelError> {
        let span = input.h + 2 * pad;
        if span < kernel || input.w + 2 * pad < kernel {
            return Err(ModelError::config(
                "input_size",
                format!("{name}: a {kernel}x{kernel} kernel does not fit the {input} input map"),
            ));
        }
        let oh = (input.h + 2 * pad - kernel) / stride + 1;
        let ow = (input.w + 2 * pad - kernel) / stride + 1;
        Ok(ConvLayer {
            name,
            input,
            output: Shape::new(oh, ow, out_c),
            kernel,
            stride,
            pad,
            weight_bits: crate::codebook::DENSE_WEIGHT_BITS,
        })
    }
    pub fn in_channels(&self) -> usize {
        self.input.c
    }
    pub fn out_channels(&self) -> usize {
        self.output.c
    }
    /// Weights per output channel.
    pub fn fan_in(&self) -> usize {
        self.kernel * self.kernel * self.input.c
    }
    pub fn weights(&self) -> usize {
        self.fan_in() * self.output.c
    }
    pub fn biases(&self) -> usize {
        self.output.c
    }
    pub fn macs(&self) -> u64 {
        (self.output.pixels() * self.output.c * self.fan_in()) as u64
    }
}

/// 3x3 stride-2 max pool with ceil mode (torchvision's `MaxPool2d(3, 2, ceil_mode=True)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PoolLayer {
    pub name: String,
    pub input: Shape,
    pub output: Shape,
    pub kernel: usize,
    pub stride: usize,
}

impl PoolLayer {
    /// The 3x3 stride-2 ceil-mode max pool of an `input` map, or `None` below 3x3.
    pub fn max3x3(name: &str, input: Shape) -> Option<PoolLayer> {
        Some(PoolLayer {
            name: name.to_string(),
            input,
            output: Shape::new(
                pool_out_size(input.h, 3, 2)?,
                pool_out_size(input.w, 3, 2)?,
                input.c,
            ),
            kernel: 3,
            stride: 2,
        })
    }
}

/// Output size of a ceil-mode pool without padding (PyTorch's rule).
pub fn pool_out_size(n: usize, kernel: usize, stride: usize) -> Option<usize> {
    if n < kernel {
        return None;
    }
    let mut out = (n - kernel).div_ceil(stride) + 1;
    // PyTorch drops a last window that would start outside the input.
    if (out - 1) * stride >= n {
        out -= 1;
    }
    Some(out)
}

/// The bypass of one Fire module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum FireBypass {
    None,
    /// The module's input added to its output (same channel count).
    Identity,
    /// A 1x1 convolution (with ReLU) of the input, added to the output.
    Conv(ConvLayer),
}

/// A Fire module: squeeze, then expand1x1 and expand3x3 concatenated (1x1 channels first),
/// then the optional bypass add.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FireLayer {
    pub name: String,
    pub input: Shape,
    pub output: Shape,
    pub squeeze: ConvLayer,
    pub expand1x1: ConvLayer,
    pub expand3x3: ConvLayer,
    pub bypass: FireBypass,
}

impl FireLayer {
    pub fn convs(&self) -> Vec<&ConvLayer> {
        let mut v = vec![&self.squeeze, &self.expand1x1, &self.expand3x3];
        if let FireBypass::Conv(c) = &self.bypass {
            v.push(c);
        }
        v
    }
    pub fn has_add(&self) -> bool {
        !matches!(self.bypass, FireBypass::None)
    }
    /// Name of the bypass add's requantizer (`fireN.add`).
    pub fn add_name(&self) -> String {
        format!("{}.add", self.name)
    }
}

/// One stage of the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "lowercase")]
#[allow(clippy::large_enum_variant)] // a few dozen stages per network: boxing buys nothing
pub enum Stage {
    Conv(ConvLayer),
    MaxPool(PoolLayer),
    Fire(FireLayer),
    /// Global average pool: sums each channel in i32 and requantizes to the logits.
    AvgPool(PoolLayer),
}

impl Stage {
    pub fn name(&self) -> &str {
        self.layer().name()
    }
    pub fn input(&self) -> Shape {
        self.layer().input()
    }
    pub fn output(&self) -> Shape {
        self.layer().output()
    }
}

/// A validated network: its config and the chain of stages.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Network {
    pub config: NetworkConfig,
    pub stages: Vec<Stage>,
}

/// Largest accumulator magnitude the contract allows before a layer is refused (i32 with margin
/// for any i32 bias the quantizer may produce; see [`crate::quant`]).
const ACC_LIMIT: u64 = 1 << 30;

impl Network {
    /// Builds the stage chain and checks every shape; errors name the config key at fault.
    pub fn new(config: &NetworkConfig) -> Result<Self, ModelError> {
        config.validate()?;
        let n = config.input_size;
        let mut stages = Vec::new();
        let input = Shape::new(n, n, 3);
        let c1 = &config.conv1;
        let conv1 = ConvLayer::new("conv1".into(), input, c1.channels, c1.kernel, c1.stride, 0)
            .map_err(|_| {
                ModelError::config(
                    "input_size",
                    format!("{n}x{n} is smaller than conv1's {0}x{0} kernel", c1.kernel),
                )
            })?;
        let mut shape = conv1.output;
        stages.push(Stage::Conv(conv1));
        let mut pool_index = 1;
        let mut push_pool = |after: &str, shape: &mut Shape, stages: &mut Vec<Stage>| {
            if !config.pool_after.iter().any(|p| p == after) {
                return Ok(());
            }
            let pool = PoolLayer::max3x3(&format!("pool{pool_index}"), *shape).ok_or_else(|| {
                ModelError::config(
                    "pool_after",
                    format!("the max pool after {after} needs at least a 3x3 map, {after} gives {shape}"),
                )
            })?;
            let out = pool.output;
            stages.push(Stage::MaxPool(pool));
            pool_index += 1;
            *shape = out;
            Ok(())
        };
        push_pool("conv1", &mut shape, &mut stages)?;
        for (i, f) in config.fires.iter().enumerate() {
            let idx = i + 2;
            let name = format!("fire{idx}");
            let inp = shape;
            let squeeze = ConvLayer::new(format!("{name}.squeeze"), inp, f.squeeze, 1, 1, 0)?;
            let s_out = squeeze.output;
            let expand1x1 =
                ConvLayer::new(format!("{name}.expand1x1"), s_out, f.expand1x1, 1, 1, 0)?;
            let expand3x3 =
                ConvLayer::new(format!("{name}.expand3x3"), s_out, f.expand3x3, 3, 1, 1)?;
            let out = Shape::new(inp.h, inp.w, f.out_channels());
            let bypass = match config.bypass {
                Bypass::None => FireBypass::None,
                Bypass::Simple if idx % 2 == 1 => {
                    if inp.c != out.c {
                        return Err(ModelError::config(
                            "bypass",
                            format!(
                                "simple bypass around {name} needs equal input and output channels, \
                                 it has {} in and {} out (use complex)",
                                inp.c, out.c
                            ),
                        ));
                    }
                    FireBypass::Identity
                }
                Bypass::Simple => FireBypass::None,
                Bypass::Complex if inp.c == out.c => FireBypass::Identity,
                Bypass::Complex => FireBypass::Conv(ConvLayer::new(
                    format!("{name}.bypass"),
                    inp,
                    out.c,
                    1,
                    1,
                    0,
                )?),
            };
            stages.push(Stage::Fire(FireLayer {
                name: name.clone(),
                input: inp,
                output: out,
                squeeze,
                expand1x1,
                expand3x3,
                bypass,
            }));
            shape = out;
            push_pool(&name, &mut shape, &mut stages)?;
        }
        let conv10 = ConvLayer::new("conv10".into(), shape, config.num_classes, 1, 1, 0)?;
        let out10 = conv10.output;
        stages.push(Stage::Conv(conv10));
        stages.push(Stage::AvgPool(PoolLayer {
            name: "avgpool".into(),
            input: out10,
            output: Shape::new(1, 1, out10.c),
            kernel: out10.h,
            stride: 1,
        }));
        let mut net = Network {
            config: config.clone(),
            stages,
        };
        net.apply_weight_bits()?;
        for conv in net.convs() {
            let bound = conv.fan_in() as u64 * 255 * 128;
            if bound > ACC_LIMIT {
                return Err(ModelError::config(
                    "fire",
                    format!(
                        "{} has {} inputs per output: its accumulator could exceed the int32 contract",
                        conv.name,
                        conv.fan_in()
                    ),
                ));
            }
        }
        if out10.pixels() as u64 * 255 > ACC_LIMIT {
            return Err(ModelError::config(
                "input_size",
                "the global average pool sum could overflow",
            ));
        }
        Ok(net)
    }

    /// Every convolution in execution order (conv1, fire2.squeeze, fire2.expand1x1, ...).
    /// Sets every convolution's `weight_bits` from `[quantization]`; names there must be
    /// convolutions of the network.
    fn apply_weight_bits(&mut self) -> Result<(), ModelError> {
        let q = self.config.quantization.clone();
        let names: Vec<String> = self.convs().iter().map(|c| c.name.clone()).collect();
        if let Some(l) = q.layers.keys().find(|l| !names.contains(l)) {
            return Err(ModelError::config(
                format!("quantization.layers.{l}"),
                format!(
                    "'{l}' is not a convolution of this network ({} .. {})",
                    names[0],
                    names[names.len() - 1]
                ),
            ));
        }
        for s in &mut self.stages {
            let convs: Vec<&mut ConvLayer> = match s {
                Stage::Conv(c) => vec![c],
                Stage::Fire(f) => {
                    let mut v = vec![&mut f.squeeze, &mut f.expand1x1, &mut f.expand3x3];
                    if let FireBypass::Conv(c) = &mut f.bypass {
                        v.push(c);
                    }
                    v
                }
                Stage::MaxPool(_) | Stage::AvgPool(_) => vec![],
            };
            for c in convs {
                c.weight_bits = q.bits_of(&c.name);
            }
        }
        Ok(())
    }

    pub fn convs(&self) -> Vec<&ConvLayer> {
        self.stages.iter().flat_map(|s| s.layer().convs()).collect()
    }

    pub fn fires(&self) -> impl Iterator<Item = &FireLayer> {
        self.stages.iter().filter_map(|s| match s {
            Stage::Fire(f) => Some(f),
            _ => None,
        })
    }

    pub fn input_shape(&self) -> Shape {
        self.stages[0].input()
    }

    /// The shape conv10 produces (before the global average pool).
    pub fn conv10(&self) -> &ConvLayer {
        match &self.stages[self.stages.len() - 2] {
            Stage::Conv(c) => c,
            _ => unreachable!("conv10 is always the second-to-last stage"),
        }
    }

    pub fn params(&self) -> u64 {
        self.convs()
            .iter()
            .map(|c| (c.weights() + c.biases()) as u64)
            .sum()
    }
    pub fn macs(&self) -> u64 {
        self.convs().iter().map(|c| c.macs()).sum()
    }
    /// Bytes of int8 weights (one per weight; biases and requantizer constants not included).
    pub fn weight_bytes(&self) -> u64 {
        self.convs().iter().map(|c| c.weights() as u64).sum()
    }
    /// Bits of every weight at each layer's `weight_bits` (dense k-bit storage, no pruning).
    pub fn weight_storage_bits(&self) -> u64 {
        self.convs()
            .iter()
            .map(|c| crate::codebook::storage_bits(c.weights(), c.weight_bits))
            .sum()
    }
}
