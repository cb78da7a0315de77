//! `build`: a bundle to a bitstream with the open ECP5 flow. The board shell (the accelerator
//! behind the UART protocol `board` speaks) goes behind a PLL that makes the bundle's clock
//! from the board's oscillator; Yosys (`synth_ecp5`), nextpnr-ecp5 and ecppack turn it into a
//! `.bit` that openFPGALoader programs. Only boards with an ECP5 have this flow (the ULX3S);
//! for Xilinx boards the bundle's `vivado.tcl` is the way.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use squeezeflow_hw::ecp5::{self, Pll};
use squeezeflow_hw::synth::{self, PnrResult};

/// An ECP5 board: its oscillator and the nextpnr device arguments of its part.
struct Ecp5Board {
    board: &'static str,
    oscillator_mhz: f64,
    nextpnr: &'static str,
    /// The shell's constraint file in the bundle's `constraints/`.
    lpf: &'static str,
}

const ECP5_BOARDS: &[Ecp5Board] = &[Ecp5Board {
    board: "ulx3s",
    oscillator_mhz: 25.0,
    nextpnr: "--85k --package CABGA381 --speed 6",
    lpf: "ulx3s.lpf",
}];

/// What `build` is asked for.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// The UART's baud rate (the shell's divisor is the built clock / baud).
    pub baud: u32,
    /// Where the bitstream goes (default: `BUNDLE/build/<top>_<board>.bit`).
    pub output: Option<PathBuf>,
    /// Write the bitstream even when the routed design misses the clock.
    pub allow_timing_fail: bool,
    /// Placements to try: nextpnr's default seed, then seeds 1..seeds (1: the default alone).
    pub seeds: u32,
    /// Stop a placement still running after this many minutes (None: no limit).
    pub pnr_minutes: Option<f64>,
    pub quiet: bool,
}

/// One placement of a seed sweep: the seed (None: nextpnr's default), its fmax (MHz; None:
/// stopped at the time limit) and nextpnr's seconds.
#[derive(Clone, Debug, Serialize)]
pub struct SeedRun {
    pub seed: Option<u64>,
    pub fmax_mhz: Option<f64>,
    pub seconds: f64,
}

/// What `build` did.
#[derive(Clone, Debug, Serialize)]
pub struct BuildReport {
    pub bundle: String,
    pub board: String,
    /// The bundle's clock, and the clock the PLL makes from the oscillator (the shell's UART
    /// divisor follows the latter).
    pub clock_mhz: f64,
    pub built_clock_mhz: f64,
    pub pll: Option<String>,
    /// The shell's clocks per UART bit.
    pub divisor: u32,
    pub yosys_seconds: f64,
    /// The fastest placement's result (of `seeds`, when more than one was tried).
    pub pnr: PnrResult,
    /// Each seed's placement when `--seeds` asked for more than one, and the one kept (None:
    /// nextpnr's default seed).
    pub seeds: Vec<SeedRun>,
    pub seed: Option<u64>,
    pub timing_met: bool,
    /// The bitstream (None when timing was missed and not allowed).
    pub bitstream: Option<String>,
}

/// A build directory ready for the tools: the shell, the top and the LPF written.
struct Prepared {
    /// `BUNDLE/build`.
    work: PathBuf,
    board: String,
    /// The top module (`<board>_build_top`) and the sources, relative to `work`.
    top: String,
    sources: Vec<String>,
    pll: Option<Pll>,
    /// The clock the shell runs at (MHz) and its clocks per UART bit.
    clock_mhz: f64,
    divisor: u32,
    nextpnr: &'static str,
    /// The bundle's own top module and clock (MHz), from its manifest.
    bundle_top: String,
    bundle_clock_mhz: f64,
}

