//! `squeezeflow`: the command line.

use squeezeflow_host::{out, outln};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

mod cli;
use cli::args::*;
use cli::model_cmds::*;
use cli::regress::{regress, ExitWith, RegressArgs};
use squeezeflow_host::frames::{self, FrameSource};
use squeezeflow_model::report::Report;
use squeezeflow_model::{file, onnx, Network};

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
        /// Store every layer's weights as K-bit indices into a per-layer codebook of int8
        /// values (Deep Compression's weight sharing, k-means per layer): 4..=8, 8 = dense int8.
        #[arg(long, value_name = "K")]
        weight_bits: Option<u8>,
        /// A layer's own width, over --weight-bits: `conv1=8` (repeat, or separate by commas).
        #[arg(long, value_name = "LAYER=K", value_delimiter = ',')]
        layer_bits: Vec<String>,
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
    /// Build a board bundle's bitstream with the open ECP5 flow (the ULX3S): the board shell
    /// (the UART protocol `board` speaks) behind a PLL making the bundle's clock, Yosys
    /// synth_ecp5, nextpnr-ecp5 and ecppack (scripts/setup-ecp5.sh installs them). Fails
    /// without a bitstream when the routed design misses the clock. Tens of minutes for a
    /// whole network.
    Build {
        /// A bundle written by `gen --board ulx3s`.
        bundle: PathBuf,
        /// The UART's baud rate the shell is built for (300 to 12,000,000).
        #[arg(long, default_value_t = 115_200, value_parser = clap::value_parser!(u32).range(300..=12_000_000))]
        baud: u32,
        /// The bitstream file (default: BUNDLE/build/<top>_<board>.bit).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Write the bitstream even when the routed design misses the clock.
        #[arg(long)]
        allow_timing_fail: bool,
        /// Place and route N times, one run after another, and keep the fastest: nextpnr's
        /// default seed, then seeds 1..N (fmax varies with placement; 1: the default alone).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=32))]
        seeds: u32,
        /// Stop a placement still routing after this many minutes; a sweep goes on with the
        /// next seed (some placements' routing does not converge in hours).
        #[arg(long, value_name = "MINUTES")]
        pnr_minutes: Option<f64>,
        /// Print JSON instead of text.
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
        /// Store the weights as K-bit codebook indices (4..=8; 8 = int8): the stored size, and
        /// the foldings' weight memories at K bits.
        #[arg(long, value_name = "K", default_value_t = 8)]
        weight_bits: u8,
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
        #[arg(long, conflicts_with_all = ["model", "preset", "config", "input_size", "weights_seed", "mac_budget", "clock_mhz", "device", "board", "top_name"])]
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
        /// Verilator threads for the model (its `--threads`). On 2 cores, 2 threads ran the v1.1
        /// and XCZU7EV foldings slower than 1 (docs/regress.md): spread frames over
        /// `regress -j` workers instead; threads may pay on machines with cores to spare.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Run a bundle whose files differ from what `gen` wrote (the manifest's digests), e.g.
        /// a weight edited on purpose; its memory files must still be well formed.
        #[arg(long, requires = "bundle")]
        allow_edited: bool,
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
        /// The UART's baud rate (the shell's divisor is clock / baud, set when it is generated):
        /// 300 to 12,000,000.
        #[arg(long, default_value_t = 115_200, value_parser = clap::value_parser!(u32).range(300..=12_000_000))]
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
        /// Attempts after the first for a request that fails on the wire (at most 100).
        #[arg(long, default_value_t = 4, value_parser = parse_retries)]
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

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Info { net, json } => {
            let cfg = net.resolve()?;
            let report = Report::new(&Network::new(&cfg)?);
            if json {
                outln!("{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                out!("{}", report.to_table())?;
            }
        }
        Command::Import {
            onnx: onnx_path,
            calibrate,
            calibration,
            output,
            weight_bits,
            layer_bits,
            score,
            json,
        } => {
            let q = cli::model_cmds::quantization(weight_bits, &layer_bits)?;
            let (fm, qm) = import(&onnx_path, &calibrate, &calibration, q)?;
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
            let choice = model.choice();
            let qm = choice.model()?;
            let dir = output.unwrap_or_else(|| default_bundle_dir(&qm));
            let t = std::time::Instant::now();
            let m = squeezeflow_host::accel::generate(&qm, &gen_options(&choice, &hw)?, &dir)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&m)?)?;
            } else {
                outln!("{}", squeezeflow_host::accel::describe(&m, &dir))?;
                if let Some(line) = squeezeflow_host::synth_cmd::describe_bundle_fit(&dir)? {
                    outln!("{line}")?;
                }
                eprintln!("generated in {:.2} s", t.elapsed().as_secs_f64());
            }
        }
        Command::Build {
            bundle,
            baud,
            output,
            allow_timing_fail,
            seeds,
            pnr_minutes,
            json,
        } => {
            let opt = squeezeflow_host::build_cmd::BuildOptions {
                baud,
                output,
                allow_timing_fail,
                seeds,
                pnr_minutes,
                quiet: json,
            };
            let r = squeezeflow_host::build_cmd::build(&bundle, &opt)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&r)?)?;
            } else {
                out!("{}", squeezeflow_host::build_cmd::describe(&r))?;
            }
            if r.bitstream.is_none() {
                anyhow::bail!(
                    "timing not met: {:.1} MHz against {:.3} MHz (report: {}/build/build_report.json)",
                    r.pnr.fmax_mhz,
                    r.built_clock_mhz,
                    bundle.display()
                );
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
                outln!("{}", serde_json::to_string_pretty(&r)?)?;
            } else {
                out!("{}", squeezeflow_host::synth_cmd::synth_table(&r))?;
            }
        }
        Command::Dse {
            fps,
            clock_mhz,
            device,
            input_size,
            svg,
            no_hardware,
            weight_bits,
            json,
        } => {
            let opt = squeezeflow_host::dse::DseOptions {
                weight_bits,
                input_size,
                fps,
                clock_mhz,
                device: device
                    .as_deref()
                    .map(squeezeflow_hw::device::find_device)
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
                outln!("{}", serde_json::to_string_pretty(&d)?)?;
            } else {
                out!("{}", squeezeflow_host::dse::table(&d))?;
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
            allow_edited,
        } => {
            if !(0.0..1.0).contains(&stall) {
                bail!("--stall must be in [0, 1), not {stall}");
            }
            let dir = match bundle {
                Some(d) => d,
                None => {
                    let choice = model.choice();
                    let qm = choice.model()?;
                    let dir = default_bundle_dir(&qm);
                    let m =
                        squeezeflow_host::accel::generate(&qm, &gen_options(&choice, &hw)?, &dir)?;
                    eprintln!("generated {}", squeezeflow_host::accel::describe(&m, &dir));
                    dir
                }
            };
            let b = squeezeflow_sim::network::Bundle::open_with(&dir, allow_edited)
                .map_err(|e| anyhow::anyhow!(e))?;
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
            if let Some(e) = &r.error {
                bail!(
                    "{e} (after {} frames{})",
                    r.frames,
                    if report.is_some() {
                        "; the report says which"
                    } else {
                        ""
                    }
                );
            }
            outln!(
                "{}: {} of {} frames match the integer reference bit for bit",
                r.network,
                r.matched,
                r.frames
            )?;
            outln!(
                "cycles/frame: {} measured (steady state), {} estimated ({:+.2}%); first frame {} cycles; {:.1} fps at {} MHz; MAC utilisation {:.1}% of {} lanes",
                r.measured_cycles_per_frame,
                r.estimated_cycles_per_frame,
                r.deviation * 100.0,
                r.first_frame_cycles,
                r.frames_per_second,
                r.clock_mhz,
                r.mac_utilization * 100.0,
                r.mac_lanes
            )?;
            outln!(
                "Verilator: {} cycles in {:.1} s ({:.0} cycles/s, {:.1} s per frame); model build {:.1} s",
                r.cycles,
                r.sim_seconds,
                r.cycles_per_second,
                r.measured_cycles_per_frame as f64 / r.cycles_per_second,
                r.build_seconds
            )?;
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
                let d = squeezeflow_hw::shell::ShellConfig::divisor_for(
                    b.manifest.clock_mhz * 1e6,
                    baud,
                )?;
                let w = squeezeflow_host::board::write_bundle_shell(
                    &b,
                    d,
                    std::time::Duration::from_millis(20),
                    &dir,
                )?;
                outln!(
                    "board shell for {}: {} ({} clocks per bit: {baud} baud at {} MHz)",
                    b.manifest.network,
                    w.top.display(),
                    d,
                    b.manifest.clock_mhz
                )?;
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
            outln!(
                "{}: {} of {} frames match the integer reference bit for bit",
                b.manifest.network,
                matched,
                r.frames.len()
            )?;
            let wire = r.stats.bytes_sent + r.stats.bytes_received;
            outln!(
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
            )?;
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

/// `--retries`: 0 to 100 (each retry of a lost message waits a timeout).
fn parse_retries(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n <= 100 => Ok(n),
        _ => Err(format!("'{s}' is not a retry count from 0 to 100")),
    }
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
