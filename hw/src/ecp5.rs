//! The open ECP5 flow to a bitstream: a PLL for the design's clock ([`Pll::for_output`] and
//! its Verilog), the board top around a shell ([`build_top`]), nextpnr's critical path
//! ([`CriticalPath`]) and `ecppack` ([`run_ecppack`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::HwError;

/// One EHXPLLL setting with feedback from CLKOP: `f_out = f_in / clki_div * clkfb_div`, the VCO
/// at `f_out * clkop_div`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pll {
    pub f_in_mhz: f64,
    pub clki_div: u32,
    pub clkfb_div: u32,
    pub clkop_div: u32,
}

impl Pll {
    /// The ECP5's EHXPLLL ranges (Lattice TN1263, "sysCLOCK PLL"): the phase detector input
    /// 3.125..400 MHz, the VCO 400..800 MHz, the output 3.125..400 MHz.
    const PFD: (f64, f64) = (3.125, 400.0);
    const VCO: (f64, f64) = (400.0, 800.0);
    const OUT: (f64, f64) = (3.125, 400.0);

    /// The setting whose output is closest to `f_out_mhz` (then the highest VCO, the lower
    /// jitter), or an error naming the range when the PLL cannot make that clock.
    pub fn for_output(f_in_mhz: f64, f_out_mhz: f64) -> Result<Pll, HwError> {
        if !(Self::OUT.0..=Self::OUT.1).contains(&f_out_mhz) || !f_in_mhz.is_finite() {
            return Err(HwError::Shell(format!(
                "an ECP5 PLL makes {}..{} MHz, not {f_out_mhz} MHz",
                Self::OUT.0,
                Self::OUT.1
            )));
        }
        let mut best: Option<(f64, f64, Pll)> = None;
        for clki_div in 1..=128u32 {
            let pfd = f_in_mhz / clki_div as f64;
            if pfd < Self::PFD.0 || pfd > Self::PFD.1 {
                continue;
            }
            for clkfb_div in 1..=80u32 {
                let out = pfd * clkfb_div as f64;
                if !(Self::OUT.0..=Self::OUT.1).contains(&out) {
                    continue;
                }
                for clkop_div in 1..=128u32 {
                    let vco = out * clkop_div as f64;
                    if !(Self::VCO.0..=Self::VCO.1).contains(&vco) {
                        continue;
                    }
                    let err = (out - f_out_mhz).abs();
                    let better = match &best {
                        None => true,
                        Some((e, v, _)) => err < *e - 1e-9 || (err <= *e + 1e-9 && vco > *v),
                    };
                    if better {
                        let p = Pll {
                            f_in_mhz,
                            clki_div,
                            clkfb_div,
                            clkop_div,
                        };
                        best = Some((err, vco, p));
                    }
                }
            }
        }
        best.map(|(_, _, p)| p).ok_or_else(|| {
            HwError::Shell(format!(
                "no ECP5 PLL setting makes {f_out_mhz} MHz from {f_in_mhz} MHz"
            ))
        })
    }

    /// The clock the PLL makes (MHz).
    pub fn f_out_mhz(&self) -> f64 {
        self.f_in_mhz / self.clki_div as f64 * self.clkfb_div as f64
    }

    /// The VCO frequency (MHz).
    pub fn vco_mhz(&self) -> f64 {
        self.f_out_mhz() * self.clkop_div as f64
    }

