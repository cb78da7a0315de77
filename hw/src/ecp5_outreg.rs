//! The ECP5 block RAMs' output registers, used where the design has them in the fabric: a pass
//! over Yosys's JSON netlist between `synth_ecp5` and nextpnr.
//!
//! Yosys 0.23 maps every block RAM read to a DP16KD without its output register (`NOREG`),
//! whose read then takes 5.83 ns from the clock to its data pins on a speed-6 LFE5U-85F; with
//! the output register (`OUTREG`) nextpnr times it at 0.97 ns. Where the library registers a
//! block RAM's read as it leaves the block RAM with nothing between (the ECP5 weight ROMs'
//! banks, `sqf_bank_pick`; a weight ROM's word into a MAC lane's operand register,
//! `sqf_mul_ecp5`), that register is the output register's twin: same clock, always enabled,
//! no reset, starting at 0. [`pack_bram_output_registers`] moves each such register into the
//! block RAM, so the latency and every value are unchanged; a read port is taken whole or not
//! at all. The Verilog stays the one source of the behaviour, as Vivado would do the same
//! packing on its own.
//!
//! A port qualifies when each of its data bits that anything reads drives exactly one
//! flip-flop (`TRELLIS_FF`, at its data input) and nothing else, and every such flip-flop is
//! clocked by the port's clock (not inverted), has no clock enable, starts at 0 and has no
//! reset, or all of them the same synchronous reset to 0 (the line buffers' padding,
//! `sqf_conv_ctrl`'s `LB_REG`), which becomes the port's reset (`RESETMODE` `SYNC`); and the
//! block RAM's own resets are tied to 0. A 36-bit read (Yosys's pseudo-dual-port map:
//! the data on both ports' pins) is one port, whose two clocks must be the same net, or, for a
//! ROM, whose write port has no clock and cannot write (its clock enable or its four byte
//! enables tied to 0): that port then takes the read clock. Both of its `REGMODE`s become
//! `OUTREG` and both output clock enables 1, as nextpnr sets them for a PDPW16KD, so its output
//! registers are clocked and enabled whichever port's controls the silicon uses for each half.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::HwError;

/// What [`pack_bram_output_registers`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutregPacking {
    /// Block RAM read ports that now use their output register.
    pub ports: usize,
    /// Fabric flip-flops moved into them (and removed from the netlist).
    pub flip_flops: usize,
    /// Block RAM read ports left without it (a data bit into logic, a flip-flop with an
    /// enable, ...).
    pub ports_left: usize,
}

/// A net bit of Yosys's JSON: a number, or a constant ("0", "1", "x", "z").
fn bit(v: &Value) -> Option<u64> {
    v.as_u64()
}

/// A read port to pack: the DP16KD, its ports' letters, (data pin, flip-flop) pairs and the
/// read clock's net and the registers' synchronous reset net.
type Pack = (String, Vec<char>, Vec<(String, String)>, u64, Option<u64>);

/// Whether flip-flop `f`'s reset is the one its port's others have (`seen`, set by the first):
/// none (its LSR tied to 0 or absent), or a synchronous reset from the same net, which the
/// block RAM's output register can take only when its own ports' resets are tied to 0
/// (`quiet`).
fn same_reset(f: &Value, seen: &mut Option<Value>, quiet: bool) -> bool {
    let r = match conn(f, "LSR") {
        None => Value::from("0"),
        Some(v) => v.clone(),
    };
    if bit(&r).is_some() && (!quiet || param(f, "SRMODE").unwrap_or("LSR_OVER_CE") != "LSR_OVER_CE")
    {
        return false;
    }
    if r.as_str().is_some_and(|c| c != "0") {
        return false;
    }
    match seen {
        None => {
            *seen = Some(r);
            true
        }
        Some(s) => *s == r,
    }
}

/// A Yosys JSON parameter as a string: string parameters that look like binary numbers carry
/// a trailing space, which is not part of the value.
fn param<'a>(cell: &'a Value, name: &str) -> Option<&'a str> {
    cell["parameters"][name].as_str().map(|s| s.trim_end())
}

/// A numeric parameter (Yosys writes integers as binary strings).
fn param_int(cell: &Value, name: &str) -> Option<u64> {
    param(cell, name).and_then(|s| u64::from_str_radix(s, 2).ok())
}

