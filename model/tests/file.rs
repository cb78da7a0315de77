//! The quantized model file saves and loads back identical; damaged files give clear errors.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use squeezeflow_model::config::{Bypass, NetworkConfig};
use squeezeflow_model::file;
use squeezeflow_model::QuantModel;

fn model() -> QuantModel {
    let mut c = NetworkConfig::from_toml_str(
        "input_size = 40\nnum_classes = 12\nbypass = \"complex\"\n[meta]\nbase_e = 16\nincr_e = 8\nsr = 0.25\n[conv1]\nchannels = 8\nkernel = 3\nstride = 2\n",
    )
    .unwrap();
    c.bypass = Bypass::Complex;
    QuantModel::synthetic(&c, 11).unwrap()
}

#[test]
fn round_trip_is_identical() {
    let m = model();
    let bytes = file::to_bytes(&m).unwrap();
    let back = file::from_bytes(&bytes).unwrap();
    assert_eq!(back.network, m.network);
    assert!(back == m, "tensors differ after a round trip");
    let dir = std::env::temp_dir().join(format!("sqf-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("m.safetensors");
    file::save(&m, &p).unwrap();
    assert!(file::load(&p).unwrap() == m);
    std::fs::remove_dir_all(&dir).ok();
}

/// Rewrites the file with `edit` applied to the tensor map.
fn rewrite(
    bytes: &[u8],
    edit: impl FnOnce(&mut Vec<(String, Dtype, Vec<usize>, Vec<u8>)>),
) -> Vec<u8> {
    let st = SafeTensors::deserialize(bytes).unwrap();
    let (_, meta) = SafeTensors::read_metadata(bytes).unwrap();
    let mut ts: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| (n, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    edit(&mut ts);
    let views: Vec<(String, TensorView)> = ts
        .iter()
        .map(|(n, d, s, b)| (n.clone(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let m: Option<HashMap<String, String>> = meta.metadata().clone();
    safetensors::serialize(views, m).unwrap()
}

fn load_err(bytes: &[u8]) -> String {
    file::from_bytes(bytes).unwrap_err().to_string()
}

#[test]
fn truncated_file_is_a_clear_error() {
    let bytes = file::to_bytes(&model()).unwrap();
    for cut in [0, 5, 100, bytes.len() / 2, bytes.len() - 1] {
        let e = load_err(&bytes[..cut]);
        assert!(e.contains("model file"), "cut {cut}: {e}");
    }
}

#[test]
fn missing_tensor_is_named() {
    let bytes = file::to_bytes(&model()).unwrap();
    let b = rewrite(&bytes, |ts| ts.retain(|t| t.0 != "fire3.expand3x3.bias"));
    let e = load_err(&b);
    assert!(e.contains("missing tensor 'fire3.expand3x3.bias'"), "{e}");
}

#[test]
fn wrong_shape_is_named() {
    let bytes = file::to_bytes(&model()).unwrap();
    let b = rewrite(&bytes, |ts| {
        let t = ts.iter_mut().find(|t| t.0 == "conv10.weight").unwrap();
        let n = t.2[0];
        t.2 = vec![n / 2, t.2[1] * 2, 1, 1];
    });
    let e = load_err(&b);
    assert!(e.contains("conv10.weight") && e.contains("shape"), "{e}");
}

#[test]
fn wrong_dtype_extra_tensor_and_bad_shift_are_named() {
    let bytes = file::to_bytes(&model()).unwrap();
    let b = rewrite(&bytes, |ts| {
        let t = ts.iter_mut().find(|t| t.0 == "conv1.shift").unwrap();
        t.1 = Dtype::I8;
    });
    assert!(load_err(&b).contains("conv1.shift"));
    let b = rewrite(&bytes, |ts| {
        ts.push(("stray".into(), Dtype::U8, vec![1], vec![0]))
    });
    assert!(load_err(&b).contains("'stray'"));
    let b = rewrite(&bytes, |ts| {
        let t = ts
            .iter_mut()
            .find(|t| t.0 == "fire2.squeeze.shift")
            .unwrap();
        t.3[0] = 60;
    });
    let e = load_err(&b);
    assert!(e.contains("fire2.squeeze.shift") && e.contains("60"), "{e}");
    let b = rewrite(&bytes, |ts| {
        let t = ts.iter_mut().find(|t| t.0 == "conv1.scales").unwrap();
        t.3[0..4].copy_from_slice(&f32::NAN.to_le_bytes());
    });
    assert!(load_err(&b).contains("conv1.scales"));
}

#[test]
fn foreign_safetensors_is_refused() {
    let data = vec![0u8; 4];
    let v = TensorView::new(Dtype::F32, vec![1], &data).unwrap();
    let b = safetensors::serialize(vec![("w".to_string(), v)], None).unwrap();
    assert!(load_err(&b).contains("metadata"));
    let e = load_err(b"this is not a model");
    assert!(e.contains("not a readable safetensors"), "{e}");
    let e = file::load(std::path::Path::new("/nonexistent/m.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/m.safetensors"), "{e}");
}
