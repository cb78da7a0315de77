//! `squeezeflow`: the command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use squeezeflow_host::accel::ModelChoice;
use squeezeflow_host::accuracy::AccuracyReport;
use squeezeflow_host::frames::{self, Frame, FrameSource};
use squeezeflow_model::calibration;
use squeezeflow_model::float::quantize;
use squeezeflow_model::reference::Prepared;
use squeezeflow_model::report::Report;
use squeezeflow_model::{builtin, file, onnx, FloatModel, Network, NetworkConfig, QuantModel};

#[derive(Parser)]
#[command(
    name = "squeezeflow",
    version,
    about = "SqueezeNet-family networks as streaming int8 FPGA accelerators",
    after_help = "Exit status: 0 success, 1 an error, 2 a command-line usage error, 3 a logit mismatch (sim, board, regress)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `--device` values: a part or board name of the device table (the error lists them).
fn parse_device(s: &str) -> std::result::Result<String, String> {
    squeezeflow_sim::hw::device::find_device(s)
        .map(|d| d.name.to_string())
        .map_err(|e| e.to_string())
}

/// `--board` values: a board of the device table.
fn parse_board(s: &str) -> std::result::Result<String, String> {
    squeezeflow_host::synth_cmd::board_device(s)
        .map(|d| d.board.to_string())
        .map_err(|e| e.to_string())
}

fn device_help(what: &str) -> String {
    format!("{what}: {}", squeezeflow_sim::hw::device::device_names())
}

fn board_help() -> String {
    let boards: Vec<String> = squeezeflow_sim::hw::device::DEVICES
        .iter()
        .map(|d| format!("{} ({})", d.board, d.name))
        .collect();
    format!(
        "Target this board: its device (as --device) and its constraint files, written into the \
         bundle and listed in the manifest: {}",
        boards.join(", ")
    )
}

/// Which network: a preset, a TOML file, or the built-in default.
#[derive(Args, Clone, Debug)]
struct NetworkArgs {
    /// A built-in preset: squeezenet1_0 or squeezenet1_1 (the default).
    #[arg(long, conflicts_with = "config")]
    preset: Option<String>,
    /// A network description in TOML (a preset plus overrides; see docs/usage.md).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Override the input size (square).
    #[arg(long)]
    input_size: Option<usize>,
}

