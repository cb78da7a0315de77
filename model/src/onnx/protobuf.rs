//! Reading ONNX protobuf messages: node descriptions for errors, attributes, float initializers
//! and the graph input's shape.

use onnx_protobuf::{NodeProto, TensorProto};

use super::{err, proto};
use crate::error::ModelError;

/// Describes a node for error messages: `node #3 "conv1_1" (Conv)`.
pub(super) fn describe(i: usize, n: &NodeProto) -> String {
    if n.name.is_empty() {
        format!("node #{i} ({}, output '{}')", n.op_type, first(&n.output))
    } else {
        format!("node #{i} '{}' ({})", n.name, n.op_type)
    }
}

pub(super) fn first(v: &[String]) -> &str {
    v.first().map(String::as_str).unwrap_or("")
}

pub(super) fn attr<'a>(n: &'a NodeProto, name: &str) -> Option<&'a proto::AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

pub(super) fn attr_ints(n: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(n, name).map(|a| a.ints.clone())
}

pub(super) fn attr_int(n: &NodeProto, name: &str, default: i64) -> i64 {
    attr(n, name).map(|a| a.i).unwrap_or(default)
}

pub(super) fn attr_str(n: &NodeProto, name: &str) -> String {
    attr(n, name)
        .map(|a| String::from_utf8_lossy(&a.s).into_owned())
        .unwrap_or_default()
}

/// Largest initializer accepted (values): far above any SqueezeNet layer's.
const MAX_TENSOR_VALUES: usize = 1 << 28;

/// Largest input size accepted.
pub const MAX_INPUT_SIZE: i64 = 4096;

/// Float data of an initializer (FLOAT, from `float_data` or little-endian `raw_data`).
pub(super) fn tensor_f32(t: &TensorProto) -> Result<Vec<f32>, ModelError> {
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

/// The square input size from a `1x3xNxN` graph input.
pub(super) fn input_size(v: &proto::ValueInfoProto) -> Result<usize, ModelError> {
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
        [None | Some(1), Some(3), Some(h), Some(w)] if h == w && *h > 0 && *h <= MAX_INPUT_SIZE => {
            Ok(*h as usize)
        }
        [Some(b), ..] if *b != 1 => Err(err(format!(
            "graph input '{name}' has shape [{}]: a batch of {b}; the accelerator takes one \
             frame at a time (export with batch 1 or a symbolic batch)",
            text.join(", ")
        ))),
        _ => Err(err(format!(
            "graph input '{name}' has shape [{}]; the family takes a fixed square RGB image, \
             1x3xNxN with N at most {MAX_INPUT_SIZE}",
            text.join(", ")
        ))),
    }
}
