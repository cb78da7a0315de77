//! Quantizing to codebook weights: at most 2^k shared values a layer, a Deep Compression export
//! kept exactly, and an integer model that still tracks the float one.

use squeezeflow_model::config::{NetworkConfig, Quantization};
use squeezeflow_model::float::{calibrate, quantize, synthetic_frame, FloatModel};
use squeezeflow_model::reference::{run, Path};

fn config() -> NetworkConfig {
    NetworkConfig::from_toml_str(
        "input_size = 40\nnum_classes = 12\n[meta]\nbase_e = 16\nincr_e = 8\nsr = 0.25\n[conv1]\nchannels = 8\nkernel = 3\nstride = 2\n",
    )
    .unwrap()
}

fn bits(b: u8) -> Quantization {
    Quantization {
        weight_bits: b,
        layers: Default::default(),
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

#[test]
fn a_deep_compression_export_keeps_its_shared_values() {
    // Snap every layer to 11 shared real values (as Deep Compression's fine-tuned centroids).
    let mut fm = FloatModel::synthetic(&config(), 3).unwrap();
    let mut shared_values = std::collections::BTreeMap::new();
    for (name, c) in fm.convs.iter_mut() {
        let max = c.weights.iter().fold(0f32, |m, w| m.max(w.abs()));
        let values: Vec<f32> = (0..11).map(|i| max * (i as f32 - 5.0) / 5.3).collect();
        for w in &mut c.weights {
            let i = ((*w / max * 5.3 + 5.0).round() as usize).min(10);
            *w = values[i];
        }
        shared_values.insert(name.clone(), (values, max));
    }
    let fm = fm.with_quantization(bits(4)).unwrap();
    let shape = fm.network.input_shape();
    let frames: Vec<Vec<u8>> = (0..2).map(|i| synthetic_frame(shape, i)).collect();
    let q = quantize(&fm, &calibrate(&fm, &frames).unwrap()).unwrap();
    for (name, (values, max)) in &shared_values {
        let qc = q.conv(name);
        let book = qc.codebook.as_ref().unwrap();
        // One scale for the layer, and each used value is one entry: round(v / scale).
        let snapped_max = values.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = snapped_max / 127.0;
        assert!(snapped_max <= *max);
        assert!(qc.weight_scale.iter().all(|&s| s == scale), "{name}");
        let f = &fm.convs[name].weights;
        for (w, &qw) in f.iter().zip(&qc.weights) {
            assert_eq!(qw, (w / scale).round() as i8, "{name}");
        }
        let used: std::collections::BTreeSet<i8> =
            f.iter().map(|w| (w / scale).round() as i8).collect();
        assert_eq!(book.entries, used.into_iter().collect::<Vec<_>>(), "{name}");
        assert!(values.len() <= 16);
    }
}

#[test]
fn codebook_models_track_the_float_model_and_lose_more_with_fewer_bits() {
    let fm = FloatModel::synthetic(&config(), 5).unwrap();
    let shape = fm.network.input_shape();
    let cal: Vec<Vec<u8>> = (0..3).map(|i| synthetic_frame(shape, 100 + i)).collect();
    let frames: Vec<Vec<u8>> = (0..6).map(|i| synthetic_frame(shape, 300 + i)).collect();
    let mut mean_cos = Vec::new();
    for b in [8u8, 6, 4] {
        let fm = fm.clone().with_quantization(bits(b)).unwrap();
        let ranges = calibrate(&fm, &cal).unwrap();
        let q = quantize(&fm, &ranges).unwrap();
        for (name, c) in &q.convs {
            match &c.codebook {
                None => assert_eq!(b, 8, "{name}"),
                Some(book) => {
                    assert!(book.entries.len() <= 1 << b, "{name}");
                    // k-means uses most of its entries on a layer with many weights.
                    if c.weights.len() >= 16 << b {
                        assert!(book.entries.len() > 1 << (b - 1), "{name}: {book:?}");
                    }
                }
            }
        }
        let mut sum = 0.0;
        for f in &frames {
            let fl = fm
                .run(&f.iter().map(|&v| v as f32).collect::<Vec<_>>())
                .unwrap()
                .logits;
            let il = q.dequantize_logits(&run(&q, f, Path::Fast).unwrap().logits);
            sum += cosine(&fl, &il);
        }
        mean_cos.push(sum / frames.len() as f32);
    }
    assert!(mean_cos[1] > 0.98, "{mean_cos:?}");
    assert!(mean_cos[2] > 0.9, "{mean_cos:?}");
    assert!(mean_cos[2] < mean_cos[0], "{mean_cos:?}");
}
