//! Deep Compression on the real SqueezeNet v1.1 (`../shared`): per-layer k-means codebooks at
//! 6 bits (conv1 dense) keep the float model's answers on the shared clip and photos, the file
//! stores indices, and `import --weight-bits` writes it.

use std::path::{Path, PathBuf};
use std::process::Command;

use squeezeflow_host::accuracy::AccuracyReport;
use squeezeflow_host::frames::FrameSource;
use squeezeflow_model::config::Quantization;
use squeezeflow_model::float::{calibrate, input_means, quantize_with_means};
use squeezeflow_model::{file, onnx};
use squeezeflow_tests::{scratch, shared_or_skip, squeezeflow_bin};

fn shared() -> Option<PathBuf> {
    shared_or_skip("the codebook import tests")
}

fn frames(dir: &Path, names: &[&str]) -> Vec<(String, Vec<u8>)> {
    let args: Vec<String> = names
        .iter()
        .map(|n| dir.join(n).to_str().unwrap().to_string())
        .collect();
    FrameSource::open_all(&args, 224)
        .unwrap()
        .collect_all()
        .unwrap()
}

#[test]
fn six_bit_codebooks_keep_the_float_answers() {
    let Some(shared) = shared() else { return };
    let mut q = Quantization {
        weight_bits: 6,
        layers: Default::default(),
    };
    q.layers.insert("conv1".into(), 8);
    let float = onnx::import_file(&shared.join("models/squeezenet1_1.onnx"))
        .unwrap()
        .with_quantization(q)
        .unwrap();
    let f = shared.join("frames");
    let calib: Vec<Vec<u8>> = frames(&f, &["calibration"])
        .into_iter()
        .map(|(_, x)| x)
        .collect();
    assert_eq!(calib.len(), 7);
    let ranges = calibrate(&float, &calib).unwrap();
    let means = input_means(&float, &calib).unwrap();
    let model = quantize_with_means(&float, &ranges, Some(&means)).unwrap();
    for (name, c) in &model.convs {
        match (&c.codebook, name.as_str()) {
            (None, "conv1") => {}
            (Some(b), _) if name != "conv1" => {
                assert_eq!(b.bits, 6, "{name}");
                assert!(b.entries.len() <= 64, "{name}: {}", b.entries.len());
            }
            (b, _) => panic!("{name}: codebook {b:?}"),
        }
    }
    let scored = frames(
        &f,
        &[
            "astronaut_pan.y4m",
            "chelsea.png",
            "coffee.png",
            "astronaut.png",
        ],
    );
    let report = AccuracyReport::evaluate(&float, &model, &scored).unwrap();
    eprint!("{}", report.to_table());
    let s = &report.summary;
    assert_eq!(s.frames, 19);
    assert!(s.mean_cosine >= 0.999, "mean cosine {}", s.mean_cosine);
    assert!(s.mean_top5_overlap >= 4.3, "top-5 {}", s.mean_top5_overlap);
    assert_eq!(
        s.top1_agree_decisive, s.decisive,
        "top-1 on decisive frames"
    );
    // The file holds indices and codebooks and reads back identical.
    let back = file::from_bytes(&file::to_bytes(&model).unwrap()).unwrap();
    assert!(back == model);
}

#[test]
fn import_writes_codebook_models_and_names_bad_widths() {
    let Some(shared) = shared() else { return };
    let dir = scratch("codebook_import");
    let out = dir.join("m.safetensors");
    let onnx = shared.join("models/squeezenet1_1.onnx");
    let cal = shared.join("frames/chelsea.png");
    let run = |extra: &[&str]| {
        let o = Command::new(squeezeflow_bin())
            .arg("import")
            .arg(&onnx)
            .arg("--calibrate")
            .arg(&cal)
            .arg("-o")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let (ok, err) = run(&["--weight-bits", "5", "--layer-bits", "conv1=8,conv10=7"]);
    assert!(ok, "{err}");
    let m = file::load(&out).unwrap();
    assert!(m.conv("conv1").codebook.is_none());
    assert_eq!(m.conv("conv10").codebook.as_ref().unwrap().bits, 7);
    let b = m.conv("fire5.expand3x3").codebook.as_ref().unwrap();
    assert!(b.bits == 5 && b.entries.len() <= 32);
    std::fs::remove_file(&out).unwrap();
    for (args, want) in [
        (&["--weight-bits", "3"][..], "quantization.weight_bits"),
        (
            &["--layer-bits", "conv2=6"][..],
            "'conv2' is not a convolution",
        ),
        (&["--layer-bits", "conv1"][..], "expected LAYER=K"),
        (&["--layer-bits", "conv1=six"][..], "'six' is not a number"),
    ] {
        let (ok, err) = run(args);
        assert!(!ok && err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.exists(), "{args:?} wrote a file");
    }
}
