//! [`ConvMemories`]: a layer's quantized weights, biases and requantizers laid out in the order
//! the engine's memories hold them.

use squeezeflow_model::network::ConvLayer;
use squeezeflow_model::qmodel::QConv;
use squeezeflow_model::quant::Requant;

use super::geom::ConvGeom;

/// The quantized parameters laid out for the engine's memories.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvMemories {
    /// Per PE: `rom_depth` words of `simd` weights (lane l in bits 8l..8l+7), or of `simd`
    /// codebook indices of `wbits` bits (lane l in bits `wbits * l ..`).
    pub weights: Vec<Vec<u64>>,
    /// The layer's codebook when the words hold indices ([`squeezeflow_model::codebook`]).
    pub codebook: Option<Vec<i8>>,
    /// Per PE: one (bias, requantizer) per output group.
    pub params: Vec<Vec<(i32, Requant)>>,
}

impl ConvMemories {
    /// Word at address ((g * k + ky) * k + kx) * cg + j of PE i holds the weights of output
    /// channel g * pe + i, input channels j * simd .. j * simd + simd - 1, tap (ky, kx).
    /// The layer's weights must be stored as the geometry says (`q`'s codebook width equal to
    /// `geom.wbits`, checked by [`crate::conv::ConvEngine::from_layer`]).
    pub fn new(geom: &ConvGeom, layer: &ConvLayer, q: &QConv) -> Self {
        let (pe, simd, k, cg) = (geom.pe, geom.simd, geom.k, geom.cg());
        let book = q.codebook.as_ref().filter(|_| geom.codebook());
        // A weight's stored form: its int8 bits, or its index in the codebook.
        let mut index = [0u8; 256];
        if let Some(b) = book {
            for (i, &e) in b.entries.iter().enumerate() {
                index[e as u8 as usize] = i as u8;
            }
        }
        let wb = geom.wbits;
        let mut weights = vec![Vec::with_capacity(geom.rom_depth()); pe];
        let mut params = vec![Vec::with_capacity(geom.og()); pe];
        for (i, (wrom, prom)) in weights.iter_mut().zip(params.iter_mut()).enumerate() {
            for g in 0..geom.og() {
                let co = g * pe + i;
                prom.push((q.bias[co], q.requant[co]));
                for ky in 0..k {
                    for kx in 0..k {
                        for j in 0..cg {
                            let mut word = 0u64;
                            for l in 0..simd {
                                let w = q.w(layer, co, j * simd + l, ky, kx) as u8;
                                let v = if book.is_some() { index[w as usize] } else { w };
                                word |= (v as u64) << (wb * l);
                            }
                            wrom.push(word);
                        }
                    }
                }
            }
        }
        ConvMemories {
            weights,
            params,
            codebook: book.map(|b| b.entries.clone()),
        }
    }

    /// The smallest requantizer shift of PEs `pes` (one requantizer's chain): its parameter
    /// words hold each shift less this base, a `sqf_requant` parameter, so that the shifter's
    /// variable part spans only the shifts the layer uses (0 for no PE).
    pub fn shift_base(&self, pes: std::ops::Range<usize>) -> u8 {
        self.params[pes]
            .iter()
            .flatten()
            .map(|(_, r)| r.shift)
            .min()
            .unwrap_or(0)
    }
}
