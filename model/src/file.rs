//! The quantized model file: a [safetensors](https://github.com/huggingface/safetensors) file
//! (readable from Python with `safetensors.numpy.load_file`).
//!
//! Metadata (the header's `__metadata__`, all strings):
//! - `format` = `squeezeflow-int8`, `format_version` = `1`, or `2` when a layer stores codebook
//!   indices (a version-1 reader refuses those files rather than misreading them)
//! - `config`: the network as TOML ([`NetworkConfig::to_toml_string`])
//! - `source`: where the weights came from
//!
//! Tensors (little-endian), for every convolution `L` (`conv1`, `fire2.squeeze`, ...):
//! - `L.weight` i8 `[out, in, k, k]`, or for a layer of `k < 8` bits ([`crate::codebook`]):
//!   `L.weight_index` u8 `[out, in, k, k]` (one index a byte) and `L.codebook` i8 `[n]` (the
//!   distinct shared values, ascending, `n <= 2^k`); `L.bias` i32 `[out]`
//! - `L.multiplier` u16 `[out]`, `L.shift` u8 `[out]`: the requantizer of [`crate::quant`]
//! - `L.weight_scale` f32 `[out]`; `L.scales` f32 `[2]`: input and output activation scale
//!
//! For every Fire module `F` with a bypass: `F.add.k` u16 `[2]` (ka, kb), `F.add.multiplier`
//! u16 `[1]`, `F.add.shift` u8 `[1]`, `F.add.scales` f32 `[3]` (a, b, output scale).
//! The global average pool: `avgpool.multiplier` u16 `[1]`, `avgpool.shift` u8 `[1]`,
//! `avgpool.scales` f32 `[1]` (the logit scale).
//!
//! Loading checks everything: the format tag, the config, every tensor's presence, dtype and
//! shape, and the requantizer ranges; tensors the network does not use are an error too.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::codebook::{Codebook, DENSE_WEIGHT_BITS};
use crate::config::NetworkConfig;
use crate::error::ModelError;
use crate::network::{ConvLayer, Network};
use crate::qmodel::{QAdd, QConv, QuantModel};
use crate::quant::{AddParams, Requant};

pub const FORMAT: &str = "squeezeflow-int8";
pub const FORMAT_VERSION: &str = "1";
/// The version of a file with codebook layers.
pub const FORMAT_VERSION_CODEBOOK: &str = "2";

