//! ONNX import: recognises a SqueezeNet-family graph, maps it onto a [`NetworkConfig`] and builds
//! a [`FloatModel`] with the ImageNet normalization folded into conv1.
//!
//! Parsing uses the `onnx-protobuf` crate (messages generated from `onnx.proto`). The graph is
//! recognised structurally, following the data from the graph input:
//!
//! - `conv1`: Conv (no padding, group 1) + Relu, on a `1x3xNxN` float input;
//! - optional MaxPool (3x3, stride 2, ceil mode; floor mode where it gives the same size) after
//!   conv1 or any Fire module;
//! - Fire modules: a 1x1 squeeze Conv + Relu feeding a 1x1 and a 3x3 (padding 1) expand Conv, each
//!   followed by a Relu, concatenated on channels (1x1 first); optionally an Add of the module's
//!   input (simple bypass) or of a 1x1 Conv + Relu of it (complex bypass), optionally followed by
//!   a Relu (a no-op on a sum of two ReLU outputs);
//! - `conv10`: a 1x1 Conv + Relu, then GlobalAveragePool (or an AveragePool over the whole map),
//!   optionally Flatten, which must be the graph's output.
//!
//! Dropout and Identity are transparent (inference). Anything else is an error that names the
//! first node that does not fit.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

pub use onnx_protobuf as proto;
use onnx_protobuf::{Message, ModelProto, NodeProto, TensorProto};

use crate::config::{Bypass, Conv1Spec, FireSpec, NetworkConfig, PRESETS};
use crate::error::ModelError;
use crate::float::{fold_normalization, FConv, FloatModel, IMAGENET_MEAN, IMAGENET_STD};
use crate::network::{pool_out_size, FireBypass, Network};

/// Op types the recogniser knows.
pub const SUPPORTED_OPS: &[&str] = &[
    "Conv",
    "Relu",
    "MaxPool",
    "Concat",
    "GlobalAveragePool",
    "AveragePool",
    "Flatten",
    "Dropout",
    "Identity",
    "Add",
];

fn err(msg: impl Into<String>) -> ModelError {
    ModelError::Onnx(msg.into())
}

/// Reads an ONNX file and imports it (see [`import_bytes`]); `source` in the model is the file
/// name.
pub fn import_file(path: &Path) -> Result<FloatModel, ModelError> {
    let bytes = std::fs::read(path)
        .map_err(|e| ModelError::io(format!("reading ONNX model {}", path.display()), e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "onnx".into());
    import_bytes(&bytes, &stem, &format!("ONNX {name}")).map_err(|e| e.in_file(path))
}

/// Imports a SqueezeNet-family ONNX model from its bytes. `name` names the network when it is not
/// one of the presets; `source` is recorded in the model.
pub fn import_bytes(bytes: &[u8], name: &str, source: &str) -> Result<FloatModel, ModelError> {
    let model = ModelProto::parse_from_bytes(bytes)
        .map_err(|e| err(format!("not a readable ONNX model ({e})")))?;
    import_proto(&model, name, source)
}

/// Imports a parsed ONNX model.
pub fn import_proto(
    model: &ModelProto,
    name: &str,
    source: &str,
) -> Result<FloatModel, ModelError> {
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| err("the model has no graph (is this an ONNX model?)"))?;
    if graph.node.is_empty() {
        return Err(err("the graph has no nodes"));
    }
    let g = Graph::new(graph)?;
    let found = g.recognise()?;
    found.build(name, source)
}

/// Describes a node for error messages: `node #3 "conv1_1" (Conv)`.
fn describe(i: usize, n: &NodeProto) -> String {
    if n.name.is_empty() {
        format!("node #{i} ({}, output '{}')", n.op_type, first(&n.output))
    } else {
        format!("node #{i} '{}' ({})", n.name, n.op_type)
    }
}

fn first(v: &[String]) -> &str {
    v.first().map(String::as_str).unwrap_or("")
}

