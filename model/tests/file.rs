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

/// A model whose layers store codebook indices: 6 bits, conv1 at 8 (dense), fire2's expand3x3
/// at 4.
fn codebook_model() -> QuantModel {
    let c = NetworkConfig::from_toml_str(
        "input_size = 40\nnum_classes = 12\nbypass = \"complex\"\n[meta]\nbase_e = 16\nincr_e = 8\nsr = 0.25\n[conv1]\nchannels = 8\nkernel = 3\nstride = 2\n[quantization]\nweight_bits = 6\n[quantization.layers]\nconv1 = 8\n\"fire2.expand3x3\" = 4\n",
    )
    .unwrap();
    QuantModel::synthetic(&c, 11).unwrap()
}

#[test]
fn codebook_models_store_indices_and_read_back_identical() {
    let m = codebook_model();
    assert!(m.conv("conv1").codebook.is_none());
    assert_eq!(m.conv("fire2.expand3x3").codebook.as_ref().unwrap().bits, 4);
    assert_eq!(m.conv("conv10").codebook.as_ref().unwrap().bits, 6);
    let bytes = file::to_bytes(&m).unwrap();
    let back = file::from_bytes(&bytes).unwrap();
    assert!(back == m, "tensors differ after a round trip");
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    assert_eq!(meta.metadata().as_ref().unwrap()["format_version"], "2");
    // Indices (u8) and the codebook (i8) instead of int8 weights, except for the dense conv1.
    assert!(st.tensor("conv10.weight").is_err());
    let idx = st.tensor("conv10.weight_index").unwrap();
    assert_eq!(idx.dtype(), Dtype::U8);
    let book = st.tensor("conv10.codebook").unwrap();
    assert_eq!(book.dtype(), Dtype::I8);
    assert!(book.shape()[0] <= 64);
    assert!(idx.data().iter().all(|&i| (i as usize) < book.shape()[0]));
    // Decoding by hand gives the model's weights.
    let w: Vec<i8> = idx
        .data()
        .iter()
        .map(|&i| book.data()[i as usize] as i8)
        .collect();
    assert_eq!(w, m.conv("conv10").weights);
    assert_eq!(st.tensor("conv1.weight").unwrap().dtype(), Dtype::I8);
    // A dense model keeps version 1, so files written before codebooks keep their bytes.
    let dense = file::to_bytes(&model()).unwrap();
    let (_, meta) = SafeTensors::read_metadata(&dense).unwrap();
    assert_eq!(meta.metadata().as_ref().unwrap()["format_version"], "1");
}

#[test]
fn damaged_codebooks_are_named() {
    let bytes = file::to_bytes(&codebook_model()).unwrap();
    let b = rewrite(&bytes, |ts| {
        let t = ts
            .iter_mut()
            .find(|t| t.0 == "conv10.weight_index")
            .unwrap();
        t.3[5] = 200;
    });
    let e = load_err(&b);
    assert!(e.contains("'conv10.weight_index' holds 200"), "{e}");
    let b = rewrite(&bytes, |ts| {
        let t = ts.iter_mut().find(|t| t.0 == "conv10.codebook").unwrap();
        t.3.swap(0, 1);
    });
    assert!(load_err(&b).contains("not strictly ascending"));
    let b = rewrite(&bytes, |ts| ts.retain(|t| t.0 != "fire3.squeeze.codebook"));
    let e = load_err(&b);
    assert!(e.contains("missing tensor 'fire3.squeeze.codebook'"), "{e}");
    let b = rewrite(&bytes, |ts| {
        let t = ts
            .iter_mut()
            .find(|t| t.0 == "fire2.expand3x3.codebook")
            .unwrap();
        t.2 = vec![20];
        t.3 = (0..20).map(|i| i as u8).collect();
    });
    assert!(load_err(&b).contains("20 entries, 4-bit indices address 1..=16"));
}

#[test]
fn quantization_table_is_checked() {
    let base = "input_size = 40\n[quantization]\n";
    let e = |t: &str| {
        NetworkConfig::from_toml_str(&format!("{base}{t}"))
            .unwrap_err()
            .to_string()
    };
    assert!(e("weight_bits = 3\n").contains("quantization.weight_bits"));
    assert!(e("weight_bits = 9\n").contains("outside 4..=8"));
    assert!(e("[quantization.layers]\nconv2 = 6\n").contains("'conv2' is not a convolution"));
    assert!(e("[quantization.layers]\nconv1 = 2\n").contains("quantization.layers.conv1"));
    assert!(e("bits = 6\n").contains("unknown field"));
    // The table survives the config's TOML round trip (the model file embeds it).
    let c = NetworkConfig::from_toml_str(&format!(
        "{base}weight_bits = 5\n[quantization.layers]\n\"fire2.squeeze\" = 7\n"
    ))
    .unwrap();
    assert_eq!(
        NetworkConfig::from_toml_str(&c.to_toml_string()).unwrap(),
        c
    );
    assert!(!c.to_toml_string().is_empty());
    let dense = NetworkConfig::from_toml_str("input_size = 40\n").unwrap();
    assert!(!dense.to_toml_string().contains("quantization"));
}