    /// An EHXPLLL instance `pll` from `clk_in` to `clk_out` with its lock on `locked`.
    fn instance(&self) -> Vec<String> {
        let mut v = vec![
            format!(
                "    // EHXPLLL: {} MHz / {} * {} = {:.4} MHz (VCO {:.1} MHz)",
                self.f_in_mhz,
                self.clki_div,
                self.clkfb_div,
                self.f_out_mhz(),
                self.vco_mhz()
            ),
            format!("    (* FREQUENCY_PIN_CLKI=\"{}\" *)", self.f_in_mhz),
            format!("    (* FREQUENCY_PIN_CLKOP=\"{:.4}\" *)", self.f_out_mhz()),
            "    (* ICP_CURRENT=\"12\" *) (* LPF_RESISTOR=\"8\" *) (* MFG_ENABLE_FILTEROPAMP=\"1\" *) (* MFG_GMCREF_SEL=\"2\" *)".into(),
            "    EHXPLLL #(".into(),
        ];
        let params = [
            ("PLLRST_ENA", "\"DISABLED\"".to_string()),
            ("INTFB_WAKE", "\"DISABLED\"".into()),
            ("STDBY_ENABLE", "\"DISABLED\"".into()),
            ("DPHASE_SOURCE", "\"DISABLED\"".into()),
            ("OUTDIVIDER_MUXA", "\"DIVA\"".into()),
            ("CLKI_DIV", self.clki_div.to_string()),
            ("CLKOP_ENABLE", "\"ENABLED\"".into()),
            ("CLKOP_DIV", self.clkop_div.to_string()),
            // The output's coarse phase at half the divider: 0 degrees.
            ("CLKOP_CPHASE", (self.clkop_div / 2).to_string()),
            ("CLKOP_FPHASE", "0".into()),
            ("FEEDBK_PATH", "\"CLKOP\"".into()),
            ("CLKFB_DIV", self.clkfb_div.to_string()),
        ];
        for (i, (k, val)) in params.iter().enumerate() {
            let sep = if i + 1 < params.len() { "," } else { "" };
            v.push(format!("        .{k}({val}){sep}"));
        }
        v.push("    ) pll (".into());
        for (i, c) in [
            ".RST(1'b0)",
            ".STDBY(1'b0)",
            ".CLKI(clk_in)",
            ".CLKOP(clk_out)",
            ".CLKFB(clk_out)",
            ".PHASESEL0(1'b0)",
            ".PHASESEL1(1'b0)",
            ".PHASEDIR(1'b1)",
            ".PHASESTEP(1'b1)",
            ".PHASELOADREG(1'b1)",
            ".PLLWAKESYNC(1'b0)",
            ".ENCLKOP(1'b0)",
            ".LOCK(locked)",
        ]
        .iter()
        .enumerate()
        {
            let sep = if i < 12 { "," } else { "" };
            v.push(format!("        {c}{sep}"));
        }
        v.push("    );".into());
        v
    }
}

/// The board top of a bitstream build: the board's oscillator `clock` (its pin name in the
/// board's LPF) through `pll` (None: the oscillator runs the shell directly) into the shell's
/// module `shell`; the shell is held in reset while the button is pressed or the PLL is
/// unlocked. The ports keep the names of the board's LPF (`clock`, `reset`, `uart_rx`,
/// `uart_tx`), so that LPF constrains the build unchanged.
pub fn build_top(module: &str, shell: &str, pll: Option<&Pll>) -> String {
    let mut v = vec![
        format!("// {module}: the bitstream's top, written by `squeezeflow build`: the board's"),
        "// oscillator through a PLL (when the bundle's clock is not the oscillator's) into the"
            .into(),
        "// board shell; the shell stays in reset while the button is pressed or the PLL unlocked."
            .into(),
        "`default_nettype none".into(),
        format!("module {module} ("),
        "    input  wire clock,".into(),
        "    input  wire reset,".into(),
        "    input  wire uart_rx,".into(),
        "    output wire uart_tx".into(),
        ");".into(),
    ];
    match pll {
        Some(p) => {
            v.push("    wire clk_in = clock;".into());
            v.push("    wire clk_out, locked;".into());
            v.extend(p.instance());
        }
        None => {
            v.push("    wire clk_out = clock;".into());
            v.push("    wire locked = 1'b1;".into());
        }
    }
    v.extend([
        "    // The reset, synchronised to the shell's clock.".to_string(),
        "    reg [1:0] rst_sync = 2'b11;".into(),
        "    always @(posedge clk_out) rst_sync <= {rst_sync[0], reset || !locked};".into(),
        format!(
            "    {shell} core (.clock(clk_out), .reset(rst_sync[1]), .uart_rx(uart_rx), .uart_tx(uart_tx));"
        ),
        "endmodule".into(),
        "`default_nettype wire".into(),
        String::new(),
    ]);
    v.join("\n")
}

/// The critical path of a routed design as nextpnr reports it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct CriticalPath {
    /// The clock it belongs to.
    pub clock: String,
    /// The cell it starts at (a flip-flop, a block RAM, a multiplier) and the one it ends at.
    pub from: String,
    pub to: String,
    /// Cells passed through, in order (without the routing between them).
    pub through: Vec<String>,
    /// Delay in cells (clock to output, logic, setup) and in routing (ns).
    pub logic_ns: f64,
    pub routing_ns: f64,
}

