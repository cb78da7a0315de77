//! The fast integer ops equal the naive ones, on random shapes and values including the
//! extremes (-128 weights, 255 activations, saturation at both ends, zero-range channels).

use proptest::prelude::*;
use squeezeflow_model::codebook::Codebook;
use squeezeflow_model::config::{Bypass, Conv1Spec, FireSpec, NetworkConfig};
use squeezeflow_model::float::synthetic_frame;
use squeezeflow_model::network::{ConvLayer, PoolLayer, Shape};
use squeezeflow_model::qmodel::QConv;
use squeezeflow_model::quant::{AddParams, Requant, MAX_SHIFT, MIN_SHIFT};
use squeezeflow_model::reference::{fast, naive, run, Path};
use squeezeflow_model::QuantModel;

/// Values biased toward the extremes of their range.
fn edgy_u8() -> impl Strategy<Value = u8> {
    prop_oneof![3 => any::<u8>(), 1 => Just(0u8), 1 => Just(255u8)]
}
fn edgy_i8() -> impl Strategy<Value = i8> {
    prop_oneof![3 => any::<i8>(), 1 => Just(-128i8), 1 => Just(127i8), 1 => Just(0i8)]
}
fn requant() -> impl Strategy<Value = Requant> {
    prop_oneof![
        4 => (any::<u16>(), MIN_SHIFT..=MAX_SHIFT).prop_map(|(mult, shift)| Requant { mult, shift }),
        // Saturating: tiny shift, big multiplier.
        1 => (any::<u16>(), MIN_SHIFT..=4u8).prop_map(|(mult, shift)| Requant { mult, shift }),
        // Zero-range channel.
        1 => Just(Requant::ZERO),
    ]
}
fn bias() -> impl Strategy<Value = i32> {
    prop_oneof![3 => -100_000i32..100_000, 1 => Just(-(1 << 30)), 1 => Just(1 << 30), 1 => Just(0)]
}

#[derive(Debug, Clone)]
struct ConvCase {
    layer: ConvLayer,
    q: QConv,
    x: Vec<u8>,
}

fn conv_case() -> impl Strategy<Value = ConvCase> {
    (
        1usize..9,
        1usize..9,
        1usize..7,
        1usize..7,
        prop::sample::select(vec![1usize, 3, 5, 7]),
        1usize..4,
    )
        .prop_flat_map(|(h, w, ci, co, k, stride)| {
            let max_pad = k / 2;
            (Just((h, w, ci, co, k, stride)), 0..=max_pad)
        })
        .prop_filter("kernel fits", |((h, w, _, _, k, _), pad)| {
            h + 2 * pad >= *k && w + 2 * pad >= *k
        })
        .prop_flat_map(|((h, w, ci, co, k, stride), pad)| {
            let layer =
                ConvLayer::new("t".into(), Shape::new(h, w, ci), co, k, stride, pad).unwrap();
            let nw = layer.weights();
            (
                Just(layer),
                prop::collection::vec(edgy_i8(), nw),
                prop::collection::vec(bias(), co),
                prop::collection::vec(requant(), co),
                prop::collection::vec(edgy_u8(), h * w * ci),
            )
        })
        .prop_map(|(layer, weights, bias, requant, x)| {
            let co = layer.out_channels();
            ConvCase {
                q: QConv {
                    weights,
                    bias,
                    requant,
                    weight_scale: vec![1.0; co],
                    input_scale: 1.0,
                    output_scale: 1.0,
                    codebook: None,
                },
                layer,
                x,
            }
        })
}

