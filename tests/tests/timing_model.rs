//! scripts/depth.py and its delay model (scripts/delay_model.py) on hand-built Yosys netlists:
//! the cell counts and nanoseconds expected here are worked out by hand from the delays the
//! model's documentation cites: a routing hop of fan-out 1 costs 0.645 ns and of fan-out 2-9
//! 0.824 on Artix-7, any hop 0.87 on ECP5; Artix-7 cells: flip-flop 0.36 out and 0.11 setup,
//! LUT 0.13, CARRY4 0.55 in, 0.117 along and 0.21 more out of its sum, DSP48E1 2.305 from
//! MREG, 3.288 into it, 5.2 through an unregistered multiplier; ECP5: flip-flop 0.52, LUT4 0.24.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};
use squeezeflow_tests::scratch;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A cell of a Yosys JSON netlist: `ins` and `outs` are (port, net bit) pairs.
fn cell(ty: &str, params: Value, ins: &[(&str, u64)], outs: &[(&str, u64)]) -> Value {
    let mut conn = serde_json::Map::new();
    let mut dirs = serde_json::Map::new();
    for (p, b) in ins {
        conn.insert(p.to_string(), json!([b]));
        dirs.insert(p.to_string(), json!("input"));
    }
    for (p, b) in outs {
        conn.insert(p.to_string(), json!([b]));
        dirs.insert(p.to_string(), json!("output"));
    }
    json!({"type": ty, "parameters": params, "connections": conn, "port_directions": dirs})
}

/// Runs depth.py on a netlist of `cells` and returns its output.
fn depth(name: &str, family: &str, cells: Vec<(&str, Value)>) -> String {
    let dir = scratch(&format!("timing_model_{name}"));
    let mut m = serde_json::Map::new();
    for (n, c) in cells {
        m.insert(n.to_string(), c);
    }
    let net = json!({"modules": {"top": {"attributes": {"top": 1}, "cells": m, "netnames": {}}}});
    let file = dir.join("net.json");
    std::fs::write(&file, net.to_string()).unwrap();
    let out = Command::new("python3")
        .arg(root().join("scripts/depth.py"))
        .args(["--family", family])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "depth.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The model's nanoseconds (`model FAMILY: X ns, Y MHz`).
fn model_ns(out: &str) -> f64 {
    let line = out
        .lines()
        .find(|l| l.starts_with("model "))
        .expect("a model line");
    line.split_whitespace().nth(2).unwrap().parse().unwrap()
}

fn ff(d: u64, q: u64) -> Value {
    cell(
        "FDRE",
        json!({}),
        &[("C", 1), ("D", d), ("CE", 2)],
        &[("Q", q)],
    )
}

#[test]
fn two_luts_between_flip_flops() {
    // FF -> LUT -> LUT -> FF: 0.36 + 3 hops + 2 LUTs + setup; the first net has 3 loads.
    let out = depth(
        "luts",
        "xc7",
        vec![
            ("a", ff(10, 11)),
            (
                "l1",
                cell("LUT2", json!({}), &[("I0", 11), ("I1", 11)], &[("O", 12)]),
            ),
            (
                "l2",
                cell("LUT2", json!({}), &[("I0", 12), ("I1", 11)], &[("O", 13)]),
            ),
            ("b", ff(13, 10)),
        ],
    );
    assert!(out.starts_with("2 cells"), "{out}");
    let want = 0.36 + 0.824 + 2.0 * 0.645 + 2.0 * 0.13 + 0.11;
    assert!(
        (model_ns(&out) - want).abs() < 0.006,
        "{out} (want {want:.2})"
    );
}

#[test]
fn a_carry_chain_costs_one_hop_in_and_one_out() {
    // FF -> LUT -> CARRY4 -> CARRY4 (sum out) -> FF: the LUT feeds its own slice's carry and the
    // chain runs inside the slices, so only the hops into the LUT and out of the chain count.
    let out = depth(
        "carry",
        "xc7",
        vec![
            ("a", ff(10, 11)),
            (
                "l",
                cell("LUT2", json!({}), &[("I0", 11), ("I1", 11)], &[("O", 12)]),
            ),
            ("c0", cell("CARRY4", json!({}), &[("S", 12)], &[("CO", 13)])),
            ("c1", cell("CARRY4", json!({}), &[("CI", 13)], &[("O", 14)])),
            ("b", ff(14, 10)),
        ],
    );
    let want = 0.36 + 0.824 + 0.13 + 0.55 + (0.117 + 0.21) + 0.645 + 0.11;
    assert!(
        (model_ns(&out) - want).abs() < 0.006,
        "{out} (want {want:.2})"
    );
}

#[test]
fn a_dsp_without_its_registers_is_on_the_path() {
    // FF -> DSP48E1 (no register at all) -> FF: the multiplier's 5.2 ns is in the path; with
    // MREG set the path starts at the DSP (2.305 from MREG) and the FF before it ends one.
    let dsp = |mreg: u64| {
        cell(
            "DSP48E1",
            json!({"AREG": 0, "BREG": 0, "MREG": mreg, "PREG": 0}),
            &[("A", 11), ("B", 11)],
            &[("P", 12)],
        )
    };
    let plain = depth(
        "dsp0",
        "xc7",
        vec![("a", ff(10, 11)), ("m", dsp(0)), ("b", ff(12, 10))],
    );
    let want = 0.36 + 0.824 + 5.2 + 0.645 + 0.11;
    assert!(
        (model_ns(&plain) - want).abs() < 0.006,
        "{plain} (want {want:.2})"
    );
    let mreg = depth(
        "dsp1",
        "xc7",
        vec![("a", ff(10, 11)), ("m", dsp(1)), ("b", ff(12, 10))],
    );
    let want = 0.36 + 0.824 + 3.288; // into MREG: longer than 2.305 + 0.645 + 0.11 out of it
    assert!(
        (model_ns(&mreg) - want).abs() < 0.006,
        "{mreg} (want {want:.2})"
    );
}

#[test]
fn ecp5_delays_are_the_ecp5_ones() {
    let out = depth(
        "ecp5",
        "ecp5",
        vec![
            (
                "a",
                cell(
                    "TRELLIS_FF",
                    json!({}),
                    &[("CLK", 1), ("DI", 10)],
                    &[("Q", 11)],
                ),
            ),
            ("l", cell("LUT4", json!({}), &[("A", 11)], &[("Z", 12)])),
            (
                "b",
                cell(
                    "TRELLIS_FF",
                    json!({}),
                    &[("CLK", 1), ("DI", 12)],
                    &[("Q", 10)],
                ),
            ),
        ],
    );
    let want = 0.52 + 2.0 * 0.87 + 0.24;
    assert!(
        (model_ns(&out) - want).abs() < 0.006,
        "{out} (want {want:.2})"
    );
}

#[test]
fn the_widest_fan_out_is_named_without_clock_pins() {
    // One flip-flop drives 40 LUTs; the clock net (bit 1, no driver) reaches every flip-flop.
    let mut cells = vec![("src", ff(10, 11))];
    let names: Vec<String> = (0..40).map(|i| format!("l{i}")).collect();
    for (i, n) in names.iter().enumerate() {
        cells.push((
            n.as_str(),
            cell("LUT1", json!({}), &[("I0", 11)], &[("O", 100 + i as u64)]),
        ));
    }
    let out = depth("fanout", "xc7", cells);
    let line = out
        .lines()
        .find(|l| l.starts_with("fan-out "))
        .expect("a fan-out line");
    assert!(line.starts_with("fan-out 40 from FDRE"), "{out}");
    assert!(line.ends_with("(40 I)"), "{out}");
}