/// The critical path of the slowest clock in nextpnr's `--report` JSON (None when the report
/// holds none, as for a design without clocked paths).
pub fn critical_path(report: &serde_json::Value) -> Option<CriticalPath> {
    let paths = report.get("critical_paths")?.as_array()?;
    let slowest = paths.iter().max_by(|a, b| {
        let d = |p: &serde_json::Value| -> f64 {
            p.get("path")
                .and_then(|s| s.as_array())
                .map(|s| s.iter().filter_map(|x| x.get("delay")?.as_f64()).sum())
                .unwrap_or(0.0)
        };
        d(a).total_cmp(&d(b))
    })?;
    let steps = slowest.get("path")?.as_array()?;
    let cell = |s: &serde_json::Value, end: &str| -> String {
        s.get(end)
            .and_then(|e| e.get("cell"))
            .and_then(|c| c.as_str())
            .unwrap_or("?")
            .to_string()
    };
    let mut cp = CriticalPath {
        clock: slowest
            .get("to")
            .and_then(|c| c.as_str())
            .unwrap_or("?")
            .to_string(),
        from: cell(steps.first()?, "from"),
        to: cell(steps.last()?, "to"),
        ..Default::default()
    };
    for s in steps {
        let delay = s.get("delay").and_then(|d| d.as_f64()).unwrap_or(0.0);
        if s.get("type").and_then(|t| t.as_str()) == Some("routing") {
            cp.routing_ns += delay;
        } else {
            cp.logic_ns += delay;
            if s.get("type").and_then(|t| t.as_str()) == Some("logic") {
                let c = cell(s, "from");
                if cp.through.last() != Some(&c) {
                    cp.through.push(c);
                }
            }
        }
    }
    Some(cp)
}

/// The endpoints of one block whose signals arrive after the clock period, from nextpnr's
/// detailed timing report.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct LateBlock {
    /// The instance path the endpoints' cells share (`core.net.fire5_squeeze.ctrl`).
    pub block: String,
    /// Endpoints (cell inputs) of the block arriving after the period.
    pub endpoints: usize,
    /// The latest arrival among them (ns after the launching edge).
    pub worst_ns: f64,
}

/// The instance path of a flattened cell name: its dot-separated parts up to the cell's own
/// name (the last part, or the first one Yosys generated, starting with `$`).
fn block_of(cell: &str) -> String {
    let parts: Vec<&str> = cell.split('.').collect();
    let own = parts
        .iter()
        .position(|p| p.starts_with('$'))
        .unwrap_or(parts.len().saturating_sub(1));
    parts[..own].join(".")
}

/// Endpoints whose latest arrival is later than `period_ns`, grouped by block, the worst block
/// first: from the `detailed_net_timings` of nextpnr's `--report` with
/// `--detailed-timing-report` (each sink of each net with its arrival time). nextpnr's log names
/// only the critical path; this is every path that misses the clock. Arrival against the period
/// leaves out setup time and clock skew (the slack histogram has them), so it can count a few
/// endpoints fewer than the histogram.
pub fn late_endpoints(report: &serde_json::Value, period_ns: f64) -> Vec<LateBlock> {
    let mut blocks: std::collections::BTreeMap<String, LateBlock> = Default::default();
    let nets = report
        .get("detailed_net_timings")
        .and_then(|n| n.as_array())
        .map(|n| n.as_slice())
        .unwrap_or(&[]);
    for net in nets {
        let sinks = net.get("endpoints").and_then(|e| e.as_array());
        for e in sinks.map(|e| e.as_slice()).unwrap_or(&[]) {
            let late = e
                .get("delay")
                .and_then(|d| d.as_array())
                .and_then(|d| d.last())
                .and_then(|d| d.as_f64())
                .filter(|&d| d > period_ns);
            let (Some(arrival), Some(cell)) = (late, e.get("cell").and_then(|c| c.as_str())) else {
                continue;
            };
            let block = block_of(cell);
            let b = blocks.entry(block.clone()).or_insert(LateBlock {
                block,
                ..Default::default()
            });
            b.endpoints += 1;
            b.worst_ns = b.worst_ns.max(arrival);
        }
    }
    let mut v: Vec<LateBlock> = blocks.into_values().collect();
    v.sort_by(|a, b| b.worst_ns.total_cmp(&a.worst_ns));
    v
}

/// Finds Project Trellis's `ecppack`: on PATH, as YoWASP's `yowasp-ecppack`, or in the venv of
/// `scripts/setup-ecp5.sh`.
pub fn find_ecppack() -> Option<PathBuf> {
    crate::which("ecppack")
        .or_else(|| crate::which("yowasp-ecppack"))
        .or_else(|| {
            let p = crate::synth::cache_root()
                .join("yowasp")
                .join("bin")
                .join("yowasp-ecppack");
            p.is_file().then_some(p)
        })
}