/// Raw little-endian bytes of one tensor before serialization.
struct Raw {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

fn raw_u8(dtype: Dtype, shape: Vec<usize>, data: Vec<u8>) -> Raw {
    Raw { dtype, shape, data }
}
fn raw_i32(v: &[i32]) -> Raw {
    raw_u8(
        Dtype::I32,
        vec![v.len()],
        v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    )
}
fn raw_u16(v: &[u16]) -> Raw {
    raw_u8(
        Dtype::U16,
        vec![v.len()],
        v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    )
}
fn raw_f32(v: &[f32]) -> Raw {
    raw_u8(
        Dtype::F32,
        vec![v.len()],
        v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    )
}

/// Serializes a model to safetensors bytes.
pub fn to_bytes(model: &QuantModel) -> Result<Vec<u8>, ModelError> {
    let mut tensors: BTreeMap<String, Raw> = BTreeMap::new();
    for l in model.network.convs() {
        let q = model.conv(&l.name);
        let n = &l.name;
        let shape = vec![l.out_channels(), l.in_channels(), l.kernel, l.kernel];
        match &q.codebook {
            None => {
                let w = q.weights.iter().map(|&w| w as u8).collect();
                tensors.insert(format!("{n}.weight"), raw_u8(Dtype::I8, shape, w));
            }
            Some(book) => {
                let idx = book.indices(n, &q.weights)?;
                tensors.insert(format!("{n}.weight_index"), raw_u8(Dtype::U8, shape, idx));
                let e = book.entries.iter().map(|&w| w as u8).collect();
                let len = book.entries.len();
                tensors.insert(format!("{n}.codebook"), raw_u8(Dtype::I8, vec![len], e));
            }
        }
        tensors.insert(format!("{n}.bias"), raw_i32(&q.bias));
        let mults: Vec<u16> = q.requant.iter().map(|r| r.mult).collect();
        tensors.insert(format!("{n}.multiplier"), raw_u16(&mults));
        let shifts: Vec<u8> = q.requant.iter().map(|r| r.shift).collect();
        tensors.insert(
            format!("{n}.shift"),
            raw_u8(Dtype::U8, vec![shifts.len()], shifts),
        );
        tensors.insert(format!("{n}.weight_scale"), raw_f32(&q.weight_scale));
        tensors.insert(
            format!("{n}.scales"),
            raw_f32(&[q.input_scale, q.output_scale]),
        );
    }
    for (f, a) in &model.adds {
        tensors.insert(format!("{f}.add.k"), raw_u16(&[a.params.ka, a.params.kb]));
        tensors.insert(
            format!("{f}.add.multiplier"),
            raw_u16(&[a.params.requant.mult]),
        );
        tensors.insert(
            format!("{f}.add.shift"),
            raw_u8(Dtype::U8, vec![1], vec![a.params.requant.shift]),
        );
        tensors.insert(
            format!("{f}.add.scales"),
            raw_f32(&[a.scale_a, a.scale_b, a.output_scale]),
        );
    }
    tensors.insert("avgpool.multiplier".into(), raw_u16(&[model.gap.mult]));
    tensors.insert(
        "avgpool.shift".into(),
        raw_u8(Dtype::U8, vec![1], vec![model.gap.shift]),
    );
    tensors.insert("avgpool.scales".into(), raw_f32(&[model.logit_scale]));

    let mut views = Vec::with_capacity(tensors.len());
    for (name, r) in &tensors {
        let view = TensorView::new(r.dtype, r.shape.clone(), &r.data)
            .map_err(|e| ModelError::model_file(format!("tensor '{name}': {e}")))?;
        views.push((name.clone(), view));
    }
    let mut meta = HashMap::new();
    meta.insert("format".to_string(), FORMAT.to_string());
    let codebooks = model.convs.values().any(|q| q.codebook.is_some());
    let version = if codebooks {
        FORMAT_VERSION_CODEBOOK
    } else {
        FORMAT_VERSION
    };
    meta.insert("format_version".to_string(), version.to_string());
    meta.insert("config".to_string(), model.config().to_toml_string());
    meta.insert("source".to_string(), model.source.clone());
    let bytes = safetensors::serialize(views, Some(meta))
        .map_err(|e| ModelError::model_file(format!("serializing: {e}")))?;
    canonical_header(bytes)
}

/// safetensors writes the metadata from a `HashMap`, in a different order on every run; this
/// rewrites the header with its keys sorted, so one model always gives the same bytes (a
/// regenerated model asset changes only when the model does).
fn canonical_header(bytes: Vec<u8>) -> Result<Vec<u8>, ModelError> {
    use std::collections::BTreeMap;
    let bad = |m: String| ModelError::model_file(format!("serializing: {m}"));
    let n = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
        .ok_or_else(|| bad("no header".into()))?;
    let header = bytes
        .get(8..8 + n)
        .ok_or_else(|| bad("short header".into()))?;
    let mut map: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(header).map_err(|e| bad(e.to_string()))?;
    if let Some(meta) = map.get_mut("__metadata__") {
        let sorted: BTreeMap<String, serde_json::Value> =
            serde_json::from_value(meta.take()).map_err(|e| bad(e.to_string()))?;
        *meta = serde_json::to_value(sorted).map_err(|e| bad(e.to_string()))?;
    }
    let mut text = serde_json::to_string(&map).map_err(|e| bad(e.to_string()))?;
    while !text.len().is_multiple_of(8) {
        text.push(' ');
    }
    let mut out = Vec::with_capacity(bytes.len() + 8);
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(&bytes[8 + n..]);
    Ok(out)
}

/// Writes a model file.
pub fn save(model: &QuantModel, path: &Path) -> Result<(), ModelError> {
    let bytes = to_bytes(model)?;
    std::fs::write(path, bytes)
        .map_err(|e| ModelError::io(format!("writing model {}", path.display()), e))
}

/// Reads a model file.
pub fn load(path: &Path) -> Result<QuantModel, ModelError> {
    let bytes = crate::limits::read_bounded(path, crate::limits::MAX_MODEL_BYTES, "model")?;
    from_bytes(&bytes).map_err(|e| e.in_file(path))
}

struct Reader<'a> {
    st: SafeTensors<'a>,
    used: std::collections::BTreeSet<String>,
}