fn attr<'a>(n: &'a NodeProto, name: &str) -> Option<&'a proto::AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

fn attr_ints(n: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(n, name).map(|a| a.ints.clone())
}

fn attr_int(n: &NodeProto, name: &str, default: i64) -> i64 {
    attr(n, name).map(|a| a.i).unwrap_or(default)
}

fn attr_str(n: &NodeProto, name: &str) -> String {
    attr(n, name)
        .map(|a| String::from_utf8_lossy(&a.s).into_owned())
        .unwrap_or_default()
}

/// Largest initializer accepted (values): far above any SqueezeNet layer's.
const MAX_TENSOR_VALUES: usize = 1 << 28;

/// Largest input size accepted.
pub const MAX_INPUT_SIZE: i64 = 4096;

/// Float data of an initializer (FLOAT, from `float_data` or little-endian `raw_data`).
fn tensor_f32(t: &TensorProto) -> Result<Vec<f32>, ModelError> {
    if t.dims.iter().any(|&d| d < 0) {
        return Err(err(format!(
            "initializer '{}' has a negative dimension",
            t.name
        )));
    }
    let n = t
        .dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d as usize))
        .filter(|&n| n <= MAX_TENSOR_VALUES)
        .ok_or_else(|| {
            err(format!(
                "initializer '{}' has the impossible shape {:?}",
                t.name, t.dims
            ))
        })?;
    if t.data_type != proto::tensor_proto::DataType::FLOAT as i32 {
        return Err(err(format!(
            "initializer '{}' has ONNX data type {}, only FLOAT (1) is supported",
            t.name, t.data_type
        )));
    }
    if !t.external_data.is_empty() {
        return Err(err(format!(
            "initializer '{}' is stored in an external file, which is not supported",
            t.name
        )));
    }
    let v: Vec<f32> = if !t.raw_data.is_empty() {
        if t.raw_data.len() != 4 * n {
            return Err(err(format!(
                "initializer '{}' has {} bytes of data, its shape {:?} needs {}",
                t.name,
                t.raw_data.len(),
                t.dims,
                4 * n
            )));
        }
        t.raw_data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        if t.float_data.len() != n {
            return Err(err(format!(
                "initializer '{}' has {} values, its shape {:?} needs {n}",
                t.name,
                t.float_data.len(),
                t.dims
            )));
        }
        t.float_data.clone()
    };
    if let Some(bad) = v.iter().find(|x| !x.is_finite()) {
        return Err(err(format!("initializer '{}' holds {bad}", t.name)));
    }
    Ok(v)
}

/// The graph with its lookups.
struct Graph<'a> {
    nodes: &'a [NodeProto],
    inits: HashMap<&'a str, &'a TensorProto>,
    /// Output of a transparent node (Dropout, Identity) -> the tensor it passes on.
    alias: HashMap<&'a str, &'a str>,
    /// Tensor (resolved through aliases) -> indices of the nodes that read it.
    consumers: HashMap<&'a str, Vec<usize>>,
    input: (&'a str, usize),
    outputs: Vec<&'a str>,
}