impl NetworkArgs {
    fn resolve(&self) -> Result<NetworkConfig> {
        self.choice(None, 1).network()
    }
    fn choice(&self, model: Option<PathBuf>, weights_seed: u64) -> ModelChoice {
        ModelChoice {
            model,
            preset: self.preset.clone(),
            config: self.config.clone(),
            input_size: self.input_size,
            weights_seed,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Per-layer shapes, parameters, MACs and int8 bytes of a network.
    Info {
        #[command(flatten)]
        net: NetworkArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Import a SqueezeNet-family ONNX model: calibrate activation scales on frames (plain
    /// maximum), quantize to the int8 contract and write the model file.
    Import {
        /// The ONNX model (float32, input 1x3xNxN, torchvision preprocessing).
        onnx: PathBuf,
        /// Calibration frames: images, folders of images, .y4m videos, `-` (Y4M on stdin).
        #[arg(long, num_args = 1.., required = true)]
        calibrate: Vec<String>,
        /// How activation ranges are chosen: `max` (the default: the largest value seen) or
        /// `percentile:P` (e.g. `percentile:99.99`).
        #[arg(long, default_value = "max")]
        calibration: String,
        /// The quantized model file to write (safetensors).
        #[arg(short, long)]
        output: PathBuf,
        /// Frames to score the int8 model on against the float model (never the calibration
        /// frames).
        #[arg(long, num_args = 1..)]
        score: Vec<String>,
        /// Print the accuracy report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Classify frames with the integer reference (the built-in SqueezeNet v1.1 by default):
    /// the top classes with their ImageNet names.
    Classify {
        /// Frames: images, folders of images, .y4m videos, `-` (Y4M on stdin), `synthetic[:N]`.
        #[arg(required = true)]
        frames: Vec<String>,
        /// A quantized model file instead of the built-in SqueezeNet v1.1.
        #[arg(long)]
        model: Option<PathBuf>,
        /// How many classes to print per frame.
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write each frame as the network sees it (after decoding, resizing and cropping) as a PNG
    /// file named after its label.
    Frames {
        /// Frames: images, folders of images, .y4m videos, `-` (Y4M on stdin), `synthetic[:N]`.
        #[arg(required = true)]
        frames: Vec<String>,
        /// The folder to write to (created if missing).
        #[arg(short, long)]
        output: PathBuf,
        /// The network input size.
        #[arg(long, default_value_t = 224)]
        input_size: usize,
    },
    /// Compare an int8 model file with its float ONNX model: top-1 agreement, top-5 overlap and
    /// cosine similarity of the logits, per frame and on average.
    Accuracy {
        /// The quantized model file.
        #[arg(long)]
        model: PathBuf,
        /// The float ONNX model it was imported from.
        #[arg(long)]
        onnx: PathBuf,
        /// Frames: images, folders of images, .y4m videos, `-` (Y4M on stdin).
        #[arg(required = true)]
        frames: Vec<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Generate the accelerator for a network: a self-contained Verilog bundle (top.v, the
    /// primitive library, one .mem file per weight memory, the model file, manifest.json).
    Gen {
        #[command(flatten)]
        model: ModelArgs,
        #[command(flatten)]
        hw: HwArgs,
        /// The bundle directory (default: out/<network>).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Print the manifest as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run Yosys on a bundle (`synth_xilinx -flatten`, or `synth_ecp5`) and print LUT, FF, DSP,
    /// block RAM and URAM against the device's capacity, beside the estimate; BRAM and DSP per
    /// layer. Long for a whole network (minutes to hours): progress goes to stderr.
    Synth {
        /// A bundle written by `gen`.
        bundle: PathBuf,
        #[arg(long, value_parser = parse_device, help = device_help("The device to compare with (default: the bundle's, from `gen --device`), a part or its board"))]
        device: Option<String>,
        /// Synthesis family without a device.
        #[arg(long, value_parser = ["xilinx7", "xcup", "ecp5"])]
        family: Option<String>,
        /// Report the results a finished Yosys run left in the bundle (yosys_stat.txt,
        /// yosys_cells_*.txt) instead of running it again.
        #[arg(long)]
        reuse: bool,
        /// Then place and route with nextpnr (ECP5; scripts/setup-ecp5.sh installs it) and
        /// report the achieved clock (fmax) against the bundle's.
        #[arg(long)]
        pnr: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The SqueezeNet paper's design-space sweep (squeeze ratio 0.125..1 at pct_3x3 = 0.5, and
    /// pct_3x3 0.01..0.99 at SR = 0.5, on the v1.0 layout) with a hardware cost: parameters,
    /// model bytes, and the MAC lanes and block RAM for a frame rate, or the frame rate on a
    /// device. A table, JSON, and SVG plots (one a metric).
    Dse {
        /// Frames per second to provision the MAC lanes and block RAM for.
        #[arg(long, default_value_t = 100.0)]
        fps: f64,
        /// Clock in MHz for --fps.
        #[arg(long, default_value_t = 200.0)]
        clock_mhz: f64,
        #[arg(long, value_parser = parse_device, help = device_help("Instead of --fps: the frame rate of the fastest folding that fits this device, at its nominal clock"))]
        device: Option<String>,
        /// Input size (the paper's 227 for v1.0; 224 by default, as the built-in model).
        #[arg(long, default_value_t = 224)]
        input_size: usize,
        /// Write the SVG plots into this directory.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Only the parameter columns (no folding).
        #[arg(long)]
        no_hardware: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run frames through the accelerator in Verilator, cycle by cycle, and through the integer
    /// reference; compare every logit. Exits non-zero on any mismatch.
    Sim {
        /// A bundle written by `gen` (default: generate one for the chosen model into
        /// out/<network>). It carries its network and folding, so the generation options
        /// (--model, --preset, --config, --mac-budget, --device, ...) are refused with it.
        #[arg(long, conflicts_with_all = ["model", "preset", "config", "input_size", "weights_seed", "mac_budget", "clock_mhz", "device", "board"])]
        bundle: Option<PathBuf>,
        #[command(flatten)]
        model: ModelArgs,
        #[command(flatten)]
        hw: HwArgs,
        /// Frames: a .y4m video, `-` (Y4M on stdin, e.g. from `ffmpeg -f yuv4mpegpipe -`),
        /// images, folders of images, `synthetic[:N]`. Default: a short built-in clip.
        frames: Vec<String>,
        /// Stop after this many frames.
        #[arg(long)]
        max_frames: Option<usize>,
        /// Probability of a stall on each stream in each cycle (0 = none), to exercise the
        /// accelerator's flow control.
        #[arg(long, default_value_t = 0.0)]
        stall: f64,
        /// Seed of the stall pattern.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write a VCD waveform of the whole run (large: use with few frames).
        #[arg(long)]
        vcd: Option<PathBuf>,
        /// Cycles without progress after which the run stops as deadlocked.
        #[arg(long, default_value_t = 5_000_000)]
        max_idle: u64,
        /// Classes to print per frame.
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Write the JSON report here.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Verilator threads for the model (its `--threads`): for one large design; to run
        /// many frames, `regress -j` with one thread a worker is faster (docs/regress.md).
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// Drive a board (or the simulated board shell) over its UART: check IDENTIFY against the
    /// bundle, stream frames, compare every logit with the integer reference (docs/protocol.md).
    /// Exits non-zero on any mismatch.
    Board {
        /// A bundle written by `gen`.
        #[arg(long)]
        bundle: PathBuf,
        /// The board's serial port (e.g. /dev/ttyUSB0).
        #[arg(long, conflicts_with = "sim", required_unless_present_any = ["sim", "write_shell"])]
        port: Option<String>,
        /// The UART's baud rate (the shell's divisor is clock / baud, set when it is generated).
        #[arg(long, default_value_t = 115_200)]
        baud: u32,
        /// Run the simulated shell (Verilator, driven bit by bit) instead of a port.
        #[arg(long)]
        sim: bool,
        /// Clocks per UART bit of the simulated shell.
        #[arg(long, default_value_t = 4)]
        divisor: u32,
        /// Only write the shell's Verilog for the board (divisor = the bundle's clock / --baud)
        /// into this directory, then stop.
        #[arg(long)]
        write_shell: Option<PathBuf>,
        /// Frames (as for `sim`). Default: the built-in clip.
        frames: Vec<String>,
        /// Stop after this many frames.
        #[arg(long)]
        max_frames: Option<usize>,
        /// Classes to print per frame.
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Attempts after the first for a request that fails on the wire.
        #[arg(long, default_value_t = 4)]
        retries: usize,
    },
    /// Simulation regressions: a TOML spec of cases (network, folding, stalls, frames) run on
    /// every core in worker processes, or sharded, or over SLURM (docs/regress.md). Results in
    /// the output folder: results.jsonl (a line a frame), junit.xml, report.json, summary.txt.
    /// Exit status: 0 every frame matched, 3 a logit mismatch, 1 an error or a frame not run.
    Regress(RegressArgs),
    /// Runs one unit of a regression (started by `regress`, not by hand).
    #[command(hide = true)]
    RegressWorker { job: String },
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
struct RegressArgs {
    #[command(subcommand)]
    action: Option<RegressAction>,
    /// The regression spec (TOML); with --rerun-failed, the one in that folder is used.
    #[arg(required_unless_present = "rerun_failed")]
    spec: Option<PathBuf>,
    /// Worker processes at once (default: the available cores).
    #[arg(short = 'j', long)]
    jobs: Option<usize>,
    /// The results folder (default: out/regress/<spec name>). Running again into the same
    /// folder resumes: frames that passed are not run again.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Run a deterministic 1/N of the units: K/N, K from 1.
    #[arg(long)]
    shard: Option<String>,
    /// Where bundles are generated and shared (default: <output>/bundles).
    #[arg(long)]
    bundles: Option<PathBuf>,
    /// Re-run only the units with a mismatched or failed frame in this results folder.
    #[arg(long, conflicts_with_all = ["output", "shard"])]
    rerun_failed: Option<PathBuf>,
    /// Re-run each mismatching frame alone with a VCD waveform (into <output>/vcd).
    #[arg(long)]
    vcd_on_fail: bool,
    /// Discard earlier results in the output folder instead of resuming.
    #[arg(long)]
    fresh: bool,
    /// No progress line and no summary table.
    #[arg(long)]
    quiet: bool,
    /// Submit to SLURM as a job array (one task a shard), wait, and merge.
    #[arg(long, conflicts_with_all = ["shard", "rerun_failed"])]
    slurm: bool,
    /// SLURM partition.
    #[arg(long, requires = "slurm")]
    partition: Option<String>,
    /// SLURM time limit per task (e.g. 01:00:00).
    #[arg(long, requires = "slurm")]
    time: Option<String>,
    /// CPUs per SLURM task (its workers).
    #[arg(long, requires = "slurm", default_value_t = 1)]
    cpus_per_task: usize,
    /// Shards (array tasks) for SLURM.
    #[arg(long, requires = "slurm", default_value_t = 2)]
    shards: usize,
    /// Submit and return; merge later with `regress merge`.
    #[arg(long, requires = "slurm")]
    no_wait: bool,
    /// Verilator threads per worker's model (see `sim --threads`).
    #[arg(long, default_value_t = 1, conflicts_with = "slurm")]
    threads: usize,
    /// Only generate the bundles, build the Verilator models and write plan.json (e.g. before
    /// timing a run, or on a login node before submitting shards by hand).
    #[arg(long, conflicts_with = "slurm")]
    prepare: bool,
}

#[derive(Subcommand, Debug)]
enum RegressAction {
    /// Combine the results folders of shards of one regression into one report.
    Merge {
        /// The shards' results folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The merged results folder.
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// An exit status other than 1 for an error (3: a logit mismatch).
#[derive(Debug)]
struct ExitWith(u8, String);

impl std::fmt::Display for ExitWith {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

impl std::error::Error for ExitWith {}

fn finish_regress(
    out: &std::path::Path,
    t: squeezeflow_host::regress::Totals,
    quiet: bool,
) -> Result<()> {
    if !quiet {
        if let Ok(s) = std::fs::read_to_string(out.join("summary.txt")) {
            print!("{s}");
        }
        println!("results: {}", out.display());
    }
    match t.exit_code() {
        0 => Ok(()),
        code => Err(ExitWith(
            code,
            format!(
                "{} of {} frames mismatched, {} errors, {} not run (see {})",
                t.failed,
                t.frames,
                t.errors,
                t.not_run,
                out.join("summary.txt").display()
            ),
        )
        .into()),
    }
}

fn regress(a: RegressArgs) -> Result<()> {
    use squeezeflow_host::regress::{self, report, run, slurm};
    if let Some(RegressAction::Merge { dirs, output }) = a.action {
        let t = report::merge(&dirs, &output)?;
        return finish_regress(&output, t, a.quiet);
    }
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 {
        bail!("-j must be at least 1");
    }
    let (plan, out, rerun) = match (&a.rerun_failed, &a.spec) {
        (Some(dir), _) => (run::read_run_file(dir)?.plan, dir.clone(), true),
        (None, Some(spec)) => {
            let plan = regress::plan_file(spec)?;
            let out = a.output.clone().unwrap_or_else(|| {
                PathBuf::from("out")
                    .join("regress")
                    .join(frames::label_file_name(&plan.spec.name))
            });
            (plan, out, false)
        }
        (None, None) => bail!("name a spec or --rerun-failed DIR"),
    };
    if a.slurm {
        let spec = a.spec.as_ref().expect("clap: spec without --rerun-failed");
        let o = slurm::SlurmOptions {
            shards: a.shards,
            partition: a.partition.clone(),
            time: a.time.clone(),
            cpus_per_task: a.cpus_per_task,
            no_wait: a.no_wait,
            program: None,
            quiet: a.quiet,
        };
        return match slurm::submit(spec, &plan, &out, &o)? {
            slurm::SlurmOutcome::Submitted { job, script } => {
                println!(
                    "submitted SLURM job {job} ({}); when it is done: squeezeflow regress merge {}/shards/* -o {}",
                    script.display(),
                    out.display(),
                    out.display()
                );
                Ok(())
            }
            slurm::SlurmOutcome::Merged { job, totals } => {
                if !a.quiet {
                    eprintln!("SLURM job {job} done");
                }
                finish_regress(&out, totals, a.quiet)
            }
        };
    }
    let shard = a
        .shard
        .as_deref()
        .map(regress::spec::parse_shard)
        .transpose()?;
    let opt = regress::RunOptions {
        jobs,
        out: out.clone(),
        bundles: a.bundles.clone(),
        shard,
        rerun_failed: rerun,
        vcd_on_fail: a.vcd_on_fail,
        fresh: a.fresh,
        quiet: a.quiet,
        worker: None,
        threads: a.threads,
        prepare_only: a.prepare,
    };
    if a.prepare {
        run::run(plan, &opt)?;
        println!(
            "prepared {} (bundles and Verilator models built)",
            out.display()
        );
        return Ok(());
    }
    let o = run::run(plan, &opt)?;
    if !a.quiet && o.skipped_units > 0 {
        eprintln!(
            "regress: {} units run, {} passed earlier and not run again",
            o.ran_units, o.skipped_units
        );
    }
    finish_regress(&out, o.summary, a.quiet)
}

/// Which quantized model: a file, a synthetic model for a network, or the built-in default.
#[derive(Args, Clone, Debug)]
struct ModelArgs {
    /// A quantized model file (from `import`).
    #[arg(long, conflicts_with_all = ["preset", "config"])]
    model: Option<PathBuf>,
    #[command(flatten)]
    net: NetworkArgs,
    /// Seed of the synthetic weights used with --preset or --config.
    #[arg(long, default_value_t = 1)]
    weights_seed: u64,
}

impl ModelArgs {
    fn choice(&self) -> ModelChoice {
        self.net.choice(self.model.clone(), self.weights_seed)
    }
    fn resolve(&self) -> Result<QuantModel> {
        self.choice().model()
    }
    fn hardware(&self) -> Result<squeezeflow_sim::hw::folding::HardwareConfig> {
        self.choice().hardware()
    }
}

/// Hardware options.
#[derive(Args, Clone, Debug)]
struct HwArgs {
    /// MAC lanes to spread over the layers (default 256, or the config's [hardware] mac_budget).
    #[arg(long)]
    mac_budget: Option<usize>,
    /// Nominal clock in MHz for throughput figures (default 200, or the device's).
    #[arg(long)]
    clock_mhz: Option<f64>,
    #[arg(long, value_parser = parse_device, help = device_help("Choose the folding with the most frames per second that fits this device (DSPs, block RAM, URAM), or refuse saying what does not fit"))]
    device: Option<String>,
    #[arg(long, value_parser = parse_board, help = board_help())]
    board: Option<String>,
}

fn gen_options(model: &ModelArgs, hw: &HwArgs) -> Result<squeezeflow_host::accel::GenOptions> {
    Ok(squeezeflow_host::accel::GenOptions {
        hardware: model.hardware()?,
        mac_budget: hw.mac_budget,
        clock_mhz: hw.clock_mhz,
        device: hw.device.clone(),
        board: hw.board.clone(),
    })
}

fn default_bundle_dir(qm: &QuantModel) -> PathBuf {
    PathBuf::from("out").join(&qm.config().name)
}

/// One frame's classification.
#[derive(serde::Serialize)]
struct Classified {
    label: String,
    top: Vec<ClassScore>,
}

#[derive(serde::Serialize)]
struct ClassScore {
    index: usize,
    name: String,
    /// The dequantized logit.
    logit: f32,
}

fn classify(
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
    for item in FrameSource::open_all(frames, qm.config().input_size)? {
        let (label, rgb) = item?;
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
    if json {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&out)?)?;
    }
    Ok(())
}

fn read_frames(args: &[String], n: usize) -> Result<Vec<Frame>> {
    let frames = FrameSource::open_all(args, n)?.collect_all()?;
    if frames.is_empty() {
        bail!("no frames in {}", args.join(" "));
    }
    Ok(frames)
}

/// Imports, calibrates and quantizes an ONNX model.
fn import(
    onnx_path: &std::path::Path,
    calib: &[String],
    method: &str,
) -> Result<(FloatModel, QuantModel)> {
    let method: calibration::Method = method.parse()?;
    let fm = onnx::import_file(onnx_path)?;
    let frames = read_frames(calib, fm.network.config.input_size)
        .context("reading the calibration frames")?;
    let rgb: Vec<Vec<u8>> = frames.into_iter().map(|(_, f)| f).collect();
    let ranges = calibration::ranges(&fm, &rgb, method).context("calibrating")?;
    let qm = quantize(&fm, &ranges).context("quantizing")?;
    Ok((fm, qm))
}

fn print_accuracy(fm: &FloatModel, qm: &QuantModel, frames: &[String], json: bool) -> Result<()> {
    let frames = read_frames(frames, qm.config().input_size)?;
    let report = AccuracyReport::evaluate(fm, qm, &frames)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Info { net, json } => {
            let cfg = net.resolve()?;
            let report = Report::new(&Network::new(&cfg)?);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_table());
            }
        }
        Command::Import {
            onnx: onnx_path,
            calibrate,
            calibration,
            output,
            score,
            json,
        } => {
            let (fm, qm) = import(&onnx_path, &calibrate, &calibration)?;
            file::save(&qm, &output)?;
            eprintln!(
                "wrote {} ({}, {} at {}x{})",
                output.display(),
                qm.source,
                qm.config().name,
                qm.config().input_size,
                qm.config().input_size
            );
            if !score.is_empty() {
                print_accuracy(&fm, &qm, &score, json)?;
            }
        }
        Command::Classify {
            frames,
            model,
            top,
            json,
        } => classify(model.as_deref(), &frames, top, json)?,
        Command::Frames {
            frames,
            output,
            input_size,
        } => {
            std::fs::create_dir_all(&output)
                .with_context(|| format!("creating {}", output.display()))?;
            let mut stdout = std::io::stdout().lock();
            for item in FrameSource::open_all(&frames, input_size)? {
                let (label, rgb) = item?;
                let path = output.join(format!("{}.png", frames::label_file_name(&label)));
                frames::write_png(&path, input_size, input_size, &rgb)?;
                writeln!(stdout, "{}", path.display())?;
            }
        }
        Command::Accuracy {
            model,
            onnx: onnx_path,
            frames,
            json,
        } => {
            let qm = file::load(&model)?;
            let fm = onnx::import_file(&onnx_path)?;
            if fm.network != qm.network {
                bail!(
                    "{} is not the network of {} ({} vs {})",
                    onnx_path.display(),
                    model.display(),
                    fm.network.config.name,
                    qm.network.config.name
                );
            }
            print_accuracy(&fm, &qm, &frames, json)?;
        }
        Command::Gen {
            model,
            hw,
            output,
            json,
        } => {
            let qm = model.resolve()?;
            let dir = output.unwrap_or_else(|| default_bundle_dir(&qm));
            let t = std::time::Instant::now();
            let m = squeezeflow_host::accel::generate(&qm, &gen_options(&model, &hw)?, &dir)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&m)?);
            } else {
                println!("{}", squeezeflow_host::accel::describe(&m, &dir));
                if let Some(line) = squeezeflow_host::synth_cmd::describe_bundle_fit(&dir)? {
                    println!("{line}");
                }
                eprintln!("generated in {:.2} s", t.elapsed().as_secs_f64());
            }
        }
        Command::Synth {
            bundle,
            device,
            family,
            reuse,
            pnr,
            json,
        } => {
            let opt = squeezeflow_host::synth_cmd::SynthOptions {
                device,
                family,
                quiet: false,
                reuse,
                pnr,
            };
            let r = squeezeflow_host::synth_cmd::synth(&bundle, &opt)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print!("{}", squeezeflow_host::synth_cmd::synth_table(&r));
            }
        }
        Command::Dse {
            fps,
            clock_mhz,
            device,
            input_size,
            svg,
            no_hardware,
            json,
        } => {
            let opt = squeezeflow_host::dse::DseOptions {
                input_size,
                fps,
                clock_mhz,
                device: device
                    .as_deref()
                    .map(squeezeflow_sim::hw::device::find_device)
                    .transpose()?,
                hardware: !no_hardware,
            };
            let d = squeezeflow_host::dse::sweep(&opt, |p| {
                if !json {
                    eprint!(".");
                    let _ = p;
                }
            })?;
            if !json {
                eprintln!();
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&d)?);
            } else {
                print!("{}", squeezeflow_host::dse::table(&d));
            }
            if let Some(dir) = svg {
                let files = squeezeflow_host::dse::write_plots(&d, &dir)?;
                eprintln!("{} plots in {}", files.len(), dir.display());
            }
        }
        Command::Sim {
            bundle,
            model,
            hw,
            frames,
            max_frames,
            stall,
            seed,
            vcd,
            max_idle,
            top,
            report,
            threads,
        } => {
            if !(0.0..1.0).contains(&stall) {
                bail!("--stall must be in [0, 1), not {stall}");
            }
            let dir = match bundle {
                Some(d) => d,
                None => {
                    let qm = model.resolve()?;
                    let dir = default_bundle_dir(&qm);
                    let m =
                        squeezeflow_host::accel::generate(&qm, &gen_options(&model, &hw)?, &dir)?;
                    eprintln!("generated {}", squeezeflow_host::accel::describe(&m, &dir));
                    dir
                }
            };
            let b = squeezeflow_sim::network::Bundle::open(&dir).map_err(|e| anyhow::anyhow!(e))?;
            let n = b.manifest.input_size;
            let sources = squeezeflow_host::accel::frames_or_builtin_clip(&frames, n)?;
            let opt = squeezeflow_host::accel::SimOptions {
                max_frames,
                stall,
                seed,
                vcd,
                max_idle,
                top,
                quiet: false,
                threads,
            };
            let r = squeezeflow_host::accel::simulate(&b, sources, &opt)?;
            if let Some(p) = &report {
                std::fs::write(p, serde_json::to_string_pretty(&r)?)
                    .with_context(|| format!("writing {}", p.display()))?;
            }
            println!(
                "{}: {} of {} frames match the integer reference bit for bit",
                r.network, r.matched, r.frames
            );
            println!(
                "cycles/frame: {} measured (steady state), {} estimated ({:+.2}%); first frame {} cycles; {:.1} fps at {} MHz; MAC utilisation {:.1}% of {} lanes",
                r.measured_cycles_per_frame,
                r.estimated_cycles_per_frame,
                r.deviation * 100.0,
                r.first_frame_cycles,
                r.frames_per_second,
                r.clock_mhz,
                r.mac_utilization * 100.0,
                r.mac_lanes
            );
            println!(
                "Verilator: {} cycles in {:.1} s ({:.0} cycles/s, {:.1} s per frame); model build {:.1} s",
                r.cycles,
                r.sim_seconds,
                r.cycles_per_second,
                r.measured_cycles_per_frame as f64 / r.cycles_per_second,
                r.build_seconds
            );
            if r.matched != r.frames {
                let first = r
                    .frame_reports
                    .iter()
                    .find(|f| !f.matches)
                    .expect("a mismatching frame");
                let mm = first.mismatch.as_ref().expect("mismatch details");
                return Err(ExitWith(
                    3,
                    format!(
                        "{} of {} frames differ from the reference; first: frame {} ({}), class {} expected {} got {}; look at {}",
                        r.frames - r.matched,
                        r.frames,
                        first.index,
                        first.label,
                        mm.class,
                        mm.expected,
                        mm.got,
                        mm.layer_hint
                    ),
                )
                .into());
            }
        }
        Command::Regress(a) => regress(a)?,
        Command::RegressWorker { job } => squeezeflow_host::regress::worker_main(&job)?,
        Command::Board {
            bundle,
            port,
            baud,
            sim,
            divisor,
            write_shell,
            frames,
            max_frames,
            top,
            retries,
        } => {
            let b =
                squeezeflow_sim::network::Bundle::open(&bundle).map_err(|e| anyhow::anyhow!(e))?;
            if let Some(dir) = write_shell {
                let d = squeezeflow_sim::hw::shell::ShellConfig::divisor_for(
                    b.manifest.clock_mhz * 1e6,
                    baud,
                )?;
                let w = squeezeflow_host::board::write_bundle_shell(
                    &b,
                    d,
                    std::time::Duration::from_millis(20),
                    &dir,
                )?;
                println!(
                    "board shell for {}: {} ({} clocks per bit: {baud} baud at {} MHz)",
                    b.manifest.network,
                    w.top.display(),
                    d,
                    b.manifest.clock_mhz
                );
                return Ok(());
            }
            let n = b.manifest.input_size;
            let sources = squeezeflow_host::accel::frames_or_builtin_clip(&frames, n)?;
            let opt = squeezeflow_host::board::BoardOptions {
                port,
                baud,
                sim,
                divisor,
                max_frames,
                top,
                retries,
            };
            let r = squeezeflow_host::board::run_board(&b, sources, &opt)?;
            let matched = r.frames.iter().filter(|f| f.matches).count();
            println!(
                "{}: {} of {} frames match the integer reference bit for bit",
                b.manifest.network,
                matched,
                r.frames.len()
            );
            let wire = r.stats.bytes_sent + r.stats.bytes_received;
            println!(
                "link: {} requests, {} retries, {} bytes in {:.2} s ({:.0} bytes/s){}",
                r.stats.requests,
                r.stats.retries,
                wire,
                r.seconds,
                wire as f64 / r.seconds.max(1e-9),
                match r.sim_cycles {
                    Some(c) => format!(
                        "; {c} simulated cycles ({:.1} cycles per byte on the wire)",
                        c as f64 / wire.max(1) as f64
                    ),
                    None => String::new(),
                }
            );
            if matched != r.frames.len() {
                return Err(ExitWith(
                    3,
                    format!(
                        "{} of {} frames differ from the reference",
                        r.frames.len() - matched,
                        r.frames.len()
                    ),
                )
                .into());
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (`squeezeflow classify - | head`) ends the output, not in error.
            let broken_pipe = e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            if let Some(ExitWith(code, msg)) = e.downcast_ref::<ExitWith>() {
                eprintln!("squeezeflow: {msg}");
                return ExitCode::from(*code);
            }
            eprintln!("squeezeflow: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