impl<'a> Reader<'a> {
    fn get(&mut self, name: &str, dtype: Dtype, shape: &[usize]) -> Result<&'a [u8], ModelError> {
        let t = self
            .st
            .tensor(name)
            .map_err(|_| ModelError::model_file(format!("missing tensor '{name}'")))?;
        if t.dtype() != dtype {
            return Err(ModelError::model_file(format!(
                "tensor '{name}' is {:?}, expected {dtype:?}",
                t.dtype()
            )));
        }
        if t.shape() != shape {
            return Err(ModelError::model_file(format!(
                "tensor '{name}' has shape {:?}, expected {shape:?}",
                t.shape()
            )));
        }
        self.used.insert(name.to_string());
        Ok(t.data())
    }
    fn i32s(&mut self, name: &str, n: usize) -> Result<Vec<i32>, ModelError> {
        let d = self.get(name, Dtype::I32, &[n])?;
        Ok(d.chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    fn u16s(&mut self, name: &str, n: usize) -> Result<Vec<u16>, ModelError> {
        let d = self.get(name, Dtype::U16, &[n])?;
        Ok(d.chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect())
    }
    fn u8s(&mut self, name: &str, n: usize) -> Result<Vec<u8>, ModelError> {
        Ok(self.get(name, Dtype::U8, &[n])?.to_vec())
    }
    fn f32s(&mut self, name: &str, n: usize) -> Result<Vec<f32>, ModelError> {
        let d = self.get(name, Dtype::F32, &[n])?;
        let v: Vec<f32> = d
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        if let Some(bad) = v.iter().find(|x| !(x.is_finite() && **x > 0.0)) {
            return Err(ModelError::model_file(format!(
                "tensor '{name}' holds the scale {bad}; scales must be positive and finite"
            )));
        }
        Ok(v)
    }
    fn requants(&mut self, prefix: &str, n: usize) -> Result<Vec<Requant>, ModelError> {
        let m = self.u16s(&format!("{prefix}.multiplier"), n)?;
        let s = self.u8s(&format!("{prefix}.shift"), n)?;
        Ok(m.into_iter()
            .zip(s)
            .map(|(mult, shift)| Requant { mult, shift })
            .collect())
    }
    fn conv(&mut self, l: &ConvLayer) -> Result<QConv, ModelError> {
        let n = &l.name;
        let oc = l.out_channels();
        let shape = [oc, l.in_channels(), l.kernel, l.kernel];
        let (weights, codebook) = if l.weight_bits < DENSE_WEIGHT_BITS {
            let t = self.st.tensor(&format!("{n}.codebook")).map_err(|_| {
                ModelError::model_file(format!(
                    "missing tensor '{n}.codebook' ({n} stores {}-bit indices)",
                    l.weight_bits
                ))
            })?;
            let len = t.shape().first().copied().unwrap_or(0);
            let e = self.get(&format!("{n}.codebook"), Dtype::I8, &[len])?;
            let book = Codebook {
                bits: l.weight_bits,
                entries: e.iter().map(|&b| b as i8).collect(),
            };
            book.check(n)?;
            let idx = self.get(&format!("{n}.weight_index"), Dtype::U8, &shape)?;
            (book.decode(n, idx)?, Some(book))
        } else {
            let w = self.get(&format!("{n}.weight"), Dtype::I8, &shape)?;
            (w.iter().map(|&b| b as i8).collect(), None)
        };
        let scales = self.f32s(&format!("{n}.scales"), 2)?;
        let q = QConv {
            weights,
            codebook,
            bias: self.i32s(&format!("{n}.bias"), oc)?,
            requant: self.requants(n, oc)?,
            weight_scale: self.f32s(&format!("{n}.weight_scale"), oc)?,
            input_scale: scales[0],
            output_scale: scales[1],
        };
        q.check(l)?;
        Ok(q)
    }
}

/// Parses a model from safetensors bytes.
pub fn from_bytes(bytes: &[u8]) -> Result<QuantModel, ModelError> {
    let (_, metadata) = SafeTensors::read_metadata(bytes)
        .map_err(|e| ModelError::model_file(format!("not a readable safetensors file ({e})")))?;
    let meta = metadata.metadata().clone().ok_or_else(|| {
        ModelError::model_file("no squeezeflow metadata (not a squeezeflow model)")
    })?;
    let field = |k: &str| {
        meta.get(k)
            .cloned()
            .ok_or_else(|| ModelError::model_file(format!("metadata has no '{k}'")))
    };
    let format = field("format")?;
    if format != FORMAT {
        return Err(ModelError::model_file(format!(
            "format is '{format}', expected '{FORMAT}'"
        )));
    }
    let version = field("format_version")?;
    if version != FORMAT_VERSION && version != FORMAT_VERSION_CODEBOOK {
        return Err(ModelError::model_file(format!(
            "format_version {version} is not supported (this build reads \
             {FORMAT_VERSION} and {FORMAT_VERSION_CODEBOOK})"
        )));
    }
    let config = NetworkConfig::from_toml_str(&field("config")?)
        .map_err(|e| ModelError::model_file(format!("embedded config: {e}")))?;
    let source = meta.get("source").cloned().unwrap_or_default();
    let network = Network::new(&config)?;
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| ModelError::model_file(format!("not a readable safetensors file ({e})")))?;
    let mut r = Reader {
        st,
        used: Default::default(),
    };
    let mut convs = BTreeMap::new();
    for l in network.convs() {
        convs.insert(l.name.clone(), r.conv(l)?);
    }
    let mut adds = BTreeMap::new();
    for f in network.fires().filter(|f| f.has_add()) {
        let p = format!("{}.add", f.name);
        let k = r.u16s(&format!("{p}.k"), 2)?;
        let requant = r.requants(&p, 1)?[0];
        if !requant.is_valid() {
            return Err(ModelError::model_file(format!(
                "tensor '{p}.shift' is outside the contract"
            )));
        }
        let s = r.f32s(&format!("{p}.scales"), 3)?;
        adds.insert(
            f.name.clone(),
            QAdd {
                params: AddParams {
                    ka: k[0],
                    kb: k[1],
                    requant,
                },
                scale_a: s[0],
                scale_b: s[1],
                output_scale: s[2],
            },
        );
    }
    let gap = r.requants("avgpool", 1)?[0];
    let logit_scale = r.f32s("avgpool.scales", 1)?[0];
    let names: Vec<String> = r.st.names().into_iter().map(|s| s.to_string()).collect();
    if let Some(extra) = names.iter().find(|n| !r.used.contains(*n)) {
        return Err(ModelError::model_file(format!(
            "tensor '{extra}' is not part of network '{}'",
            config.name
        )));
    }
    let model = QuantModel {
        network,
        convs,
        adds,
        gap,
        logit_scale,
        source,
    };
    model.check()?;
    Ok(model)
}
