//! A whole small network behind its top level, fed good frames interleaved with short and long
//! ones (tlast early, or missing on the last pixel), with random stalls on both streams, in
//! rust-hdl (the core's Rust model) and in Verilator (the bundle's top module): every good
//! frame's logits equal the integer reference, every bad one comes out with tuser high on every
//! logit and with the logits of the frame the engines saw (the short one completed with zero
//! pixels, the long one cut at its last pixel), and the error counter counts them. No reset
//! between frames.

use rust_hdl::prelude::*;
use squeezeflow_hw::folding::{plan, HardwareConfig};
use squeezeflow_hw::harness::{settle, StreamDut};
use squeezeflow_hw::ip::{write_rtl, IpOptions, PixelFormat};
use squeezeflow_hw::network::{core, Core};
use squeezeflow_model::config::{Bypass, Conv1Spec, FireSpec, NetworkConfig};
use squeezeflow_model::float::{synthetic_frame, SplitMix64};
use squeezeflow_model::reference::{run, Path};
use squeezeflow_model::QuantModel;
use squeezeflow_sim::stream::VerilatedTop;
use squeezeflow_tests::{lint_all, scratch, verilate};

pub fn small() -> QuantModel {
    let cfg = NetworkConfig {
        name: "framing".into(),
        input_size: 16,
        num_classes: 6,
        conv1: Conv1Spec {
            channels: 8,
            kernel: 3,
            stride: 2,
        },
        fires: vec![FireSpec {
            squeeze: 4,
            expand1x1: 4,
            expand3x3: 4,
        }],
        pool_after: vec!["conv1".into()],
        bypass: Bypass::Simple,
        meta: None,
        quantization: Default::default(),
    };
    QuantModel::synthetic(&cfg, 5).unwrap()
}

/// The top level as the driver sees it: pixels in, (logit, tlast, tuser) out, the error count.
pub trait TopDut {
    fn drive(&mut self, beat: Option<(&[u8], bool)>, ready: bool);
    fn input_ready(&self) -> bool;
    fn output(&self) -> Option<(u16, bool, bool)>;
    fn tick(&mut self);
    fn errors(&self) -> (bool, u16);
}

impl TopDut for VerilatedTop<'_> {
    fn drive(&mut self, beat: Option<(&[u8], bool)>, ready: bool) {
        self.drive_input(0, beat);
        self.drive_output_ready(ready);
        self.settle();
    }
    fn input_ready(&self) -> bool {
        StreamDut::input_ready(self, 0)
    }
    fn output(&self) -> Option<(u16, bool, bool)> {
        let (b, last) = StreamDut::output(self)?;
        Some((b[0] as u16 | (b[1] as u16) << 8, last, self.output_bad()))
    }
    fn tick(&mut self) {
        StreamDut::tick(self);
    }
    fn errors(&self) -> (bool, u16) {
        let s = self.status();
        (s.frame_error, s.frame_errors)
    }
}

/// The core's Rust model (rust-hdl), stepped directly.
pub struct HdlCore(pub Core);

impl TopDut for HdlCore {
    fn drive(&mut self, beat: Option<(&[u8], bool)>, ready: bool) {
        let c = &mut self.0;
        match beat {
            Some((d, last)) => {
                for (s, &b) in c.s_axis.tdata.iter_mut().zip(d) {
                    s.next = (b as u64).into();
                }
                c.s_axis.tvalid.next = true;
                c.s_axis.tlast.next = last;
            }
            None => {
                c.s_axis.tvalid.next = false;
                c.s_axis.tlast.next = false;
            }
        }
        c.m_axis.tready.next = ready;
        settle(c);
    }
    fn input_ready(&self) -> bool {
        self.0.s_axis.tready.val()
    }
    fn output(&self) -> Option<(u16, bool, bool)> {
        let c = &self.0;
        c.m_axis.tvalid.val().then(|| {
            let lo = c.m_axis.tdata[0].val().to_u64() as u16;
            let hi = c.m_axis.tdata[1].val().to_u64() as u16;
            (lo | hi << 8, c.m_axis.tlast.val(), c.m_axis_tuser.val())
        })
    }
    fn tick(&mut self) {
        let c = &mut self.0;
        c.clock.next = true.into();
        settle(c);
        c.clock.next = false.into();
        settle(c);
    }
    fn errors(&self) -> (bool, u16) {
        (
            self.0.frame_error.val(),
            self.0.frame_errors.val().to_u64() as u16,
        )
    }
}

