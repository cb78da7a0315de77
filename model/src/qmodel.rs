//! A quantized network: the config plus every integer tensor of the arithmetic contract.

use std::collections::BTreeMap;

use crate::codebook::{Codebook, DENSE_WEIGHT_BITS};
use crate::config::NetworkConfig;
use crate::error::ModelError;
use crate::network::{ConvLayer, FireBypass, Network};
use crate::quant::{AddParams, Requant};

/// One quantized convolution. Weights are OIHW (output channel, input channel, kernel row,
/// kernel column), as in ONNX and PyTorch.
#[derive(Clone, Debug, PartialEq)]
pub struct QConv {
    pub weights: Vec<i8>,
    pub bias: Vec<i32>,
    pub requant: Vec<Requant>,
    /// Per-output-channel weight scales (information for dequantization; not used by the
    /// integer arithmetic).
    pub weight_scale: Vec<f32>,
    pub input_scale: f32,
    pub output_scale: f32,
    /// The shared values when the layer stores codebook indices ([`crate::codebook`]):
    /// every weight is one of its entries. `None` for a dense int8 layer.
    pub codebook: Option<Codebook>,
}

impl QConv {
    /// Random parameters for hardware tests: weights over the whole i8 range (-128 included),
    /// biases up to +-20000, and requantizers that cover the contract's corners: every fourth
    /// channel has an empty range (M = 0), every fourth saturates (M = 65535, s = 1), the rest
    /// scale by about 2^-7..2^-6.
    pub fn random(layer: &ConvLayer, seed: u64) -> Self {
        let mut r = crate::float::SplitMix64::new(seed);
        let co = layer.out_channels();
        QConv {
            weights: (0..layer.weights()).map(|_| r.next_u64() as i8).collect(),
            bias: (0..co)
                .map(|_| (r.next_u64() % 40001) as i32 - 20000)
                .collect(),
            requant: (0..co)
                .map(|c| match c % 4 {
                    3 => Requant::ZERO,
                    2 => Requant {
                        mult: u16::MAX,
                        shift: 1,
                    },
                    _ => Requant {
                        mult: 32768 + (r.next_u64() % 32768) as u16,
                        shift: 22,
                    },
                })
                .collect(),
            weight_scale: vec![1.0; co],
            input_scale: 1.0,
            output_scale: 1.0,
            codebook: None,
        }
    }

    /// [`Self::random`] with weights drawn from a random codebook of `2^bits` distinct values
    /// over the whole i8 range (-128 and 127 included; each used at least once when the layer
    /// has `2^bits` weights), when the layer's `weight_bits` is below 8.
    pub fn random_for(layer: &ConvLayer, seed: u64) -> Self {
        let mut q = Self::random(layer, seed);
        let bits = layer.weight_bits;
        if bits < DENSE_WEIGHT_BITS {
            let mut r = crate::float::SplitMix64::new(seed ^ 0xc0de_b00c);
            let mut values: Vec<i8> = vec![-128, 127];
            while values.len() < 1 << bits {
                let v = r.next_u64() as i8;
                if !values.contains(&v) {
                    values.push(v);
                }
            }
            // Every value once (when the layer has that many weights), then at random.
            for (i, w) in q.weights.iter_mut().enumerate() {
                *w = match values.get(i) {
                    Some(&v) => v,
                    None => values[(r.next_u64() % values.len() as u64) as usize],
                };
            }
            q.codebook = Some(Codebook::of_values(bits, &q.weights));
        }
        q
    }

    /// The layer's index width: the codebook's, or 8 for dense int8.
    pub fn weight_bits(&self) -> u8 {
        self.codebook.as_ref().map_or(DENSE_WEIGHT_BITS, |c| c.bits)
    }

    /// Weight at (output channel, input channel, row, column).
    #[inline]
    pub fn w(&self, layer: &ConvLayer, co: usize, ci: usize, ky: usize, kx: usize) -> i8 {
        let k = layer.kernel;
        self.weights[((co * layer.in_channels() + ci) * k + ky) * k + kx]
    }