/// Packs nextpnr's routed text configuration `config` into the compressed bitstream `bit`,
/// both relative to `dir`, where it runs (YoWASP's tools see only their working directory).
pub fn run_ecppack(dir: &Path, config: &str, bit: &str) -> Result<(), HwError> {
    let tool = find_ecppack()
        .ok_or_else(|| HwError::Tool("ecppack was not found; run scripts/setup-ecp5.sh".into()))?;
    let out = Command::new(&tool)
        .current_dir(dir)
        .args(["--compress", "--input", config, "--bit", bit])
        .output()
        .map_err(|e| HwError::Tool(format!("{}: {e}", tool.display())))?;
    if !out.status.success() || !dir.join(bit).is_file() {
        return Err(HwError::Tool(format!(
            "ecppack failed on {}/{config}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PLL's settings against the ranges and what Project Trellis's ecppll prints for the
    /// same request (ecppll -i 25 -o 100: refclk divisor 1, feedback divisor 4, output divisor
    /// 6, VCO 600 MHz; we take the highest VCO, divisor 8).
    #[test]
    fn the_pll_makes_the_clock_within_its_ranges() {
        let p = Pll::for_output(25.0, 100.0).unwrap();
        assert_eq!(p.f_out_mhz(), 100.0);
        assert_eq!((p.clki_div, p.clkfb_div), (1, 4));
        assert!((400.0..=800.0).contains(&p.vco_mhz()));
        // 125 MHz from 25: 5x.
        let p = Pll::for_output(25.0, 125.0).unwrap();
        assert!((p.f_out_mhz() - 125.0).abs() < 1e-9);
        // Not exact: the nearest, as ecppll -i 25 -o 57.4 finds it (7, 16: 57.1429 MHz).
        let p = Pll::for_output(25.0, 57.4).unwrap();
        assert_eq!((p.clki_div, p.clkfb_div), (7, 16), "{p:?}");
        assert!(25.0 / p.clki_div as f64 >= 3.125);
        assert!(Pll::for_output(25.0, 500.0).is_err());
        assert!(Pll::for_output(25.0, 1.0).is_err());
        // The Verilog names every divider.
        let v = build_top("t", "top", Some(&Pll::for_output(25.0, 100.0).unwrap()));
        for s in [".CLKI_DIV(1)", ".CLKFB_DIV(4)", ".CLKOP_DIV(", "top core ("] {
            assert!(v.contains(s), "{s} missing from\n{v}");
        }
        assert!(!build_top("t", "top", None).contains("EHXPLLL"));
    }

    #[test]
    fn the_critical_path_names_its_ends_and_delays() {
        let r: serde_json::Value = serde_json::from_str(
            r#"{"critical_paths": [{"from": "posedge c", "to": "posedge c", "path": [
              {"type": "clk-to-q", "delay": 0.5, "from": {"cell": "a"}, "to": {"cell": "a"}},
              {"type": "routing", "delay": 1.5, "from": {"cell": "a"}, "to": {"cell": "m"}},
              {"type": "logic", "delay": 2.0, "from": {"cell": "m"}, "to": {"cell": "m"}},
              {"type": "routing", "delay": 1.0, "from": {"cell": "m"}, "to": {"cell": "b"}},
              {"type": "setup", "delay": 0.25, "from": {"cell": "b"}, "to": {"cell": "b"}}]}]}"#,
        )
        .unwrap();
        let p = critical_path(&r).unwrap();
        assert_eq!((p.from.as_str(), p.to.as_str()), ("a", "b"));
        assert_eq!(p.through, vec!["m".to_string()]);
        assert_eq!((p.logic_ns, p.routing_ns), (2.75, 2.5));
        assert!(critical_path(&serde_json::json!({})).is_none());
    }

    /// Late endpoints from the detailed timing report's shape (nextpnr's report.cc: each net's
    /// sinks with their arrival, [min, max] ns): grouped by instance path, worst block first;
    /// arrivals within the period and reports without the table give none.
    #[test]
    fn late_endpoints_are_grouped_by_block() {
        let ep = |cell: &str, max: f64| {
            serde_json::json!({"cell": cell, "port": "DI", "event": "posedge clk",
                "delay": [0.5, max]})
        };
        let report = serde_json::json!({"detailed_net_timings": [
            {"net": "a", "driver": "x", "port": "Q", "event": "posedge clk", "endpoints": [
                ep("core.net.conv1.ctrl.wr_addr_TRELLIS_FF_Q", 8.4),
                ep("core.net.conv1.ctrl.$abc$123$auto$blifparse.cc:525$77", 9.1),
                ep("core.net.conv1.ctrl.s_ok_r_TRELLIS_FF_Q", 7.9)]},
            {"net": "b", "driver": "y", "port": "Q", "event": "posedge clk", "endpoints": [
                ep("core.ctl.core.u.errs_TRELLIS_FF_Q_3", 9.3),
                ep("rst_sync", 8.1)]}]});
        let late = late_endpoints(&report, 8.0);
        assert_eq!(
            late,
            vec![
                LateBlock {
                    block: "core.ctl.core.u".into(),
                    endpoints: 1,
                    worst_ns: 9.3
                },
                LateBlock {
                    block: "core.net.conv1.ctrl".into(),
                    endpoints: 2,
                    worst_ns: 9.1
                },
                LateBlock {
                    block: "".into(),
                    endpoints: 1,
                    worst_ns: 8.1
                },
            ]
        );
        assert!(late_endpoints(&report, 10.0).is_empty());
        assert!(late_endpoints(&serde_json::json!({"fmax": {}}), 8.0).is_empty());
    }
}