/// One frame as sent: its pixels (3 bytes each, tlast on the last one sent) and the frame the
/// engines see (`PIXELS` pixels), whether it is bad.
pub struct Sent {
    pub pixels: Vec<u8>,
    pub seen: Vec<u8>,
    pub bad: bool,
}

/// Frames: good ones, and short and long ones among them, at random.
pub fn frames(m: &QuantModel, n: usize, seed: u64) -> Vec<Sent> {
    let shape = m.network.input_shape();
    let len = shape.len();
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|i| {
            let f = synthetic_frame(shape, 1000 + i as u64);
            match (i % 3 != 0).then(|| rng.next_u64() % 2) {
                // Short: tlast on pixel k < N-1; the engines see it completed with zeros.
                Some(0) => {
                    let k = 1 + (rng.next_u64() as usize % (len / 3 - 1));
                    let mut seen = f[..3 * k].to_vec();
                    seen.resize(len, 0);
                    Sent {
                        pixels: f[..3 * k].to_vec(),
                        seen,
                        bad: true,
                    }
                }
                // Long: 1..40 extra pixels; the engines see the first N.
                Some(_) => {
                    let extra = 1 + rng.next_u64() as usize % 40;
                    let mut pixels = f.clone();
                    pixels.extend(rng.bytes(3 * extra));
                    Sent {
                        pixels,
                        seen: f,
                        bad: true,
                    }
                }
                None => Sent {
                    pixels: f.clone(),
                    seen: f,
                    bad: false,
                },
            }
        })
        .collect()
}

/// Streams `frames` with random stalls; returns every output packet's (logits, tuser of each).
pub fn stream<D: TopDut>(
    dut: &mut D,
    frames: &[Sent],
    stall: f64,
    seed: u64,
) -> Vec<(Vec<u16>, Vec<bool>)> {
    let beats: Vec<(&[u8], bool)> = frames
        .iter()
        .flat_map(|f| {
            let n = f.pixels.len() / 3;
            f.pixels
                .chunks(3)
                .enumerate()
                .map(move |(i, p)| (p, i + 1 == n))
        })
        .collect();
    let mut rng = SplitMix64::new(seed);
    let (mut at, mut idle, mut present) = (0usize, 0u64, false);
    let mut packets = Vec::new();
    let (mut logits, mut flags) = (Vec::new(), Vec::new());
    while packets.len() < frames.len() {
        // AXI: a beat once offered stays offered until taken.
        present = at < beats.len() && (present || rng.uniform() >= stall);
        let ready = rng.uniform() >= stall;
        dut.drive(present.then(|| beats[at]), ready);
        let fired = present && dut.input_ready();
        let out = if ready { dut.output() } else { None };
        dut.tick();
        if fired {
            at += 1;
            present = false;
        }
        if let Some((v, last, bad)) = out {
            logits.push(v);
            flags.push(bad);
            if last {
                packets.push((std::mem::take(&mut logits), std::mem::take(&mut flags)));
            }
        }
        idle = if fired || out.is_some() { 0 } else { idle + 1 };
        assert!(
            idle < 100_000,
            "deadlock after {} packets, beat {at}",
            packets.len()
        );
    }
    assert_eq!(at, beats.len(), "every beat was taken");
    packets
}

/// Every packet: the reference logits of the frame the engines saw, tuser as the frame's kind.
pub fn check(m: &QuantModel, frames: &[Sent], packets: &[(Vec<u16>, Vec<bool>)], what: &str) {
    assert_eq!(packets.len(), frames.len(), "{what}: a packet a frame");
    for (i, (f, (logits, flags))) in frames.iter().zip(packets).enumerate() {
        let want = run(m, &f.seen, Path::Fast).unwrap().logits;
        assert_eq!(logits, &want, "{what}: frame {i} (bad: {})", f.bad);
        assert!(
            flags.iter().all(|&b| b == f.bad),
            "{what}: frame {i}: tuser {flags:?}, bad {}",
            f.bad
        );
    }
}