/// One convolution found in the graph.
#[derive(Debug)]
struct FoundConv {
    node: usize,
    out_c: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

#[derive(Debug)]
enum FoundBypass {
    None,
    Identity,
    Conv(FoundConv),
}

#[derive(Debug)]
struct FoundFire {
    squeeze: FoundConv,
    expand1x1: FoundConv,
    expand3x3: FoundConv,
    bypass: FoundBypass,
}

/// What the recogniser found.
#[derive(Debug)]
struct Found {
    input_size: usize,
    conv1: FoundConv,
    fires: Vec<FoundFire>,
    pool_after: Vec<String>,
    conv10: FoundConv,
}

fn is_transparent(op: &str) -> bool {
    op == "Dropout" || op == "Identity"
}

impl<'a> Graph<'a> {
    fn new(g: &'a proto::GraphProto) -> Result<Self, ModelError> {
        for (i, n) in g.node.iter().enumerate() {
            if !(n.domain.is_empty() || n.domain == "ai.onnx") {
                return Err(err(format!(
                    "{} is from the operator domain '{}', not part of the SqueezeNet family",
                    describe(i, n),
                    n.domain
                )));
            }
            if !SUPPORTED_OPS.contains(&n.op_type.as_str()) {
                return Err(err(format!(
                    "{} is not part of the SqueezeNet family (supported ops: {})",
                    describe(i, n),
                    SUPPORTED_OPS.join(", ")
                )));
            }
        }
        let inits: HashMap<&str, &TensorProto> =
            g.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
        let inputs: Vec<&proto::ValueInfoProto> = g
            .input
            .iter()
            .filter(|v| !inits.contains_key(v.name.as_str()))
            .collect();
        let input = match inputs.as_slice() {
            [one] => *one,
            [] => return Err(err("the graph has no input")),
            more => {
                return Err(err(format!(
                    "the graph has {} inputs ({}); a SqueezeNet-family network has one image input",
                    more.len(),
                    more.iter()
                        .map(|v| v.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
        let size = input_size(input)?;
        let mut alias: HashMap<&str, &str> = HashMap::new();
        for n in &g.node {
            if is_transparent(&n.op_type) {
                if let (Some(i), Some(o)) = (n.input.first(), n.output.first()) {
                    alias.insert(o.as_str(), i.as_str());
                }
            }
        }
        let mut g2 = Graph {
            nodes: &g.node,
            inits,
            alias,
            consumers: HashMap::new(),
            input: (input.name.as_str(), size),
            outputs: g.output.iter().map(|o| o.name.as_str()).collect(),
        };
        let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, n) in g.node.iter().enumerate() {
            if is_transparent(&n.op_type) {
                // A Dropout's mask output must not be used.
                if let Some(mask) = n.output.get(1).filter(|m| !m.is_empty()) {
                    if g.node.iter().any(|m| m.input.contains(mask)) {
                        return Err(err(format!(
                            "{} has its mask output '{mask}' used, which does not fit inference",
                            describe(i, n)
                        )));
                    }
                }
                continue;
            }
            for inp in &n.input {
                if inp.is_empty() || g2.inits.contains_key(inp.as_str()) {
                    continue;
                }
                let r = g2.resolve(inp);
                let list = consumers.entry(r).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
        }
        g2.consumers = consumers;
        Ok(g2)
    }

    fn resolve(&self, mut t: &'a str) -> &'a str {
        let mut hops = 0;
        while let Some(&next) = self.alias.get(t) {
            t = next;
            hops += 1;
            if hops > self.nodes.len() {
                break;
            }
        }
        t
    }

    fn node(&self, i: usize) -> &'a NodeProto {
        &self.nodes[i]
    }

    fn out(&self, i: usize) -> &'a str {
        self.resolve(first(&self.nodes[i].output))
    }

    fn users(&self, t: &str) -> &[usize] {
        self.consumers.get(t).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Error for a tensor whose readers are not what the family needs at this point.
    fn unexpected(&self, t: &str, want: &str) -> ModelError {
        match self.users(t).first() {
            Some(&i) => err(format!(
                "{} does not fit the SqueezeNet family: expected {want} reading '{t}'",
                describe(i, self.node(i))
            )),
            None => err(format!(
                "the graph ends at '{t}' where the SqueezeNet family expects {want}"
            )),
        }
    }

    /// The single node reading `t`, if it has op type `op`.
    fn single(&self, t: &str, op: &str) -> Option<usize> {
        match self.users(t) {
            [i] if self.node(*i).op_type == op => Some(*i),
            _ => None,
        }
    }

    /// `t` read by exactly one Relu; returns its output.
    fn relu_after(&self, conv: usize) -> Result<&'a str, ModelError> {
        let t = self.out(conv);
        match self.single(t, "Relu") {
            Some(r) => Ok(self.out(r)),
            None => Err(match self.users(t).first() {
                Some(&i) => err(format!(
                    "{} does not fit the SqueezeNet family: every convolution is followed by a Relu \
                     (after {})",
                    describe(i, self.node(i)),
                    describe(conv, self.node(conv))
                )),
                None => err(format!(
                    "{} is not followed by a Relu",
                    describe(conv, self.node(conv))
                )),
            }),
        }
    }

    /// Reads a Conv node's parameters and checks what the family allows.
    fn conv(&self, i: usize, in_c: usize) -> Result<FoundConv, ModelError> {
        let n = self.node(i);
        let d = describe(i, n);
        let bad = |m: String| err(format!("{d}: {m}"));
        let wname = n
            .input
            .get(1)
            .ok_or_else(|| bad("has no weight input".into()))?;
        let w = self
            .inits
            .get(wname.as_str())
            .ok_or_else(|| bad(format!("its weight '{wname}' is not an initializer")))?;
        if w.dims.len() != 4 {
            return Err(bad(format!(
                "weight '{wname}' has shape {:?}, not OIHW",
                w.dims
            )));
        }
        let dims: Vec<usize> = w.dims.iter().map(|&x| x.max(0) as usize).collect();
        let (out_c, w_in, kh, kw) = (dims[0], dims[1], dims[2], dims[3]);
        if kh != kw || kh == 0 {
            return Err(bad(format!("a {kh}x{kw} kernel is not square")));
        }
        if let Some(ks) = attr_ints(n, "kernel_shape") {
            if ks.len() != 2 || ks[0] as usize != kh || ks[1] as usize != kw {
                return Err(bad(format!(
                    "kernel_shape {ks:?} disagrees with the weight's {kh}x{kw}"
                )));
            }
        }
        let group = attr_int(n, "group", 1);
        if group != 1 {
            return Err(bad(format!(
                "group {group}: grouped convolutions are not part of the family"
            )));
        }
        if w_in != in_c {
            return Err(bad(format!(
                "takes {w_in} input channels, the tensor it reads has {in_c}"
            )));
        }
        if let Some(d) = attr_ints(n, "dilations") {
            if d.iter().any(|&x| x != 1) {
                return Err(bad(format!("dilations {d:?} are not supported")));
            }
        }
        let strides = attr_ints(n, "strides").unwrap_or_else(|| vec![1, 1]);
        if strides.len() != 2 || strides[0] != strides[1] || strides[0] < 1 {
            return Err(bad(format!("strides {strides:?} are not square")));
        }
        let auto_pad = attr_str(n, "auto_pad");
        let pads = attr_ints(n, "pads").unwrap_or_else(|| vec![0; 4]);
        if !(auto_pad.is_empty() || auto_pad == "NOTSET" || (auto_pad == "VALID")) {
            return Err(bad(format!("auto_pad {auto_pad} is not supported")));
        }
        if pads.len() != 4 || pads.iter().any(|&p| p != pads[0]) || pads[0] < 0 {
            return Err(bad(format!("pads {pads:?} are not the same on every side")));
        }
        let weights = tensor_f32(w)?;
        let bias = match n.input.get(2).filter(|b| !b.is_empty()) {
            None => vec![0.0; out_c],
            Some(bname) => {
                let b = self
                    .inits
                    .get(bname.as_str())
                    .ok_or_else(|| bad(format!("its bias '{bname}' is not an initializer")))?;
                let v = tensor_f32(b)?;
                if v.len() != out_c {
                    return Err(bad(format!(
                        "bias '{bname}' has {} values for {out_c} output channels",
                        v.len()
                    )));
                }
                v
            }
        };
        Ok(FoundConv {
            node: i,
            out_c,
            kernel: kh,
            stride: strides[0] as usize,
            pad: pads[0] as usize,
            weights,
            bias,
        })
    }

    /// Checks a conv's geometry against what its role needs.
    fn expect_geometry(
        &self,
        c: &FoundConv,
        role: &str,
        kernel: usize,
        pad: usize,
    ) -> Result<(), ModelError> {
        if c.kernel != kernel || c.stride != 1 || c.pad != pad {
            return Err(err(format!(
                "{} does not fit the SqueezeNet family: as {role} it should be a {kernel}x{kernel} \
                 convolution with stride 1 and padding {pad}, it is {k}x{k} with stride {} and \
                 padding {}",
                describe(c.node, self.node(c.node)),
                c.stride,
                c.pad,
                k = c.kernel
            )));
        }
        Ok(())
    }

    /// A MaxPool node: checks 3x3, stride 2, no padding and the ceil-mode size.
    fn maxpool(&self, i: usize, size: usize) -> Result<usize, ModelError> {
        let n = self.node(i);
        let d = describe(i, n);
        let ks = attr_ints(n, "kernel_shape").unwrap_or_default();
        let st = attr_ints(n, "strides").unwrap_or_else(|| vec![1, 1]);
        let pads = attr_ints(n, "pads").unwrap_or_else(|| vec![0; 4]);
        if ks != [3, 3] || st != [2, 2] || pads.iter().any(|&p| p != 0) {
            return Err(err(format!(
                "{d} does not fit the SqueezeNet family: max pools are 3x3 with stride 2 and no \
                 padding (kernel_shape {ks:?}, strides {st:?}, pads {pads:?})"
            )));
        }
        if let Some(d2) = attr_ints(n, "dilations") {
            if d2.iter().any(|&x| x != 1) {
                return Err(err(format!("{d}: dilations {d2:?} are not supported")));
            }
        }
        let ap = attr_str(n, "auto_pad");
        if !(ap.is_empty() || ap == "NOTSET" || ap == "VALID") {
            return Err(err(format!("{d}: auto_pad {ap} is not supported")));
        }
        let out = pool_out_size(size, 3, 2).ok_or_else(|| {
            err(format!(
                "{d}: a 3x3 pool does not fit the {size}x{size} map"
            ))
        })?;
        if attr_int(n, "ceil_mode", 0) == 0 && (size - 3) / 2 + 1 != out {
            return Err(err(format!(
                "{d} uses floor mode, which gives a different size from the family's ceil mode on \
                 a {size}x{size} map"
            )));
        }
        Ok(out)
    }

    fn recognise(&self) -> Result<Found, ModelError> {
        let (input, n) = self.input;
        let used = std::cell::RefCell::new(vec![false; self.nodes.len()]);
        let mut mark = |i: usize| used.borrow_mut()[i] = true;

        // conv1
        let c1 = self
            .single(input, "Conv")
            .ok_or_else(|| self.unexpected(input, "conv1 (a Conv)"))?;
        let conv1 = self.conv(c1, 3)?;
        if conv1.pad != 0 {
            return Err(err(format!(
                "{}: conv1 has padding {}; the family's conv1 has none (the input normalization \
                 folds into it only then)",
                describe(c1, self.node(c1)),
                conv1.pad
            )));
        }
        if n < conv1.kernel {
            return Err(err(format!(
                "the {n}x{n} input is smaller than conv1's kernel"
            )));
        }
        mark(c1);
        let mut cur = self.relu_after(c1)?;
        mark(self.users(self.out(c1))[0]);
        let mut size = (n - conv1.kernel) / conv1.stride + 1;
        let mut channels = conv1.out_c;
        let mut pool_after = Vec::new();
        let mut fires = Vec::new();
        let mut last = "conv1".to_string();

        loop {
            // A max pool after the last layer?
            if let Some(p) = self.single(cur, "MaxPool") {
                if pool_after.contains(&last) {
                    return Err(err(format!(
                        "{} does not fit the SqueezeNet family: a second pool after {last}",
                        describe(p, self.node(p))
                    )));
                }
                size = self.maxpool(p, size)?;
                mark(p);
                pool_after.push(last.clone());
                cur = self.out(p);
                continue;
            }
            let users = self.users(cur);
            // conv10: a single conv whose Relu feeds the average pool.
            if let [ci] = users {
                if self.node(*ci).op_type == "Conv" {
                    let t = self.out(*ci);
                    if let Some(r) = self.single(t, "Relu") {
                        let rt = self.out(r);
                        if let [pi] = self.users(rt) {
                            let op = self.node(*pi).op_type.as_str();
                            if op == "GlobalAveragePool" || op == "AveragePool" {
                                let conv10 = self.conv(*ci, channels)?;
                                self.expect_geometry(&conv10, "conv10", 1, 0)?;
                                mark(*ci);
                                mark(r);
                                let end = self.avgpool(*pi, size, &mut mark)?;
                                if !self.outputs.iter().any(|o| self.resolve(o) == end) {
                                    return Err(err(format!(
                                        "the average pool's result '{end}' is not the graph's \
                                         output (outputs: {})",
                                        self.outputs.join(", ")
                                    )));
                                }
                                if self.outputs.len() != 1 {
                                    return Err(err(format!(
                                        "the graph has {} outputs; the family has one (the logits)",
                                        self.outputs.len()
                                    )));
                                }
                                // Every node must be on the chain.
                                for (i, nd) in self.nodes.iter().enumerate() {
                                    if !used.borrow()[i] && !is_transparent(&nd.op_type) {
                                        return Err(err(format!(
                                            "{} does not fit the SqueezeNet family: it is not on \
                                             the chain from the input to the logits",
                                            describe(i, nd)
                                        )));
                                    }
                                }
                                return Ok(Found {
                                    input_size: n,
                                    conv1,
                                    fires,
                                    pool_after,
                                    conv10,
                                });
                            }
                        }
                    }
                }
            }
            // A Fire module.
            let idx = fires.len() + 2;
            let (fire, out) = self.fire(cur, channels, idx, &mut mark)?;
            channels = fire.expand1x1.out_c + fire.expand3x3.out_c;
            fires.push(fire);
            last = format!("fire{idx}");
            cur = out;
        }
    }

    /// The global (or whole-map) average pool and an optional Flatten; returns the final tensor.
    fn avgpool(
        &self,
        i: usize,
        size: usize,
        mark: &mut impl FnMut(usize),
    ) -> Result<&'a str, ModelError> {
        let n = self.node(i);
        if n.op_type == "AveragePool" {
            let ks = attr_ints(n, "kernel_shape").unwrap_or_default();
            let pads = attr_ints(n, "pads").unwrap_or_else(|| vec![0; 4]);
            if ks != [size as i64, size as i64] || pads.iter().any(|&p| p != 0) {
                return Err(err(format!(
                    "{} does not fit the SqueezeNet family: the average pool must cover the whole \
                     {size}x{size} map without padding (kernel_shape {ks:?}, pads {pads:?})",
                    describe(i, n)
                )));
            }
        }
        mark(i);
        let mut t = self.out(i);
        if let Some(f) = self.single(t, "Flatten") {
            let axis = attr_int(self.node(f), "axis", 1);
            if axis != 1 {
                return Err(err(format!(
                    "{}: Flatten with axis {axis} (the family flattens from axis 1)",
                    describe(f, self.node(f))
                )));
            }
            mark(f);
            t = self.out(f);
        }
        if let Some(&u) = self.users(t).first() {
            return Err(err(format!(
                "{} does not fit the SqueezeNet family: nothing follows the average pool",
                describe(u, self.node(u))
            )));
        }
        Ok(t)
    }

    /// A Fire module reading `x` (with `in_c` channels); returns it and its output tensor.
    fn fire(
        &self,
        x: &'a str,
        in_c: usize,
        idx: usize,
        mark: &mut impl FnMut(usize),
    ) -> Result<(FoundFire, &'a str), ModelError> {
        let want = format!("fire{idx} (a 1x1 squeeze Conv), a max pool or conv10");
        let users = self.users(x);
        if users.is_empty() {
            return Err(self.unexpected(x, &want));
        }
        // The squeeze: the reader whose Relu feeds exactly two Convs.
        let is_squeeze = |i: usize| -> bool {
            if self.node(i).op_type != "Conv" {
                return false;
            }
            let Some(r) = self.single(self.out(i), "Relu") else {
                return false;
            };
            let u = self.users(self.out(r));
            u.len() == 2 && u.iter().all(|&j| self.node(j).op_type == "Conv")
        };
        let Some(&sq) = users.iter().find(|&&i| is_squeeze(i)) else {
            // Name the first reader that is not a possible bypass.
            let i = users
                .iter()
                .copied()
                .find(|&i| self.node(i).op_type != "Add")
                .unwrap_or(users[0]);
            return Err(err(format!(
                "{} does not fit the SqueezeNet family: expected {want}",
                describe(i, self.node(i))
            )));
        };
        let squeeze = self.conv(sq, in_c)?;
        self.expect_geometry(&squeeze, &format!("fire{idx}.squeeze"), 1, 0)?;
        mark(sq);
        let sr = self.users(self.out(sq))[0];
        mark(sr);
        let s_out = self.out(sr);
        let mut e1 = None;
        let mut e3 = None;
        for &e in self.users(s_out) {
            let c = self.conv(e, squeeze.out_c)?;
            if c.kernel == 1 && e1.is_none() {
                self.expect_geometry(&c, &format!("fire{idx}.expand1x1"), 1, 0)?;
                e1 = Some(c);
            } else if c.kernel == 3 && e3.is_none() {
                self.expect_geometry(&c, &format!("fire{idx}.expand3x3"), 3, 1)?;
                e3 = Some(c);
            } else {
                return Err(err(format!(
                    "{} does not fit the SqueezeNet family: fire{idx}'s expands are one 1x1 and \
                     one 3x3 convolution",
                    describe(e, self.node(e))
                )));
            }
        }
        let (Some(e1), Some(e3)) = (e1, e3) else {
            return Err(err(format!("fire{idx}: expands not found")));
        };
        let r1 = self.relu_after(e1.node)?;
        let r3 = self.relu_after(e3.node)?;
        mark(e1.node);
        mark(e3.node);
        mark(self.users(self.out(e1.node))[0]);
        mark(self.users(self.out(e3.node))[0]);
        let cat = match (self.users(r1), self.users(r3)) {
            ([a], [b]) if a == b && self.node(*a).op_type == "Concat" => *a,
            _ => return Err(self.unexpected(r1, &format!("fire{idx}'s Concat of the two expands"))),
        };
        let cn = self.node(cat);
        let ins: Vec<&str> = cn.input.iter().map(|s| self.resolve(s)).collect();
        if ins != [r1, r3] {
            return Err(err(format!(
                "{} does not fit the SqueezeNet family: fire{idx} concatenates its expands as \
                 {ins:?}; the family puts expand1x1 ('{r1}') first, then expand3x3 ('{r3}')",
                describe(cat, cn)
            )));
        }
        let axis = attr_int(cn, "axis", 1);
        if axis != 1 {
            return Err(err(format!(
                "{}: concatenation on axis {axis}, not channels (1)",
                describe(cat, cn)
            )));
        }
        mark(cat);
        let cat_out = self.out(cat);
        let out_c = e1.out_c + e3.out_c;

        // The bypass: other readers of x.
        let others: Vec<usize> = users.iter().copied().filter(|&i| i != sq).collect();
        let (bypass, add_src) = match others.as_slice() {
            [] => (FoundBypass::None, None),
            [a] if self.node(*a).op_type == "Add" => {
                if in_c != out_c {
                    return Err(err(format!(
                        "{}: a simple bypass around fire{idx} adds {in_c} channels to {out_c}",
                        describe(*a, self.node(*a))
                    )));
                }
                (FoundBypass::Identity, Some(x))
            }
            [c] if self.node(*c).op_type == "Conv" => {
                let b = self.conv(*c, in_c)?;
                self.expect_geometry(&b, &format!("fire{idx}.bypass"), 1, 0)?;
                if b.out_c != out_c {
                    return Err(err(format!(
                        "{}: fire{idx}'s bypass convolution gives {} channels, the module {out_c}",
                        describe(*c, self.node(*c)),
                        b.out_c
                    )));
                }
                let rb = self.relu_after(*c)?;
                mark(*c);
                mark(self.users(self.out(*c))[0]);
                (FoundBypass::Conv(b), Some(rb))
            }
            [o, ..] => {
                return Err(err(format!(
                    "{} does not fit the SqueezeNet family: it reads '{x}', fire{idx}'s input, \
                     beside the squeeze (only one bypass Add or bypass Conv may)",
                    describe(*o, self.node(*o))
                )))
            }
        };
        let out = match add_src {
            None => cat_out,
            Some(src) => {
                let add = match self.single(cat_out, "Add") {
                    Some(a) => a,
                    None => {
                        return Err(self.unexpected(cat_out, &format!("fire{idx}'s bypass Add")))
                    }
                };
                let an = self.node(add);
                let mut ins: Vec<&str> = an.input.iter().map(|s| self.resolve(s)).collect();
                ins.sort();
                let mut want = vec![cat_out, src];
                want.sort();
                if ins != want {
                    return Err(err(format!(
                        "{} does not fit the SqueezeNet family: fire{idx}'s bypass Add should add \
                         '{cat_out}' and '{src}'",
                        describe(add, an)
                    )));
                }
                mark(add);
                let mut t = self.out(add);
                // A Relu after the add is a no-op (both operands are ReLU outputs).
                if let Some(r) = self.single(t, "Relu") {
                    mark(r);
                    t = self.out(r);
                }
                t
            }
        };
        Ok((
            FoundFire {
                squeeze,
                expand1x1: e1,
                expand3x3: e3,
                bypass,
            },
            out,
        ))
    }
}

/// The square input size from a `1x3xNxN` graph input.
fn input_size(v: &proto::ValueInfoProto) -> Result<usize, ModelError> {
    use proto::tensor_shape_proto::dimension::Value;
    use proto::type_proto::Value as T;
    let name = &v.name;
    let tt = match v.type_.as_ref().and_then(|t| t.value.as_ref()) {
        Some(T::TensorType(t)) => t,
        _ => return Err(err(format!("graph input '{name}' is not a tensor"))),
    };
    if tt.elem_type != proto::tensor_proto::DataType::FLOAT as i32 {
        return Err(err(format!(
            "graph input '{name}' has ONNX data type {}, not FLOAT (1)",
            tt.elem_type
        )));
    }
    let shape = tt
        .shape
        .as_ref()
        .ok_or_else(|| err(format!("graph input '{name}' has no shape")))?;
    let dims: Vec<Option<i64>> = shape
        .dim
        .iter()
        .map(|d| match &d.value {
            Some(Value::DimValue(v)) => Some(*v),
            _ => None,
        })
        .collect();
    let text: Vec<String> = dims
        .iter()
        .map(|d| d.map_or("?".to_string(), |v| v.to_string()))
        .collect();
    match dims.as_slice() {
        [_, Some(3), Some(h), Some(w)] if h == w && *h > 0 && *h <= MAX_INPUT_SIZE => {
            Ok(*h as usize)
        }
        _ => Err(err(format!(
            "graph input '{name}' has shape [{}]; the family takes a fixed square RGB image, \
             1x3xNxN with N at most {MAX_INPUT_SIZE}",
            text.join(", ")
        ))),
    }
}

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
        };
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

    fn build(self, name: &str, source: &str) -> Result<FloatModel, ModelError> {
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