    /// Checks the tensor sizes against the layer.
    pub fn check(&self, layer: &ConvLayer) -> Result<(), ModelError> {
        let n = &layer.name;
        let bad = |what: &str, got: usize, want: usize| {
            ModelError::model_file(format!(
                "tensor '{n}.{what}' has {got} elements, layer {n} needs {want}"
            ))
        };
        if self.weights.len() != layer.weights() {
            return Err(bad("weight", self.weights.len(), layer.weights()));
        }
        let oc = layer.out_channels();
        if self.bias.len() != oc {
            return Err(bad("bias", self.bias.len(), oc));
        }
        if self.requant.len() != oc {
            return Err(bad("multiplier", self.requant.len(), oc));
        }
        if self.weight_scale.len() != oc {
            return Err(bad("weight_scale", self.weight_scale.len(), oc));
        }
        if self.weight_bits() != layer.weight_bits {
            return Err(ModelError::model_file(format!(
                "layer {n} stores {}-bit weights, the network's [quantization] says {}",
                self.weight_bits(),
                layer.weight_bits
            )));
        }
        if let Some(book) = &self.codebook {
            book.check(n)?;
            book.indices(n, &self.weights)?;
        }
        if let Some(r) = self.requant.iter().find(|r| !r.is_valid()) {
            return Err(ModelError::model_file(format!(
                "tensor '{n}.shift' holds {}, outside the contract's {}..={}",
                r.shift,
                crate::quant::MIN_SHIFT,
                crate::quant::MAX_SHIFT
            )));
        }
        Ok(())
    }
}

/// A quantized bypass add (`fireN.add`): operand `a` is the concatenated expand output, `b` the
/// bypass (the Fire module's input, or the bypass convolution's output).
#[derive(Clone, Debug, PartialEq)]
pub struct QAdd {
    pub params: AddParams,
    pub scale_a: f32,
    pub scale_b: f32,
    pub output_scale: f32,
}

/// A quantized network.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantModel {
    pub network: Network,
    /// Every convolution, by layer name.
    pub convs: BTreeMap<String, QConv>,
    /// Every bypass add, by Fire module name (`fire3`).
    pub adds: BTreeMap<String, QAdd>,
    /// The global average pool's requantizer (see [`crate::quant::gap_requant`]).
    pub gap: Requant,
    /// Scale of one logit unit.
    pub logit_scale: f32,
    /// Where the weights came from (free text, e.g. "synthetic seed 1" or an ONNX file).
    pub source: String,
}

impl QuantModel {
    pub fn config(&self) -> &NetworkConfig {
        &self.network.config
    }

    pub fn conv(&self, name: &str) -> &QConv {
        &self.convs[name]
    }

    /// Checks that every tensor the network needs is present with the right size.
    pub fn check(&self) -> Result<(), ModelError> {
        for layer in self.network.convs() {
            let q = self.convs.get(&layer.name).ok_or_else(|| {
                ModelError::model_file(format!("missing tensors for layer '{}'", layer.name))
            })?;
            q.check(layer)?;
        }
        for f in self.network.fires() {
            if f.has_add() && !self.adds.contains_key(&f.name) {
                return Err(ModelError::model_file(format!(
                    "missing tensors for the bypass add '{}'",
                    f.add_name()
                )));
            }
            if matches!(f.bypass, FireBypass::None) && self.adds.contains_key(&f.name) {
                return Err(ModelError::model_file(format!(
                    "tensors for '{}' but {} has no bypass",
                    f.add_name(),
                    f.name
                )));
            }
        }
        if let Some(extra) = self
            .convs
            .keys()
            .find(|k| !self.network.convs().iter().any(|c| &c.name == *k))
        {
            return Err(ModelError::model_file(format!(
                "tensors for '{extra}', which is not a layer of network '{}'",
                self.network.config.name
            )));
        }
        if !self.gap.is_valid() {
            return Err(ModelError::model_file(
                "avgpool.shift is outside the contract",
            ));
        }
        Ok(())
    }
}
