//! The top level's two new blocks, each Rust model against its Verilog module in Verilator,
//! cycle by cycle under random stimulus: the frame guard (`sqf_frame_guard`) and the weight
//! stream loader (`sqf_axis_weights`). Every output is compared every cycle.

use rust_hdl::prelude::*;
use squeezeflow_hw::blocks::{FrameGuard, WeightStream};
use squeezeflow_hw::bundle::write_block;
use squeezeflow_hw::harness::settle;
use squeezeflow_hw::load::LoadMemory;
use squeezeflow_model::float::SplitMix64;
use squeezeflow_tests::{lint_all, scratch, verilate};

fn edge<B: Block>(b: &mut B, clock: impl Fn(&mut B) -> &mut Signal<In, Clock>) {
    clock(b).next = true.into();
    settle(b);
    clock(b).next = false.into();
    settle(b);
}

#[test]
fn frame_guard_model_equals_its_module_under_random_framing() {
    const PIXELS: usize = 7;
    let mut g = FrameGuard::new(3, PIXELS);
    let design = write_block(&mut g, &scratch("ip_frame_guard")).unwrap();
    lint_all(&design);
    let model = verilate(&design);
    let mut v = model.instance();
    let p = |n: &str| model.port(n).unwrap();
    let (clk, rst, en, done) = (p("clock"), p("reset"), p("enable"), p("done"));
    let sd: Vec<usize> = (0..3).map(|l| p(&format!("s_axis$tdata${l}"))).collect();
    let md: Vec<usize> = (0..3).map(|l| p(&format!("m_axis$tdata${l}"))).collect();
    let (sv, sl, sr) = (p("s_axis$tvalid"), p("s_axis$tlast"), p("s_axis$tready"));
    let (mv, ml, mr) = (p("m_axis$tvalid"), p("m_axis$tlast"), p("m_axis$tready"));
    let (bad, error, errors) = (p("bad"), p("error"), p("errors"));

    let mut rng = SplitMix64::new(7);
    let (mut seen_pad, mut seen_drop, mut seen_refuse, mut max_errors) = (false, false, false, 0);
    for cycle in 0..40_000u64 {
        let r = cycle < 3 || rng.uniform() < 0.0005;
        let enable = rng.uniform() < 0.9;
        let valid = rng.uniform() < 0.7;
        // tlast on about one beat in PIXELS, so frames come short, whole and long.
        let last = rng.uniform() < 1.0 / PIXELS as f64;
        let ready = rng.uniform() < 0.7;
        let d = rng.next_u64();
        let done_in = rng.uniform() < 0.05;
        // rust-hdl
        g.reset.next = r;
        g.enable.next = enable;
        g.s_axis.tvalid.next = valid;
        g.s_axis.tlast.next = last;
        for (l, s) in g.s_axis.tdata.iter_mut().enumerate() {
            s.next = ((d >> (8 * l)) & 0xff).into();
        }
        g.m_axis.tready.next = ready;
        g.done.next = done_in;
        settle(&mut g);
        // Verilator
        v.set(rst, r as u64);
        v.set(en, enable as u64);
        v.set(sv, valid as u64);
        v.set(sl, last as u64);
        for (l, &port) in sd.iter().enumerate() {
            v.set(port, (d >> (8 * l)) & 0xff);
        }
        v.set(mr, ready as u64);
        v.set(done, done_in as u64);
        v.eval();
        let hdl = (
            g.s_axis.tready.val(),
            g.m_axis.tvalid.val(),
            g.m_axis.tvalid.val() && g.m_axis.tlast.val(),
            g.bad.val(),
            g.error.val(),
            g.errors.val().to_u64(),
        );
        let ver = (
            v.get(sr) != 0,
            v.get(mv) != 0,
            v.get(mv) != 0 && v.get(ml) != 0,
            v.get(bad) != 0,
            v.get(error) != 0,
            v.get(errors),
        );
        // From the first edge on (registers start unknown in Verilog).
        if cycle > 0 {
            assert_eq!(
                hdl, ver,
                "cycle {cycle}: (s_tready, m_tvalid, m_tlast, bad, error, errors)"
            );
        }
        if hdl.1 {
            let a: Vec<u64> = g.m_axis.tdata.iter().map(|s| s.val().to_u64()).collect();
            let b: Vec<u64> = md.iter().map(|&p| v.get(p)).collect();
            assert_eq!(a, b, "cycle {cycle}: m_tdata");
            // A padded beat is zero while the input is not taken.
            seen_pad |= !hdl.0 && a.iter().all(|&x| x == 0) && d & 0xff_ffff != 0;
        }
        seen_drop |= hdl.0 && !hdl.1 && valid && enable;
        seen_refuse |= hdl.0 && !hdl.1 && !enable;
        max_errors = max_errors.max(hdl.5);
        edge(&mut g, |g| &mut g.clock);
        v.tick(clk);
    }
    assert!(
        seen_pad && seen_drop && seen_refuse,
        "the stimulus reached every state"
    );
    assert!(max_errors > 100, "errors were counted ({max_errors})");
}

