//! The per-layer report behind `squeezeflow info`: shapes, weights, biases, MACs, int8 bytes.

use serde::Serialize;

use crate::network::{ConvLayer, Network, Shape};

/// One row of the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerRow {
    pub name: String,
    /// `conv`, `maxpool`, `avgpool` or `add`.
    pub kind: String,
    /// e.g. `3x3/2`, `1x1/1 pad 0`.
    pub geometry: String,
    pub input: [usize; 3],
    pub output: [usize; 3],
    pub weights: u64,
    pub biases: u64,
    pub params: u64,
    pub macs: u64,
    /// Bytes of int8 weights.
    pub weight_bytes: u64,
    /// Bits a stored weight: 8 (int8) or a codebook's index width (`[quantization]`).
    pub weight_bits: u8,
    /// Bytes of the stored weights at `weight_bits` (dense: every weight kept), plus the
    /// codebook (`2^bits` bytes) when there is one.
    pub stored_bytes: u64,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub network: String,
    pub input_size: usize,
    pub num_classes: usize,
    pub params: u64,
    pub macs: u64,
    pub weight_bytes: u64,
    /// Model size with 4-byte parameters, in MiB (2^20 bytes): the unit behind the SqueezeNet
    /// paper's "4.8MB" for SqueezeNet v1.0.
    pub fp32_mib: f64,
    /// The same in MB (10^6 bytes). The paper mixes the two units: its 4.8MB (SR=0.125) and
    /// 13MB (SR=0.5) are MiB, its 19MB (SR=0.75) is MB.
    pub fp32_mb: f64,
    /// Model size with 1-byte parameters (weights and biases), in MiB.
    pub int8_mib: f64,
    /// Bytes of the weights as this network stores them (each layer at its `weight_bits`,
    /// dense, codebooks included).
    pub stored_weight_bytes: u64,
    /// Model bytes with every weight at `bits` bits (dense: no pruning) and the biases at one
    /// byte, for 8 down to 4 bits: the sizes to set beside the SqueezeNet paper's.
    pub sizes: Vec<SizeAtBits>,
    pub layers: Vec<LayerRow>,
}

/// A model size at a weight width.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SizeAtBits {
    pub bits: u8,
    pub bytes: u64,
    /// In 10^6 bytes.
    pub mb: f64,
}

/// What the paper's compressed sizes need, said rather than claimed.
pub const PAPER_SIZES_NOTE: &str = "the SqueezeNet paper's 0.66 MB (8 bits) and 0.47 MB (6 bits) \
     for v1.0 are Deep Compression with pruning (sparse storage of the weights it keeps); \
     squeezeflow keeps every weight (dense codebook indices), so it does not reach them";

fn dims(s: Shape) -> [usize; 3] {
    [s.h, s.w, s.c]
}

impl LayerRow {
    /// A convolution's row.
    pub(crate) fn conv(c: &ConvLayer) -> LayerRow {
        LayerRow {
            name: c.name.clone(),
            kind: "conv".into(),
            geometry: format!("{0}x{0}/{1} pad {2}", c.kernel, c.stride, c.pad),
            input: dims(c.input),
            output: dims(c.output),
            weights: c.weights() as u64,
            biases: c.biases() as u64,
            params: (c.weights() + c.biases()) as u64,
            macs: c.macs(),
            weight_bytes: c.weights() as u64,
            weight_bits: c.weight_bits,
            stored_bytes: stored_bytes(c),
        }
    }
    /// The row of a stage without weights.
    pub(crate) fn other(name: &str, kind: &str, geometry: String, i: Shape, o: Shape) -> LayerRow {
        LayerRow {
            name: name.into(),
            kind: kind.into(),
            geometry,
            input: dims(i),
            output: dims(o),
            weights: 0,
            biases: 0,
            params: 0,
            macs: 0,
            weight_bytes: 0,
            weight_bits: 0,
            stored_bytes: 0,
        }
    }
}

/// A layer's weights at its width (dense), with the codebook.
fn stored_bytes(c: &ConvLayer) -> u64 {
    let bits = crate::codebook::storage_bits(c.weights(), c.weight_bits).div_ceil(8);
    let book = if c.weight_bits < crate::codebook::DENSE_WEIGHT_BITS {
        1u64 << c.weight_bits
    } else {
        0
    };
    bits + book
}

impl Report {
    pub fn new(net: &Network) -> Report {
        let layers: Vec<LayerRow> = net
            .stages
            .iter()
            .flat_map(|s| s.layer().report_rows())
            .collect();
        let params = net.params();
        Report {
            network: net.config.name.clone(),
            input_size: net.config.input_size,
            num_classes: net.config.num_classes,
            params,
            macs: net.macs(),
            weight_bytes: net.weight_bytes(),
            fp32_mib: params as f64 * 4.0 / (1u64 << 20) as f64,
            fp32_mb: params as f64 * 4.0 / 1e6,
            int8_mib: params as f64 / (1u64 << 20) as f64,
            stored_weight_bytes: net.convs().iter().map(|c| stored_bytes(c)).sum(),
            sizes: (4..=8u8)
                .rev()
                .map(|bits| {
                    let w: u64 = net.convs().iter().map(|c| c.weights() as u64).sum();
                    let bytes = (w * bits as u64).div_ceil(8) + (params - w);
                    SizeAtBits {
                        bits,
                        bytes,
                        mb: bytes as f64 / 1e6,
                    }
                })
                .collect(),
            layers,
        }
    }

    /// A fixed-width text table.
    pub fn to_table(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "network {} ({}x{} RGB in, {} classes)",
            self.network, self.input_size, self.input_size, self.num_classes
        );
        let _ = writeln!(
            s,
            "{:<18} {:<8} {:<14} {:>13} {:>13} {:>9} {:>7} {:>13} {:>10} {:>4} {:>10}",
            "layer",
            "kind",
            "geometry",
            "input",
            "output",
            "weights",
            "biases",
            "MACs",
            "int8 B",
            "bits",
            "stored B"
        );
        for l in &self.layers {
            let sh = |d: [usize; 3]| format!("{}x{}x{}", d[0], d[1], d[2]);
            let _ = writeln!(
                s,
                "{:<18} {:<8} {:<14} {:>13} {:>13} {:>9} {:>7} {:>13} {:>10} {:>4} {:>10}",
                l.name,
                l.kind,
                l.geometry,
                sh(l.input),
                sh(l.output),
                l.weights,
                l.biases,
                l.macs,
                l.weight_bytes,
                if l.weight_bits == 0 {
                    "-".to_string()
                } else {
                    l.weight_bits.to_string()
                },
                l.stored_bytes
            );
        }
        let _ = writeln!(
            s,
            "total: {} params, {} MACs, {} int8 weight bytes; {:.2} MiB ({:.2} MB) at 32 bits, {:.2} MiB at 8 bits",
            self.params, self.macs, self.weight_bytes, self.fp32_mib, self.fp32_mb, self.int8_mib
        );
        let _ = writeln!(
            s,
            "weights as stored (each layer at its bits, codebooks included): {} bytes",
            self.stored_weight_bytes
        );
        let sizes: Vec<String> = self
            .sizes
            .iter()
            .map(|z| format!("{} bits {:.3} MB", z.bits, z.mb))
            .collect();
        let _ = writeln!(
            s,
            "model size with every weight at k bits (dense) and 1-byte biases: {}",
            sizes.join(", ")
        );
        let _ = writeln!(s, "({PAPER_SIZES_NOTE})");
        s
    }
}