#[test]
fn bad_frames_are_flagged_and_good_ones_stay_exact_in_rust_hdl_and_verilator() {
    let m = small();
    let hw = HardwareConfig {
        mac_budget: Some(12),
        ..Default::default()
    };
    let p = plan(&m.network, &hw).unwrap();
    let sent = frames(&m, 18, 3);
    let bad = sent.iter().filter(|f| f.bad).count();
    assert!(bad >= 8 && bad < sent.len(), "{bad} bad frames");

    let mut c = HdlCore(core(&m, &p).unwrap());
    c.0.connect_all();
    c.0.reset.next = true;
    for _ in 0..3 {
        c.drive(None, false);
        c.tick();
    }
    c.0.reset.next = false;
    let got = stream(&mut c, &sent, 0.3, 9);
    check(&m, &sent, &got, "rust-hdl");
    assert_eq!(
        c.errors(),
        (true, bad as u16),
        "rust-hdl: error flag and count"
    );

    for (fmt, tag) in [
        (PixelFormat::Rgb24, "ip_framing24"),
        (PixelFormat::Rgbx32, "ip_framing32"),
    ] {
        let opt = IpOptions {
            pixel_format: fmt,
            ..Default::default()
        };
        let d = write_rtl(&m, &p, &opt, "0", &scratch(tag)).unwrap().design;
        lint_all(&d);
        let model = verilate(&d);
        let mut v = VerilatedTop::new(&model).unwrap();
        StreamDut::reset(&mut v, 3);
        assert_eq!(v.errors(), (false, 0));
        let got = stream(&mut v, &sent, 0.5, 4);
        check(&m, &sent, &got, &format!("Verilator {fmt:?}"));
        assert_eq!(
            v.errors(),
            (true, bad as u16),
            "Verilator: error flag and count"
        );
    }
}

#[test]
fn frames_before_the_weights_are_refused_and_bad_weight_packets_flagged() {
    let m = small();
    let mut p = plan(&m.network, &HardwareConfig::default()).unwrap();
    p.load_weights.insert("conv10".into());
    p.load_weights.insert("fire2.squeeze".into());
    let dir = scratch("ip_framing_load");
    let r = write_rtl(&m, &p, &IpOptions::default(), "0", &dir).unwrap();
    let model = verilate(&r.design);
    let mut v = VerilatedTop::new(&model).unwrap();
    StreamDut::reset(&mut v, 3);
    let st = v.status();
    assert!(!st.weights_complete && !st.weights_error);
    // Two frames before any weights: taken and dropped whole, no logits, both counted.
    let early = frames(&m, 1, 8);
    let two = [
        Sent {
            pixels: early[0].pixels.clone(),
            seen: vec![],
            bad: true,
        },
        Sent {
            pixels: early[0].pixels.clone(),
            seen: vec![],
            bad: true,
        },
    ];
    let beats: usize = two.iter().map(|f| f.pixels.len() / 3).sum();
    let mut taken = 0;
    for f in &two {
        for (i, px) in f.pixels.chunks(3).enumerate() {
            v.drive(Some((px, i + 1 == f.pixels.len() / 3)), true);
            assert!(TopDut::input_ready(&v), "a refused frame's beats are taken");
            assert!(
                TopDut::output(&v).is_none(),
                "a refused frame makes no logits"
            );
            TopDut::tick(&mut v);
            taken += 1;
        }
    }
    assert_eq!(taken, beats);
    v.drive(None, true);
    assert_eq!(v.errors(), (true, 2), "both refused frames counted");
    // The weight packet: short, then long, then whole.
    let dir_words: Vec<u64> = {
        let mut words = Vec::new();
        for mem in &r.load {
            let text = std::fs::read_to_string(dir.join(&mem.file)).unwrap();
            words.extend(
                squeezeflow_hw::load::read_words(mem, &text)
                    .unwrap()
                    .iter()
                    .map(|w| w.data),
            );
        }
        words
    };
    assert!(dir_words.len() > 4);
    v.load_stream(&dir_words[..dir_words.len() - 3], 0.3, 1, 1000)
        .unwrap();
    let st = v.status();
    assert!(
        !st.weights_complete && st.weights_error,
        "a short packet: {st:?}"
    );
    let mut long = dir_words.clone();
    long.extend([1, 2, 3]);
    v.load_stream(&long, 0.3, 2, 1000).unwrap();
    assert!(
        !v.status().weights_complete,
        "a long packet does not complete"
    );
    v.load_stream(&dir_words, 0.3, 3, 1000).unwrap();
    let st = v.status();
    assert!(
        st.weights_complete && st.weights_error,
        "a whole packet completes: {st:?}"
    );
    // Now frames run, exact, with the two refusals still counted.
    let sent = frames(&m, 6, 12);
    let bad = sent.iter().filter(|f| f.bad).count();
    let got = stream(&mut v, &sent, 0.3, 5);
    check(&m, &sent, &got, "Verilator, loaded weights");
    assert_eq!(v.errors(), (true, 2 + bad as u16));
}
