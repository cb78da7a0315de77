//! `classify`, `import` and `accuracy`: the integer reference and the float model on frames.

use squeezeflow_host::{out, outln};
use std::io::Write;

use anyhow::{bail, Context, Result};
use squeezeflow_host::accuracy::AccuracyReport;
use squeezeflow_host::frames::{Frame, FrameSource};
use squeezeflow_model::calibration;
use squeezeflow_model::config::Quantization;
use squeezeflow_model::float::{input_means, quantize_with_means};
use squeezeflow_model::reference::Prepared;
use squeezeflow_model::{builtin, file, onnx, FloatModel, QuantModel};

/// One frame's classification.
#[derive(serde::Serialize)]
pub(crate) struct Classified {
    label: String,
    top: Vec<ClassScore>,
}

#[derive(serde::Serialize)]
pub(crate) struct ClassScore {
    index: usize,
    name: String,
    /// The dequantized logit.
    logit: f32,
}

pub(crate) fn classify(
    model: Option<&std::path::Path>,
    frames: &[String],
    top: usize,
    json: bool,
) -> Result<()> {
    let qm = match model {
        Some(p) => file::load(p)?,
        None => builtin::default_model(),
    };
    let classes = builtin::imagenet_classes();
    let names = |i: usize| -> String {
        if qm.config().num_classes == classes.len() {
            classes[i].to_string()
        } else {
            format!("class {i}")
        }
    };
    let prepared = Prepared::new(&qm);
    let mut stdout = std::io::stdout().lock();
    let mut out = Vec::new();
    let mut seen = 0usize;
    for item in FrameSource::open_all(frames, qm.config().input_size)? {
        let (label, rgb) = item?;
        seen += 1;
        let logits = qm.dequantize_logits(&prepared.run(&rgb)?.logits);
        let top = squeezeflow_host::accuracy::top_k(&logits, top)
            .into_iter()
            .map(|i| ClassScore {
                index: i,
                name: names(i),
                logit: logits[i],
            })
            .collect();
        let c = Classified { label, top };
        if json {
            out.push(c);
        } else {
            writeln!(stdout, "{}", c.label)?;
            for s in &c.top {
                writeln!(stdout, "  {:>4}  {:>8.3}  {}", s.index, s.logit, s.name)?;
            }
        }
    }
    if seen == 0 {
        bail!("no frames in {}", frames.join(" "));
    }
    if json {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&out)?)?;
    }
    Ok(())
}

pub(crate) fn read_frames(args: &[String], n: usize) -> Result<Vec<Frame>> {
    let frames = FrameSource::open_all(args, n)?.collect_all()?;
    if frames.is_empty() {
        bail!("no frames in {}", args.join(" "));
    }
    Ok(frames)
}

/// `--weight-bits K` and `--layer-bits LAYER=K,...` as a `[quantization]` table (checked
/// against the network when it is applied).
pub(crate) fn quantization(bits: Option<u8>, layers: &[String]) -> Result<Quantization> {
    let mut q = Quantization::default();
    if let Some(b) = bits {
        q.weight_bits = b;
    }
    for item in layers {
        let (name, k) = item
            .split_once('=')
            .with_context(|| format!("--layer-bits '{item}': expected LAYER=K, e.g. conv1=8"))?;
        let k: u8 = k.trim().parse().with_context(|| {
            format!("--layer-bits '{item}': '{k}' is not a number of bits (4..=8)")
        })?;
        q.layers.insert(name.trim().to_string(), k);
    }
    q.validate()?;
    Ok(q)
}

/// Imports, calibrates and quantizes an ONNX model (its weights stored as `q` says).
pub(crate) fn import(
    onnx_path: &std::path::Path,
    calib: &[String],
    method: &str,
    q: Quantization,
) -> Result<(FloatModel, QuantModel)> {
    let method: calibration::Method = method.parse()?;
    let fm = onnx::import_file(onnx_path)?.with_quantization(q)?;
    let frames = read_frames(calib, fm.network.config.input_size)
        .context("reading the calibration frames")?;
    let rgb: Vec<Vec<u8>> = frames.into_iter().map(|(_, f)| f).collect();
    let ranges = calibration::ranges(&fm, &rgb, method).context("calibrating")?;
    // Codebook layers get bias correction from the calibration frames' input means.
    let means = if fm.network.convs().iter().any(|l| l.weight_bits < 8) {
        Some(input_means(&fm, &rgb).context("measuring input means")?)
    } else {
        None
    };
    let qm = quantize_with_means(&fm, &ranges, means.as_ref()).context("quantizing")?;
    Ok((fm, qm))
}

pub(crate) fn print_accuracy(
    fm: &FloatModel,
    qm: &QuantModel,
    frames: &[String],
    json: bool,
) -> Result<()> {
    let frames = read_frames(frames, qm.config().input_size)?;
    let report = AccuracyReport::evaluate(fm, qm, &frames)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        out!("{}", report.to_table())?;
    }
    Ok(())
}