/// The single bit connected to `port` of `cell` (a net number), or its constant.
fn conn<'a>(cell: &'a Value, port: &str) -> Option<&'a Value> {
    cell["connections"][port].as_array().and_then(|a| a.first())
}

fn is_const(cell: &Value, port: &str, c: &str) -> bool {
    conn(cell, port).is_some_and(|v| v.as_str() == Some(c))
}

/// Moves every fabric register that is a block RAM read's output register's twin into the
/// block RAM (module documentation). `netlist` is Yosys's `write_json` output with the design
/// flattened (its top module marked `top`).
pub fn pack_bram_output_registers(netlist: &mut Value) -> Result<OutregPacking, HwError> {
    let modules = netlist["modules"]
        .as_object_mut()
        .ok_or_else(|| HwError::Tool("netlist JSON has no modules".into()))?;
    let top = modules
        .iter()
        .find(|(_, m)| {
            m["attributes"]["top"]
                .as_str()
                .is_some_and(|t| t.trim_end().trim_start_matches('0') == "1")
        })
        .map(|(n, _)| n.clone())
        .ok_or_else(|| HwError::Tool("netlist JSON has no top module".into()))?;
    let module = modules.get_mut(&top).expect("found above");
    let mut report = OutregPacking::default();

    // Every net bit's readers (cell, port) and the bits on the module's ports.
    let mut readers: HashMap<u64, Vec<(String, String)>> = HashMap::new();
    let cells = module["cells"]
        .as_object()
        .ok_or_else(|| HwError::Tool(format!("netlist module {top} has no cells")))?;
    for (name, c) in cells {
        let Some(conns) = c["connections"].as_object() else {
            continue;
        };
        for (p, bits) in conns {
            if c["port_directions"][p] == "input" {
                for b in bits.as_array().into_iter().flatten().filter_map(bit) {
                    readers
                        .entry(b)
                        .or_default()
                        .push((name.clone(), p.clone()));
                }
            }
        }
    }
    let mut on_ports: std::collections::HashSet<u64> = Default::default();
    for (_, p) in module["ports"].as_object().into_iter().flatten() {
        on_ports.extend(p["bits"].as_array().into_iter().flatten().filter_map(bit));
    }

    // Each qualifying read port: the DP16KD, its ports' letters and (data pin, flip-flop).
    let mut packs: Vec<Pack> = Vec::new();
    let mut rams: Vec<&String> = cells
        .iter()
        .filter(|(_, c)| c["type"] == "DP16KD")
        .map(|(n, _)| n)
        .collect();
    rams.sort();
    for ram in rams {
        let c = &cells[ram];
        let pdp =
            param_int(c, "DATA_WIDTH_A") == Some(36) || param_int(c, "DATA_WIDTH_B") == Some(36);
        let groups: Vec<Vec<char>> = if pdp {
            vec![vec!['A', 'B']]
        } else {
            vec![vec!['A'], vec!['B']]
        };
        for g in groups {
            // The data pins something reads, with their readers.
            let pins: Vec<(String, u64)> = g
                .iter()
                .flat_map(|l| (0..18).map(move |i| format!("DO{l}{i}")))
                .filter_map(|p| conn(c, &p).and_then(bit).map(|b| (p, b)))
                .filter(|(_, b)| readers.contains_key(b) || on_ports.contains(b))
                .collect();
            if pins.is_empty() {
                continue; // a write port, or a read nothing uses
            }
            // The read clock: port B's in a 36-bit read (port A is its write port).
            let clock = conn(c, &format!("CLK{}", g[g.len() - 1])).and_then(bit);
            // A 36-bit ROM's write port has no clock; it may take the read clock when it
            // cannot write (clock enable or all four byte enables tied to 0).
            let rom_a = pdp
                && conn(c, "CLKA").is_some_and(|v| v.as_str().is_some())
                && (is_const(c, "CEA", "0")
                    || (0..4).all(|i| is_const(c, &format!("ADA{i}"), "0")));
            let port_ok = g.iter().all(|l| {
                param(c, &format!("REGMODE_{l}")).unwrap_or("NOREG") == "NOREG"
                    && param(c, &format!("CLK{l}MUX")).unwrap_or(&format!("CLK{l}"))
                        == format!("CLK{l}")
                    && (conn(c, &format!("CLK{l}")).and_then(bit) == clock || (*l == 'A' && rom_a))
                    && is_const(c, &format!("RST{l}"), "0")
            }) && clock.is_some();
            // Every port's reset is tied to 0 (a reset taken over below sets RESETMODE, which
            // is the whole block RAM's).
            let quiet = ['A', 'B']
                .iter()
                .all(|l| is_const(c, &format!("RST{l}"), "0"));
            // The flip-flops' synchronous reset: none ("0"), or one net for all of them.
            let mut lsr: Option<Value> = None;
            let mut ffs = Vec::new();
            let all_ok = port_ok
                && pins.iter().all(|(p, b)| {
                    if on_ports.contains(b) {
                        return false;
                    }
                    let r = &readers[b];
                    let [(ff, pin)] = r.as_slice() else {
                        return false;
                    };
                    let f = &cells[ff];
                    let ok = f["type"] == "TRELLIS_FF"
                        && pin == "DI"
                        && conn(f, "CLK").and_then(bit) == clock
                        && param(f, "CLKMUX").unwrap_or("CLK") == "CLK"
                        && (param(f, "CEMUX") == Some("1")
                            || (param(f, "CEMUX").unwrap_or("CE") == "CE"
                                && is_const(f, "CE", "1")))
                        && param(f, "LSRMUX").unwrap_or("LSR") == "LSR"
                        && same_reset(f, &mut lsr, quiet)
                        && param(f, "REGSET").unwrap_or("RESET") == "RESET"
                        && conn(f, "Q").and_then(bit).is_some();
                    if ok {
                        ffs.push((p.clone(), ff.clone()));
                    }
                    ok
                });
            if all_ok {
                let reset = lsr.and_then(|v| bit(&v));
                packs.push((ram.clone(), g, ffs, clock.expect("checked"), reset));
            } else {
                report.ports_left += 1;
            }
        }
    }

    // Apply: the data pin takes the flip-flop's output net; the flip-flop goes.
    let mut alias: BTreeMap<u64, u64> = BTreeMap::new();
    let cells = module["cells"].as_object_mut().expect("checked above");
    for (ram, letters, ffs, clock, reset) in packs {
        let mut qs = Vec::new();
        for (pin, ff) in &ffs {
            let f = cells.remove(ff).expect("a flip-flop is packed once");
            qs.push((pin.clone(), conn(&f, "Q").and_then(bit).expect("checked")));
        }
        let c = cells.get_mut(&ram).expect("a DP16KD");
        for (pin, q) in qs {
            if let Some(old) = conn(c, &pin).and_then(bit) {
                alias.insert(old, q);
            }
            c["connections"][&pin] = Value::from(vec![q]);
        }
        for l in letters {
            c["parameters"][format!("REGMODE_{l}")] = Value::from("OUTREG");
            c["connections"][format!("OCE{l}")] = Value::from(vec!["1"]);
            c["connections"][format!("CLK{l}")] = Value::from(vec![clock]);
            if let Some(r) = reset {
                c["connections"][format!("RST{l}")] = Value::from(vec![r]);
            }
        }
        if reset.is_some() {
            c["parameters"]["RESETMODE"] = Value::from("SYNC");
            c["parameters"]["ASYNC_RESET_RELEASE"] = Value::from("SYNC");
        }
        report.ports += 1;
        report.flip_flops += ffs.len();
    }
    // Names of the old data nets now name the registers' outputs (the same values).
    for (_, n) in module["netnames"].as_object_mut().into_iter().flatten() {
        for b in n["bits"].as_array_mut().into_iter().flatten() {
            if let Some(q) = bit(b).and_then(|x| alias.get(&x)) {
                *b = Value::from(*q);
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A top module with one DP16KD (widths `wa`, `wb`) whose DOB0 and DOB1 (and, 36 bits
    /// wide, DOA0) are nets 10, 11, 12, each into a flip-flop `f<net>` (outputs 20, 21, 22) on
    /// clock net 2; `tweak` edits the cells before the pass.
    fn design(wa: u32, wb: u32, tweak: impl FnOnce(&mut Value)) -> Value {
        let ff = |d: u64, q: u64| {
            json!({"type": "TRELLIS_FF",
                   "parameters": {"CEMUX": "1 ", "CLKMUX": "CLK", "GSR": "DISABLED",
                                  "LSRMUX": "LSR", "REGSET": "RESET"},
                   "port_directions": {"CLK": "input", "DI": "input", "LSR": "input",
                                       "Q": "output"},
                   "connections": {"CLK": [2], "DI": [d], "LSR": ["0"], "Q": [q]}})
        };
        let mut v = json!({"modules": {"top": {
            "attributes": {"top": "00000000000000000000000000000001"},
            "ports": {"clk": {"direction": "input", "bits": [2]},
                      "q": {"direction": "output", "bits": [20, 21, 22]}},
            "cells": {
                "ram": {"type": "DP16KD",
                        "parameters": {"DATA_WIDTH_A": format!("{wa:032b}"),
                                       "DATA_WIDTH_B": format!("{wb:032b}"),
                                       "REGMODE_A": "NOREG", "REGMODE_B": "NOREG",
                                       "CLKAMUX": "CLKA", "CLKBMUX": "CLKB"},
                        "port_directions": {"CLKA": "input", "CLKB": "input", "RSTA": "input",
                                            "RSTB": "input", "OCEA": "input", "OCEB": "input",
                                            "DOA0": "output", "DOB0": "output",
                                            "DOB1": "output"},
                        "connections": {"CLKA": [2], "CLKB": [2], "RSTA": ["0"], "RSTB": ["0"],
                                        "OCEA": ["0"], "OCEB": ["1"], "DOA0": [12],
                                        "DOB0": [10], "DOB1": [11]}},
                "f10": ff(10, 20), "f11": ff(11, 21), "f12": ff(12, 22)},
            "netnames": {"rd": {"bits": [10, 11, 12]}}}}});
        tweak(&mut v["modules"]["top"]["cells"]);
        v
    }

    #[test]
    fn a_read_into_registers_takes_the_output_register() {
        let mut v = design(18, 18, |c| {
            c.as_object_mut().unwrap().remove("f12");
        });
        let r = pack_bram_output_registers(&mut v).unwrap();
        assert_eq!(
            r,
            OutregPacking {
                ports: 1,
                flip_flops: 2,
                ports_left: 0
            }
        );
        let m = &v["modules"]["top"];
        let ram = &m["cells"]["ram"];
        assert_eq!(ram["parameters"]["REGMODE_B"], "OUTREG");
        assert_eq!(ram["parameters"]["REGMODE_A"], "NOREG");
        assert_eq!(ram["connections"]["DOB0"], json!([20]));
        assert_eq!(ram["connections"]["DOB1"], json!([21]));
        assert!(m["cells"].get("f10").is_none() && m["cells"].get("f11").is_none());
        assert_eq!(m["netnames"]["rd"]["bits"], json!([20, 21, 12]));
    }

    #[test]
    fn a_36_bit_read_is_one_port_with_both_registers() {
        let mut v = design(36, 36, |_| {});
        let r = pack_bram_output_registers(&mut v).unwrap();
        assert_eq!((r.ports, r.flip_flops, r.ports_left), (1, 3, 0));
        let ram = &v["modules"]["top"]["cells"]["ram"];
        assert_eq!(ram["parameters"]["REGMODE_A"], "OUTREG");
        assert_eq!(ram["parameters"]["REGMODE_B"], "OUTREG");
        assert_eq!(ram["connections"]["OCEA"], json!(["1"]));
        assert_eq!(ram["connections"]["DOA0"], json!([22]));
    }

    #[test]
    fn a_shared_synchronous_reset_becomes_the_ports_reset() {
        let reset = |c: &mut Value| {
            for f in ["f10", "f11", "f12"] {
                c[f]["connections"]["LSR"] = json!([3]);
                c[f]["parameters"]["SRMODE"] = json!("LSR_OVER_CE");
            }
        };
        let mut v = design(36, 36, reset);
        let r = pack_bram_output_registers(&mut v).unwrap();
        assert_eq!((r.ports, r.flip_flops, r.ports_left), (1, 3, 0));
        let ram = &v["modules"]["top"]["cells"]["ram"];
        assert_eq!(ram["connections"]["RSTA"], json!([3]));
        assert_eq!(ram["connections"]["RSTB"], json!([3]));
        assert_eq!(ram["parameters"]["RESETMODE"], "SYNC");
        // An asynchronous reset is not the output register's.
        let mut v = design(36, 36, |c| {
            reset(c);
            c["f11"]["parameters"]["SRMODE"] = json!("ASYNC");
        });
        let r = pack_bram_output_registers(&mut v).unwrap();
        assert_eq!((r.ports, r.ports_left), (0, 1));
    }

    #[test]
    fn a_36_bit_rom_takes_the_read_clock_on_its_idle_write_port() {
        let rom = |cea: Value| {
            move |c: &mut Value| {
                c["ram"]["connections"]["CLKA"] = json!(["0"]);
                c["ram"]["connections"]["CEA"] = json!([cea]);
                for i in 0..4 {
                    c["ram"]["connections"][format!("ADA{i}")] = json!(["0"]);
                }
            }
        };
        let mut v = design(36, 36, rom(json!("0")));
        let r = pack_bram_output_registers(&mut v).unwrap();
        assert_eq!((r.ports, r.flip_flops, r.ports_left), (1, 3, 0));
        let ram = &v["modules"]["top"]["cells"]["ram"];
        assert_eq!(ram["connections"]["CLKA"], json!([2]));
        assert_eq!(ram["parameters"]["REGMODE_A"], "OUTREG");
        // A write port that could write (byte enables from logic) keeps its own clock.
        let mut v = design(36, 36, |c| {
            rom(json!(5))(c);
            c["ram"]["connections"]["ADA0"] = json!([5]);
        });
        let r = pack_bram_output_registers(&mut v).unwrap();
        assert_eq!((r.ports, r.ports_left), (0, 1));
        assert_eq!(
            v["modules"]["top"]["cells"]["ram"]["connections"]["CLKA"],
            json!(["0"])
        );
    }

    #[test]
    fn a_port_is_left_whole_when_any_bit_does_not_qualify() {
        // Each case spoils one bit of the 36-bit read; nothing may change.
        type Tweak = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(&str, Tweak)> = vec![
            (
                "second reader",
                Box::new(|c| {
                    c["lut"] = json!({"type": "LUT4", "port_directions": {"A": "input"},
                                      "connections": {"A": [10]}})
                }),
            ),
            (
                "enable",
                Box::new(|c| c["f10"]["parameters"]["CEMUX"] = json!("CE")),
            ),
            (
                "reset",
                Box::new(|c| c["f10"]["connections"]["LSR"] = json!([3])),
            ),
            (
                "starts at 1",
                Box::new(|c| c["f12"]["parameters"]["REGSET"] = json!("SET")),
            ),
            (
                "other clock",
                Box::new(|c| c["f11"]["connections"]["CLK"] = json!([3])),
            ),
            (
                "inverted clock",
                Box::new(|c| c["f11"]["parameters"]["CLKMUX"] = json!("INV")),
            ),
            (
                "two clocks",
                Box::new(|c| c["ram"]["connections"]["CLKA"] = json!([3])),
            ),
            (
                "port reset",
                Box::new(|c| c["ram"]["connections"]["RSTB"] = json!([3])),
            ),
            ("into logic", Box::new(|c| c["f12"]["type"] = json!("LUT4"))),
        ];
        for (what, tweak) in cases {
            let mut v = design(36, 36, |c| tweak(c));
            let before = v.clone();
            let r = pack_bram_output_registers(&mut v).unwrap();
            assert_eq!((r.ports, r.flip_flops, r.ports_left), (0, 0, 1), "{what}");
            assert_eq!(v, before, "{what}");
        }
    }

    #[test]
    fn a_netlist_without_a_top_module_is_an_error() {
        let mut v = json!({"modules": {"m": {"cells": {}}}});
        let e = pack_bram_output_registers(&mut v).unwrap_err().to_string();
        assert!(e.contains("no top module"), "{e}");
        let mut v = json!({"creator": "x"});
        assert!(pack_bram_output_registers(&mut v).is_err());
    }
}