/// A case whose weights come from a codebook of `2^bits` values (Deep Compression's storage:
/// the arithmetic sees the decoded int8 weights).
fn codebook_case() -> impl Strategy<Value = ConvCase> {
    (conv_case(), 4u8..8, prop::collection::vec(edgy_i8(), 128)).prop_map(
        |(mut c, bits, values)| {
            let n = 1usize << bits;
            let mut layer = c.layer.clone();
            layer.weight_bits = bits;
            for (i, w) in c.q.weights.iter_mut().enumerate() {
                *w = values[(*w as u8 as usize + i) % n];
            }
            c.q.codebook = Some(Codebook::of_values(bits, &c.q.weights));
            c.q.check(&layer).unwrap();
            c.layer = layer;
            c
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn fast_conv_equals_naive_with_a_codebook(c in codebook_case()) {
        let packed = fast::PackedConv::new(&c.layer, &c.q);
        prop_assert_eq!(fast::conv(&c.x, &c.layer, &c.q, &packed), naive::conv(&c.x, &c.layer, &c.q));
    }

    #[test]
    fn fast_conv_equals_naive(c in conv_case()) {
        let packed = fast::PackedConv::new(&c.layer, &c.q);
        prop_assert_eq!(fast::conv(&c.x, &c.layer, &c.q, &packed), naive::conv(&c.x, &c.layer, &c.q));
    }

    #[test]
    fn fast_maxpool_equals_naive(h in 3usize..12, w in 3usize..12, c in 1usize..6, seed in any::<u64>()) {
        let input = Shape::new(h, w, c);
        let p = PoolLayer::max3x3("p", input).unwrap();
        let x = synthetic_frame(input, seed);
        prop_assert_eq!(fast::maxpool(&x, &p), naive::maxpool(&x, &p));
    }

    #[test]
    fn add_matches_real_arithmetic(a in edgy_u8(), b in edgy_u8(), sa in 0.001f64..1.0, sb in 0.001f64..1.0, so in 0.001f64..2.0) {
        let p = AddParams::from_scales(sa, sb, so);
        let want = ((a as f64 * sa + b as f64 * sb) / so).round().clamp(0.0, 255.0);
        let got = p.apply(a, b) as f64;
        // ka, kb and M round to 14-16 bits: allow one step.
        prop_assert!((got - want).abs() <= 1.0, "{} vs {}", got, want);
    }
}

/// Naive loops written independently of the library (per the contract), on the extremes.
#[test]
fn requant_extremes_by_hand() {
    let conv = ConvLayer::new("t".into(), Shape::new(1, 1, 4), 3, 1, 1, 0).unwrap();
    let q = QConv {
        weights: vec![-128; 4]
            .into_iter()
            .chain(vec![127; 4])
            .chain(vec![0; 4])
            .collect(),
        bias: vec![0, 0, 7],
        requant: vec![
            Requant {
                mult: u16::MAX,
                shift: 1,
            },
            Requant {
                mult: u16::MAX,
                shift: 1,
            },
            Requant::ZERO,
        ],
        weight_scale: vec![1.0; 3],
        input_scale: 1.0,
        output_scale: 1.0,
        codebook: None,
    };
    let out = naive::conv(&[255; 4], &conv, &q);
    assert_eq!(out, vec![0, 255, 0]);
    let packed = fast::PackedConv::new(&conv, &q);
    assert_eq!(fast::conv(&[255; 4], &conv, &q, &packed), out);
    // Round half up: acc 3 * M 1 / 2 = 1.5 -> 2; acc 1 -> 0.5 -> 1.
    let r = Requant { mult: 1, shift: 1 };
    assert_eq!(r.apply_u8(3), 2);
    assert_eq!(r.apply_u8(1), 1);
    assert_eq!(r.apply_u8(-1), 0);
}

fn tiny(bypass: Bypass, input: usize) -> NetworkConfig {
    NetworkConfig {
        name: "tiny".into(),
        input_size: input,
        num_classes: 10,
        conv1: Conv1Spec {
            channels: 8,
            kernel: 3,
            stride: 2,
        },
        fires: vec![
            FireSpec {
                squeeze: 4,
                expand1x1: 6,
                expand3x3: 6,
            },
            FireSpec {
                squeeze: 4,
                expand1x1: 6,
                expand3x3: 6,
            },
            FireSpec {
                squeeze: 6,
                expand1x1: 8,
                expand3x3: 8,
            },
            FireSpec {
                squeeze: 6,
                expand1x1: 8,
                expand3x3: 8,
            },
        ],
        pool_after: vec!["conv1".into(), "fire3".into()],
        bypass,
        meta: None,
        quantization: Default::default(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn whole_network_fast_equals_naive(seed in any::<u64>(), input in 15usize..40, b in 0usize..3) {
        let bypass = [Bypass::None, Bypass::Simple, Bypass::Complex][b];
        let m = QuantModel::synthetic(&tiny(bypass, input), seed).unwrap();
        let frame = synthetic_frame(m.network.input_shape(), seed ^ 7);
        let a = run(&m, &frame, Path::Naive).unwrap();
        let f = run(&m, &frame, Path::Fast).unwrap();
        prop_assert_eq!(&a, &f);
        prop_assert_eq!(a.logits.len(), 10);
    }

    #[test]
    fn whole_codebook_network_fast_equals_naive(seed in any::<u64>(), input in 15usize..40, bits in 4u8..8) {
        let mut cfg = tiny(Bypass::Complex, input);
        cfg.quantization.weight_bits = bits;
        cfg.quantization.layers.insert("conv1".into(), 8);
        let m = QuantModel::synthetic(&cfg, seed).unwrap();
        prop_assert!(m.conv("conv1").codebook.is_none());
        for (name, q) in &m.convs {
            if name != "conv1" {
                let book = q.codebook.as_ref().unwrap();
                prop_assert!(book.entries.len() <= 1 << bits);
            }
        }
        let frame = synthetic_frame(m.network.input_shape(), seed ^ 7);
        prop_assert_eq!(run(&m, &frame, Path::Naive).unwrap(), run(&m, &frame, Path::Fast).unwrap());
    }
}

/// Synthetic models exercise the arithmetic: activations neither all zero nor all saturated.
#[test]
fn synthetic_models_are_lively() {
    let m = QuantModel::synthetic(&tiny(Bypass::Complex, 32), 3).unwrap();
    let frame = synthetic_frame(m.network.input_shape(), 99);
    let t = run(&m, &frame, Path::Fast).unwrap();
    for tt in &t.tensors {
        let nz = tt.data.iter().filter(|&&v| v > 0).count() as f64 / tt.data.len() as f64;
        let sat = tt.data.iter().filter(|&&v| v == 255).count() as f64 / tt.data.len() as f64;
        assert!(nz > 0.05, "{}: only {:.1}% non-zero", tt.name, nz * 100.0);
        assert!(sat < 0.5, "{}: {:.1}% saturated", tt.name, sat * 100.0);
    }
    assert!(t.logits.iter().any(|&l| l > 0));
    // Deterministic: the same seed gives the same model.
    assert_eq!(
        m,
        QuantModel::synthetic(&tiny(Bypass::Complex, 32), 3).unwrap()
    );
    assert_ne!(
        m,
        QuantModel::synthetic(&tiny(Bypass::Complex, 32), 4).unwrap()
    );
}

/// The integer reference tracks the float reference it was quantized from.
#[test]
fn int_reference_tracks_float() {
    let cfg = tiny(Bypass::Simple, 40);
    let fm = squeezeflow_model::float::FloatModel::synthetic(&cfg, 5).unwrap();
    let shape = fm.network.input_shape();
    let cal: Vec<Vec<u8>> = (0..3).map(|i| synthetic_frame(shape, 100 + i)).collect();
    let ranges = squeezeflow_model::float::calibrate(&fm, &cal).unwrap();
    let q = squeezeflow_model::float::quantize(&fm, &ranges).unwrap();
    let frame = synthetic_frame(shape, 200);
    let fl = fm
        .run(&frame.iter().map(|&v| v as f32).collect::<Vec<_>>())
        .unwrap()
        .logits;
    let il = q.dequantize_logits(&run(&q, &frame, Path::Fast).unwrap().logits);
    let dot: f32 = fl.iter().zip(&il).map(|(a, b)| a * b).sum();
    let na: f32 = fl.iter().map(|a| a * a).sum::<f32>().sqrt();
    let nb: f32 = il.iter().map(|a| a * a).sum::<f32>().sqrt();
    let cos = dot / (na * nb);
    assert!(cos > 0.98, "cosine {cos}: {fl:?} vs {il:?}");
}