/// Writes the build directory of a board bundle (`BUNDLE/build`): the board shell at the
/// clock its PLL makes, the top around it and the board's LPF. Checks the board first.
fn prepare(dir: &Path, baud: u32) -> Result<Prepared> {
    let bundle = squeezeflow_sim::network::Bundle::open(dir).map_err(|e| anyhow!(e))?;
    let m = &bundle.manifest;
    // `gen --board` records the board beside the typed fields of the manifest.
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let board = v.get("board").and_then(|b| b.as_str()).ok_or_else(|| {
        anyhow!(
            "{} was generated without --board: `build` needs a board bundle \
             (gen --board ulx3s)",
            dir.display()
        )
    })?;
    let Some(b) = ECP5_BOARDS.iter().find(|b| b.board == board) else {
        bail!(
            "`build` has an open flow for ECP5 boards ({}), not the {board}: take the bundle's \
             vivado.tcl into Vivado (docs/integration.md)",
            ECP5_BOARDS
                .iter()
                .map(|b| b.board)
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let lpf = dir.join("constraints").join(b.lpf);
    if !lpf.is_file() {
        bail!(
            "{}: missing (regenerate the bundle with --board {board})",
            lpf.display()
        );
    }
    let pll = if (m.clock_mhz - b.oscillator_mhz).abs() < 1e-9 {
        None
    } else {
        Some(Pll::for_output(b.oscillator_mhz, m.clock_mhz).map_err(|e| {
            anyhow!(
                "the bundle's clock of {} MHz on the {board}: {e}",
                m.clock_mhz
            )
        })?)
    };
    let f = pll.map_or(b.oscillator_mhz, |p| p.f_out_mhz());
    let divisor = squeezeflow_hw::shell::ShellConfig::divisor_for(f * 1e6, baud)?;
    let work = dir.join("build");
    let w = crate::board::write_bundle_shell(&bundle, divisor, Duration::from_millis(20), &work)
        .context("writing the board shell")?;
    let top = format!("{board}_build_top");
    std::fs::write(
        work.join(format!("{top}.v")),
        ecp5::build_top(&top, &w.top_module, pll.as_ref()),
    )
    .with_context(|| format!("writing {}", work.display()))?;
    // Beside the netlist: YoWASP's nextpnr sees only its working directory.
    std::fs::copy(&lpf, work.join("build.lpf"))
        .with_context(|| format!("copying {}", lpf.display()))?;
    let mut sources: Vec<String> = w
        .sources
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    sources.push(format!("{top}.v"));
    Ok(Prepared {
        work,
        board: board.to_string(),
        top,
        sources,
        pll,
        clock_mhz: f,
        divisor,
        nextpnr: b.nextpnr,
        bundle_top: m.top_module.clone(),
        bundle_clock_mhz: m.clock_mhz,
    })
}

/// Builds the bitstream of a board bundle.
pub fn build(dir: &Path, opt: &BuildOptions) -> Result<BuildReport> {
    // The options, then every tool, before minutes of work.
    if opt.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    let limit = match opt.pnr_minutes {
        Some(m) if !(m.is_finite() && m > 0.0) => {
            bail!("--pnr-minutes must be a positive number of minutes, not {m}")
        }
        m => m.map(|m| Duration::from_secs_f64(m * 60.0)),
    };
    if squeezeflow_hw::which("yosys").is_none() {
        bail!("yosys is not installed (scripts/setup.sh)");
    }
    let pre = prepare(dir, opt.baud)?;
    if synth::find_nextpnr_ecp5().is_none() || ecp5::find_ecppack().is_none() {
        bail!("nextpnr-ecp5 and ecppack are needed: run scripts/setup-ecp5.sh (PyPI, no compiler)");
    }
    let (work, top, f, board) = (&pre.work, &pre.top, pre.clock_mhz, pre.board.as_str());
    let t = Instant::now();
    if !opt.quiet {
        eprintln!(
            "build: Yosys synth_ecp5 in {} (yosys.log; minutes to an hour) ...",
            work.display()
        );
    }
    synth::yosys_script(
        work,
        &format!(
            "read_verilog -defer {}; synth_ecp5 -top {top} -json build.json",
            pre.sources.join(" ")
        ),
    )?;
    let yosys_seconds = t.elapsed().as_secs_f64();
    if !opt.quiet {
        eprintln!(
            "build: nextpnr-ecp5 {} at {f:.3} MHz ({}) ...",
            pre.nextpnr,
            if opt.seeds > 1 {
                "nextpnr_s<seed>.log"
            } else {
                "nextpnr.log"
            }
        );
    }
    // nextpnr's own seed first (so a sweep keeps nothing slower than one placement would),
    // then seeds 1..N each into its own files; the fastest kept.
    let tries: Vec<Option<u64>> = std::iter::once(None)
        .chain((1..u64::from(opt.seeds)).map(Some))
        .collect();
    let mut runs: Vec<(Option<u64>, String, PnrResult)> = Vec::new();
    let mut seeds: Vec<SeedRun> = Vec::new();
    for (i, seed) in tries.into_iter().enumerate() {
        let config = match seed {
            Some(s) => format!("build_s{s}.config"),
            None => "build.config".to_string(),
        };
        if !opt.quiet && opt.seeds > 1 {
            eprintln!(
                "build: placement {} of {}, seed {}",
                i + 1,
                opt.seeds,
                seed_name(seed)
            );
        }
        let t = Instant::now();
        let mut pnr = match synth::place_and_route_ecp5(
            work,
            "build.json",
            &config,
            pre.nextpnr,
            Some(Path::new("build.lpf")),
            f,
            seed,
            limit,
        ) {
            Ok(p) => p,
            // A placement whose routing does not converge in time: the sweep goes on.
            Err(squeezeflow_hw::HwError::Stopped(why)) => {
                if !opt.quiet {
                    eprintln!("build: {why}");
                }
                seeds.push(SeedRun {
                    seed,
                    fmax_mhz: None,
                    seconds: t.elapsed().as_secs_f64(),
                });
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        // The shell's clock is the PLL's output (or the oscillator); the oscillator's own net
        // drives only the PLL.
        if let Some(c) = pnr
            .clocks
            .iter()
            .find(|(k, _)| k.contains("clk_out"))
            .map(|(_, c)| *c)
        {
            pnr.fmax_mhz = c;
        }
        pnr.constraint_mhz = f;
        if !opt.quiet && opt.seeds > 1 {
            eprintln!(
                "build: seed {}: fmax {:.1} MHz",
                seed_name(seed),
                pnr.fmax_mhz
            );
        }
        seeds.push(SeedRun {
            seed,
            fmax_mhz: Some(pnr.fmax_mhz),
            seconds: pnr.seconds,
        });
        runs.push((seed, config, pnr));
    }
    if runs.is_empty() {
        bail!(
            "no placement finished within --pnr-minutes {} ({} tried; nextpnr*.log in {}): \
             allow more minutes or try other seeds",
            opt.pnr_minutes.unwrap_or_default(),
            seeds.len(),
            work.display()
        );
    }
    if opt.seeds == 1 {
        seeds.clear();
    }
    let best = fastest(&runs.iter().map(|r| r.2.fmax_mhz).collect::<Vec<_>>());
    let (seed, config, pnr) = runs.swap_remove(best);
    let timing_met = pnr.fmax_mhz >= f;
    let name = format!("{}_{board}.bit", pre.bundle_top);
    let _ = std::fs::remove_file(work.join(&name));
    let bitstream = if timing_met || opt.allow_timing_fail {
        ecp5::run_ecppack(work, &config, &name)?;
        let bit = match &opt.output {
            Some(o) => {
                std::fs::copy(work.join(&name), o)
                    .with_context(|| format!("writing {}", o.display()))?;
                o.clone()
            }
            None => work.join(&name),
        };
        Some(bit.display().to_string())
    } else {
        None
    };
    let report = BuildReport {
        bundle: dir.display().to_string(),
        board: board.to_string(),
        clock_mhz: pre.bundle_clock_mhz,
        built_clock_mhz: f,
        pll: pre.pll.map(|p| {
            format!(
                "EHXPLLL {} MHz / {} x {} (CLKOP / {}, VCO {:.0} MHz)",
                p.f_in_mhz,
                p.clki_div,
                p.clkfb_div,
                p.clkop_div,
                p.vco_mhz()
            )
        }),
        divisor: pre.divisor,
        yosys_seconds,
        pnr,
        seeds,
        seed,
        timing_met,
        bitstream,
    };
    std::fs::write(
        work.join("build_report.json"),
        serde_json::to_string_pretty(&report)?,
    )
    .with_context(|| format!("writing {}/build_report.json", work.display()))?;
    Ok(report)
}

/// The report as text; the last lines say what to do with the bitstream, or why there is none.
pub fn describe(r: &BuildReport) -> String {
    let mut s = format!(
        "{} on the {}: {:.3} MHz ({}), UART {} clocks a bit\n",
        r.bundle,
        r.board,
        r.built_clock_mhz,
        r.pll.as_deref().unwrap_or("the oscillator, no PLL"),
        r.divisor
    );
    s += &format!(
        "Yosys {:.0} s, nextpnr {:.0} s: fmax {:.1} MHz against {:.3} MHz ({})\n",
        r.yosys_seconds,
        r.pnr.seconds,
        r.pnr.fmax_mhz,
        r.built_clock_mhz,
        if r.timing_met { "met" } else { "NOT met" }
    );
    if !r.seeds.is_empty() {
        let all: Vec<String> = r
            .seeds
            .iter()
            .map(|x| match x.fmax_mhz {
                Some(m) => format!("{} {m:.1}", seed_name(x.seed)),
                None => format!("{} stopped after {:.0} s", seed_name(x.seed), x.seconds),
            })
            .collect();
        let lo = r
            .seeds
            .iter()
            .filter_map(|x| x.fmax_mhz)
            .fold(f64::MAX, f64::min);
        s += &format!(
            "placer seeds (seed fmax MHz): {}; kept seed {} ({:.1} to {:.1} MHz)\n",
            all.join(", "),
            seed_name(r.seed),
            lo,
            r.pnr.fmax_mhz
        );
    }
    s += &r.pnr.details();
    match &r.bitstream {
        Some(b) => {
            s += &format!(
                "bitstream: {b}\nprogram it: openFPGALoader -b {} {b}\n",
                r.board
            );
            if !r.timing_met {
                s += "WARNING: written with --allow-timing-fail; the board may compute wrong logits\n";
            }
        }
        None => {
            s += &format!(
                "no bitstream: the routed design misses its clock. Regenerate the bundle at \
                 --clock-mhz {:.0} or below, or pass --allow-timing-fail\n",
                r.pnr.fmax_mhz.floor()
            );
        }
    }
    s
}

/// A placer seed as the reports name it: nextpnr's own is `default`.
fn seed_name(seed: Option<u64>) -> String {
    seed.map_or_else(|| "default".to_string(), |s| s.to_string())
}

/// The index of the fastest placement (the first of equals); `fmax` is not empty.
fn fastest(fmax: &[f64]) -> usize {
    let mut best = 0;
    for (i, f) in fmax.iter().enumerate() {
        if *f > fmax[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::fastest;

    #[test]
    fn the_fastest_placement_is_kept() {
        assert_eq!(fastest(&[110.2]), 0);
        assert_eq!(fastest(&[104.9, 112.0, 108.3]), 1);
        assert_eq!(fastest(&[95.9, 95.9, 90.0]), 0);
        assert_eq!(fastest(&[90.0, 95.9, 95.9]), 1);
    }
}