#[test]
fn weight_loader_model_equals_its_module_under_random_packets() {
    let mems: Vec<LoadMemory> = [3usize, 1, 5]
        .iter()
        .enumerate()
        .map(|(i, &depth)| LoadMemory {
            sel: i as u16,
            file: format!("m{i}.mem"),
            width: 64,
            depth,
        })
        .collect();
    let mut w = WeightStream::new(&mems);
    let dir = scratch("ip_weight_stream");
    let design = write_block(&mut w, &dir).unwrap();
    lint_all(&design);
    let model = verilate(&design);
    let mut v = model.instance();
    let p = |n: &str| model.port(n).unwrap();
    let (clk, rst) = (p("clock"), p("reset"));
    let (sd, sv, sl, sr) = (p("s_tdata"), p("s_tvalid"), p("s_tlast"), p("s_tready"));
    let outs = [
        p("wl_valid"),
        p("wl_sel"),
        p("wl_addr"),
        p("wl_data"),
        p("complete"),
        p("error"),
    ];

    let mut rng = SplitMix64::new(11);
    let (mut completes, mut errors, mut words) = (0, 0, 0u64);
    let mut was = (false, false);
    let mut count = 0u64;
    // Packets of 9 words (whole) or a random length, tlast on their last word.
    let mut len = 9u64;
    for cycle in 0..30_000u64 {
        let r = cycle < 3 || rng.uniform() < 0.0003;
        let valid = rng.uniform() < 0.7;
        let last = count + 1 == len;
        let d = rng.next_u64();
        w.reset.next = r;
        w.s_tvalid.next = valid;
        w.s_tlast.next = last;
        w.s_tdata.next = d.into();
        settle(&mut w);
        v.set(rst, r as u64);
        v.set(sv, valid as u64);
        v.set(sl, last as u64);
        v.set(sd, d);
        v.eval();
        let hdl = [
            w.wl_valid.val() as u64,
            w.wl_sel.val().to_u64(),
            w.wl_addr.val().to_u64(),
            w.wl_data.val().to_u64(),
            w.complete.val() as u64,
            w.error.val() as u64,
        ];
        let ver: Vec<u64> = outs.iter().map(|&o| v.get(o)).collect();
        // wl_sel/addr/data only mean something with wl_valid.
        if hdl[0] == 1 || ver[0] == 1 {
            assert_eq!(
                hdl[..4],
                ver[..4],
                "cycle {cycle}: wl_valid, wl_sel, wl_addr, wl_data"
            );
            words += 1;
        }
        if cycle > 0 {
            assert_eq!(hdl[4..], ver[4..], "cycle {cycle}: complete, error");
            assert_eq!(w.s_tready.val(), v.get(sr) != 0, "cycle {cycle}: s_tready");
        }
        let now = (hdl[4] == 1, hdl[5] == 1);
        completes += (now.0 && !was.0) as u32;
        errors += (now.1 && !was.1) as u32;
        was = now;
        let fire = valid && w.s_tready.val() && !r;
        edge(&mut w, |w| &mut w.clock);
        v.tick(clk);
        if r {
            count = 0;
        } else if fire {
            count += 1;
            if last {
                count = 0;
                len = if rng.uniform() < 0.6 {
                    9
                } else {
                    1 + rng.next_u64() % 14
                };
            }
        }
    }
    assert!(
        completes > 10 && errors > 0 && words > 1000,
        "{completes} loads, {errors} errors, {words} words"
    );
}
