//! Property-based fuzzing of everything that reads user input: arbitrary bytes, and valid inputs
//! with bytes changed, into the Y4M reader, the image reader, the network TOML, the model file,
//! the ONNX importer and the board link's reply decoder. Each must return a value or an error,
//! never panic. The default run is a few hundred cases each; `scripts/bench.sh` runs many more
//! (`PROPTEST_CASES`).

use proptest::prelude::*;
use squeezeflow_host::board::Decoder;
use squeezeflow_host::frames::{read_image, FrameSource};

/// A valid input with up to 8 bytes changed and maybe cut short.
fn mutate(good: &[u8]) -> impl Strategy<Value = Vec<u8>> {
    let n = good.len().max(1);
    let good = good.to_vec();
    (
        prop::collection::vec((0..n, any::<u8>()), 0..8),
        prop::option::of(0..n),
    )
        .prop_map(move |(edits, cut)| {
            let mut b = good.clone();
            for (i, v) in edits {
                if i < b.len() {
                    b[i] = v;
                }
            }
            if let Some(c) = cut {
                b.truncate(c);
            }
            b
        })
}

fn y4m_clip() -> Vec<u8> {
    let mut v = b"YUV4MPEG2 W8 H6 F25:1 Ip A1:1 C444\n".to_vec();
    for f in 0..2u8 {
        v.extend_from_slice(b"FRAME\n");
        v.extend((0..8 * 6 * 3).map(|i| (i as u8).wrapping_mul(7).wrapping_add(f)));
    }
    v
}

fn read_y4m(bytes: Vec<u8>) {
    if let Ok(src) = FrameSource::y4m(std::io::Cursor::new(bytes), "fuzz", 8) {
        for f in src.take(4) {
            let _ = f;
        }
    }
}

fn png() -> Vec<u8> {
    let mut img = image::RgbImage::new(9, 7);
    for (x, y, p) in img.enumerate_pixels_mut() {
        *p = image::Rgb([(x * 20) as u8, (y * 30) as u8, 99]);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

const TOML: &str = "preset = \"squeezenet1_1\"\nname = \"f\"\ninput_size = 32\nnum_classes = 10\n\
                    [hardware]\nmac_budget = 24\n";

fn small_model_bytes() -> Vec<u8> {
    let cfg = squeezeflow_model::NetworkConfig::from_toml_str(TOML).unwrap();
    let m = squeezeflow_model::QuantModel::synthetic(&cfg, 1).unwrap();
    squeezeflow_model::file::to_bytes(&m).unwrap()
}

/// `n` cases, or `$PROPTEST_CASES` (the benchmark's long run).
fn cases(n: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n);
    ProptestConfig {
        cases: n,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases(200))]

    #[test]
    fn y4m_never_panics(b in prop::collection::vec(any::<u8>(), 0..400)) {
        read_y4m(b);
    }

    #[test]
    fn y4m_mutated_never_panics(b in mutate(&y4m_clip())) {
        read_y4m(b);
    }

    #[test]
    fn images_never_panic(b in mutate(&png()), jpeg in any::<bool>()) {
        let dir = std::env::temp_dir().join(format!("squeezeflow-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(if jpeg { "x.jpg" } else { "x.png" });
        std::fs::write(&p, &b).unwrap();
        let _ = read_image(&p);
    }

    #[test]
    fn network_toml_never_panics(b in mutate(TOML.as_bytes())) {
        if let Ok(text) = std::str::from_utf8(&b) {
            let _ = squeezeflow_model::config::NetworkFile::from_toml_str(text);
            let _ = squeezeflow_model::NetworkConfig::from_toml_str(text);
        }
    }

    #[test]
    fn board_replies_never_panic(b in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut d = Decoder::new(256);
        for x in b {
            let _ = d.push(x);
        }
    }
}

proptest! {
    #![proptest_config(cases(64))]

    #[test]
    fn model_files_never_panic(b in mutate(&small_model_bytes())) {
        let _ = squeezeflow_model::file::from_bytes(&b);
    }

    #[test]
    fn onnx_never_panics(b in prop::collection::vec(any::<u8>(), 0..2000)) {
        let _ = squeezeflow_model::onnx::import_bytes(&b, "fuzz", "fuzz");
    }
}
