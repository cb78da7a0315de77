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
//!
//! Files: `protobuf.rs` reads the protobuf messages (attributes, initializers, the input shape),
//! `graph.rs` indexes the graph (aliases through transparent nodes, consumers), `recognise.rs`
//! matches the family's pattern on it, `convert.rs` turns what it found into a
//! [`NetworkConfig`] and a [`FloatModel`] (weights extracted, normalization folded).
//!
//! [`NetworkConfig`]: crate::config::NetworkConfig

mod convert;
mod graph;
mod protobuf;
mod recognise;

use std::path::Path;

pub use onnx_protobuf as proto;
use onnx_protobuf::{Message, ModelProto};

use crate::error::ModelError;
use crate::float::FloatModel;
use graph::Graph;

pub use protobuf::MAX_INPUT_SIZE;

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
    let bytes = crate::limits::read_bounded(path, crate::limits::MAX_ONNX_BYTES, "ONNX model")?;
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
