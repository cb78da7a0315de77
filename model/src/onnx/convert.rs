//! From what the recogniser found to the crate's types: the [`NetworkConfig`] (a preset's name
//! when the structure is one) and the [`FloatModel`] with the weights extracted and the ImageNet
//! normalization folded into conv1.

use std::collections::BTreeMap;

use super::err;
use super::recognise::{Found, FoundBypass, FoundConv};
use crate::config::{Bypass, Conv1Spec, FireSpec, NetworkConfig, PRESETS};
use crate::error::ModelError;
use crate::float::{fold_normalization, FConv, FloatModel, IMAGENET_MEAN, IMAGENET_STD};
use crate::network::{FireBypass, Network};

impl Found {
    fn config(&self, name: &str) -> Result<NetworkConfig, ModelError> {
        let fires: Vec<FireSpec> = self
            .fires
            .iter()
            .map(|f| FireSpec {
                squeeze: f.squeeze.out_c,
                expand1x1: f.expand1x1.out_c,
                expand3x3: f.expand3x3.out_c,
            })
            .collect();
        if fires.is_empty() {
            return Err(err("the graph has no Fire module"));
        }
        // Which global bypass setting reproduces the bypasses found?
        let kinds: Vec<u8> = self
            .fires
            .iter()
            .map(|f| match f.bypass {
                FoundBypass::None => 0,
                FoundBypass::Identity => 1,
                FoundBypass::Conv(_) => 2,
            })
            .collect();
        let mut chosen = None;
        let mut base = NetworkConfig {
            name: name.to_string(),
            input_size: self.input_size,
            num_classes: self.conv10.out_c,
            conv1: Conv1Spec {
                channels: self.conv1.out_c,
                kernel: self.conv1.kernel,
                stride: self.conv1.stride,
            },
            fires,
            pool_after: self.pool_after.clone(),
            bypass: Bypass::None,
            meta: None,
            quantization: Default::default(),
        };
        // The graph as found, without bypasses, must be a network at all (classes, sizes): its
        // own error, not a bypass pattern that "does not match".
        Network::new(&base).map_err(|e| {
            err(format!(
                "the graph is not a network squeezeflow builds: {e}"
            ))
        })?;
        for b in [Bypass::None, Bypass::Simple, Bypass::Complex] {
            base.bypass = b;
            let Ok(net) = Network::new(&base) else {
                continue;
            };
            let got: Vec<u8> = net
                .fires()
                .map(|f| match f.bypass {
                    FireBypass::None => 0,
                    FireBypass::Identity => 1,
                    FireBypass::Conv(_) => 2,
                })
                .collect();
            if got == kinds {
                chosen = Some(b);
                break;
            }
        }
        let Some(b) = chosen else {
            let with: Vec<String> = kinds
                .iter()
                .enumerate()
                .filter(|(_, &k)| k != 0)
                .map(|(i, _)| format!("fire{}", i + 2))
                .collect();
            return Err(err(format!(
                "the graph has bypasses around {} — neither the simple (fire3, 5, 7, 9) nor the \
                 complex (every module) pattern",
                with.join(", ")
            )));
        };
        base.bypass = b;
        // A preset's own name when the graph is one.
        for p in PRESETS {
            let mut preset = NetworkConfig::preset(p)?;
            preset.input_size = base.input_size;
            let mut same = base.clone();
            same.name = preset.name.clone();
            same.meta = preset.meta;
            if same == preset {
                return Ok(preset);
            }
        }
        Network::new(&base)?;
        Ok(base)
    }

    pub(super) fn build(self, name: &str, source: &str) -> Result<FloatModel, ModelError> {
        let config = self.config(name)?;
        let network = Network::new(&config)?;
        let mut by_name: BTreeMap<String, FoundConv> = BTreeMap::new();
        by_name.insert("conv1".into(), self.conv1);
        for (i, f) in self.fires.into_iter().enumerate() {
            let n = format!("fire{}", i + 2);
            by_name.insert(format!("{n}.squeeze"), f.squeeze);
            by_name.insert(format!("{n}.expand1x1"), f.expand1x1);
            by_name.insert(format!("{n}.expand3x3"), f.expand3x3);
            if let FoundBypass::Conv(b) = f.bypass {
                by_name.insert(format!("{n}.bypass"), b);
            }
        }
        by_name.insert("conv10".into(), self.conv10);
        let mut convs = BTreeMap::new();
        for l in network.convs() {
            let c = by_name
                .remove(&l.name)
                .ok_or_else(|| err(format!("no convolution found for layer {}", l.name)))?;
            if c.weights.len() != l.weights() || c.bias.len() != l.biases() {
                return Err(err(format!(
                    "layer {}: {} weights and {} biases, the network needs {} and {}",
                    l.name,
                    c.weights.len(),
                    c.bias.len(),
                    l.weights(),
                    l.biases()
                )));
            }
            convs.insert(
                l.name.clone(),
                FConv {
                    weights: c.weights,
                    bias: c.bias,
                },
            );
        }
        let conv1 = network.convs()[0].clone();
        if let Some(c) = convs.get_mut("conv1") {
            fold_normalization(&conv1, c, IMAGENET_MEAN, IMAGENET_STD);
        }
        Ok(FloatModel {
            network,
            convs,
            source: source.to_string(),
        })
    }
}
