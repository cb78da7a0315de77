//! The board link end to end: the host code of `squeezeflow board` against the simulated shell
//! (a tiny network, 4 clocks per UART bit), with faults injected on the wire; the shell's Verilog
//! against its rust-hdl model cycle for cycle; the reply decoder fuzzed.

use std::sync::OnceLock;
use std::time::Duration;

use proptest::prelude::*;
use squeezeflow_host::board::{
    encode_reply, encode_request, Board, BoardError, Decoder, Pins, SimTransport, Transport,
    VerilatedPins,
};
use squeezeflow_hw::folding::{plan, HardwareConfig, Plan};
use squeezeflow_hw::shell::{cmd, err, parse_hash, write_shell, Shell, ShellConfig};
use squeezeflow_hw::{bundle::write_bundle, bundle::Manifest, ip::clocked};
use squeezeflow_model::config::{Bypass, Conv1Spec, FireSpec, NetworkConfig};
use squeezeflow_model::float::synthetic_frame;
use squeezeflow_model::reference::{run, Path};
use squeezeflow_model::QuantModel;
use squeezeflow_sim::verilator::Model;
use squeezeflow_tests::{lint_iverilog, lint_verilator, scratch, verilate};

const DIVISOR: u32 = 4;
const CLOCK_HZ: f64 = 100e6;

fn tiny() -> NetworkConfig {
    NetworkConfig {
        name: "tiny-board".into(),
        input_size: 24,
        num_classes: 10,
        conv1: Conv1Spec {
            channels: 8,
            kernel: 3,
            stride: 2,
        },
        fires: vec![
            FireSpec {
                squeeze: 4,
                expand1x1: 8,
                expand3x3: 8,
            },
            FireSpec {
                squeeze: 4,
                expand1x1: 8,
                expand3x3: 8,
            },
        ],
        pool_after: vec!["conv1".into()],
        bypass: Bypass::None,
        meta: None,
        quantization: Default::default(),
    }
}

struct Fixture {
    model: QuantModel,
    plan: Plan,
    manifest: Manifest,
    cfg: ShellConfig,
    verilated: Model,
}

/// The shell for a bundle at [`DIVISOR`] clocks a bit, written, linted and verilated.
fn verilated_shell(
    model: &QuantModel,
    p: &Plan,
    manifest: &Manifest,
    tag: &str,
) -> (ShellConfig, Model) {
    let cfg = ShellConfig::new(
        parse_hash(&manifest.model_hash).unwrap(),
        manifest.input_size,
        manifest.num_classes,
        DIVISOR,
    )
    .unwrap();
    let design = write_shell(model, p, &cfg, &scratch(tag)).unwrap();
    lint_verilator(&design);
    lint_iverilog(&design);
    (cfg, verilate(&design))
}

/// Pins driven by a closure (one session run against two devices under test).
struct Dyn<'a>(&'a mut dyn FnMut(bool) -> bool);
impl Pins for Dyn<'_> {
    fn cycle(&mut self, rx: bool) -> bool {
        (self.0)(rx)
    }
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let model = QuantModel::synthetic(&tiny(), 5).unwrap();
        let p = plan(
            &model.network,
            &HardwareConfig {
                mac_budget: Some(32),
                ..Default::default()
            },
        )
        .unwrap();
        let dir = scratch("board_bundle");
        let manifest = write_bundle(&model, &p, &clocked(CLOCK_HZ / 1e6), &dir).unwrap();
        let (cfg, verilated) = verilated_shell(&model, &p, &manifest, "board_shell");
        Fixture {
            model,
            plan: p,
            manifest,
            cfg,
            verilated,
        }
    })
}

fn frames(n: u64) -> Vec<Vec<u8>> {
    let f = fixture();
    (0..n)
        .map(|i| synthetic_frame(f.model.network.input_shape(), 40 + i))
        .collect()
}

fn reference(rgb: &[u8]) -> Vec<u16> {
    run(&fixture().model, rgb, Path::Fast).unwrap().logits
}

fn sim_board() -> Board<SimTransport<VerilatedPins<'static>>> {
    let f = fixture();
    let pins = VerilatedPins::new(&f.verilated).unwrap();
    Board::new(SimTransport::new(pins, DIVISOR, CLOCK_HZ))
}

#[test]
fn frames_through_the_simulated_shell_equal_the_reference() {
    let f = fixture();
    let mut b = sim_board();
    let id = b.check_identity(&f.manifest).unwrap();
    assert_eq!(id.divisor, DIVISOR);
    let t = std::time::Instant::now();
    let c0 = b.link.cycles;
    for (i, rgb) in frames(3).iter().enumerate() {
        let (logits, cycles) = b.run_frame(rgb, f.manifest.num_classes).unwrap();
        assert_eq!(logits, reference(rgb), "frame {i}");
        assert!(cycles > 0);
        eprintln!("frame {i}: {cycles} cycles in the accelerator");
    }
    let s = b.status().unwrap();
    assert_eq!(s.frames_done, 3);
    assert_eq!(s.error_flags, 0, "no errors on a clean link");
    assert_eq!(b.stats.retries, 0);
    let cycles = b.link.cycles - c0;
    let bytes = b.stats.bytes_sent + b.stats.bytes_received;
    eprintln!(
        "3 frames: {bytes} bytes on the link in {cycles} cycles ({:.1} cycles/byte, the wire's \
         minimum is {}); {:.0} simulated cycles/s, {:.0} link bytes/s of wall time",
        cycles as f64 / bytes as f64,
        10 * DIVISOR,
        cycles as f64 / t.elapsed().as_secs_f64(),
        bytes as f64 / t.elapsed().as_secs_f64()
    );
}

/// Records `uart_tx` cycle by cycle.
struct Recording<P: Pins> {
    pins: P,
    tx: Vec<bool>,
}

impl<P: Pins> Pins for Recording<P> {
    fn cycle(&mut self, rx: bool) -> bool {
        let t = self.pins.cycle(rx);
        self.tx.push(t);
        t
    }
}

#[test]
fn shell_verilog_equals_its_rust_model_cycle_for_cycle() {
    let f = fixture();
    let rgb = &frames(1)[0];
    let session = |pins: &mut dyn FnMut(bool) -> bool| {
        let mut b = Board::new(SimTransport::new(Dyn(pins), DIVISOR, CLOCK_HZ));
        b.identify().unwrap();
        // Bad messages (a CRC error, a LOAD past the loaded pixels, a message cut short, an
        // oversized length) and their error replies, then a whole frame.
        let mut bad = encode_request(cmd::STATUS, &[]);
        bad[2] ^= 1;
        let cut = encode_request(cmd::LOAD, &[0, 0, 1, 2, 3]);
        let mut got = Vec::new();
        for req in [
            bad,
            encode_request(cmd::LOAD, &[10, 0, 1, 2, 3]),
            cut[..6].to_vec(),
            vec![0xA5, 0x09, 0xFF, 0x7F, 1, 2, 3],
        ] {
            b.link.write_all(&req).unwrap();
            while let Some(x) = b.link.read_byte(Duration::from_micros(50)).unwrap() {
                got.push(x);
            }
        }
        assert_eq!(got.len(), 4 * 8, "four error replies");
        let (logits, cycles) = b.run_frame(rgb, f.manifest.num_classes).unwrap();
        (got, logits, cycles)
    };
    let mut v = Recording {
        pins: VerilatedPins::new(&f.verilated).unwrap(),
        tx: Vec::new(),
    };
    let rv = session(&mut |rx| v.cycle(rx));
    let mut shell = Shell::new(
        &f.cfg,
        squeezeflow_hw::network::network_graph(&f.model, &f.plan).unwrap(),
    )
    .unwrap();
    shell.reset_sim(4);
    let mut h = Recording {
        pins: shell,
        tx: Vec::new(),
    };
    let rh = session(&mut |rx| h.cycle(rx));
    assert_eq!(rv.1, reference(rgb));
    assert_eq!(rv, rh, "Verilog and rust-hdl answer differently");
    assert_eq!(v.tx.len(), h.tx.len(), "different numbers of cycles");
    let first = v.tx.iter().zip(&h.tx).position(|(a, b)| a != b);
    assert_eq!(first, None, "uart_tx differs at cycle {first:?}");
    eprintln!("{} cycles identical on uart_tx", v.tx.len());
}

/// What to do to the bytes on the wire.
#[derive(Clone, Copy, Debug)]
enum Fault {
    FlipSent(usize),
    DropSent(usize),
    DupSent(usize),
    FlipReceived(usize),
    DropReceived(usize),
}

struct Faulty<T: Transport> {
    inner: T,
    fault: Fault,
    sent: usize,
    received: usize,
}

impl<T: Transport> Transport for Faulty<T> {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BoardError> {
        let mut out = Vec::new();
        for &b in bytes {
            let i = self.sent;
            self.sent += 1;
            match self.fault {
                Fault::FlipSent(k) if k == i => out.push(b ^ 0x10),
                Fault::DropSent(k) if k == i => {}
                Fault::DupSent(k) if k == i => out.extend([b, b]),
                _ => out.push(b),
            }
        }
        self.inner.write_all(&out)
    }
    fn read_byte(&mut self, timeout: Duration) -> Result<Option<u8>, BoardError> {
        loop {
            let Some(b) = self.inner.read_byte(timeout)? else {
                return Ok(None);
            };
            let i = self.received;
            self.received += 1;
            match self.fault {
                Fault::FlipReceived(k) if k == i => return Ok(Some(b ^ 0x01)),
                Fault::DropReceived(k) if k == i => continue,
                _ => return Ok(Some(b)),
            }
        }
    }
    fn byte_time(&self) -> Duration {
        self.inner.byte_time()
    }
}

#[test]
fn faults_on_the_wire_are_retried_and_never_give_wrong_logits() {
    let f = fixture();
    let rgb = &frames(1)[0];
    let want = reference(rgb);
    // Byte positions: IDENTIFY (6 bytes out, 27 in), then STATUS, LOADs (64-pixel chunks) ...
    let faults = [
        Fault::FlipSent(2),
        Fault::FlipSent(40),
        Fault::FlipSent(300),
        Fault::DropSent(9),
        Fault::DropSent(100),
        Fault::DupSent(3),
        Fault::DupSent(250),
        Fault::FlipReceived(5),
        Fault::FlipReceived(45),
        Fault::DropReceived(30),
        Fault::DropReceived(60),
    ];
    for fault in faults {
        let pins = VerilatedPins::new(&f.verilated).unwrap();
        let link = Faulty {
            inner: SimTransport::new(pins, DIVISOR, CLOCK_HZ),
            fault,
            sent: 0,
            received: 0,
        };
        let mut b = Board::new(link);
        b.check_identity(&f.manifest)
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        let (logits, _) = b
            .run_frame(rgb, f.manifest.num_classes)
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(logits, want, "{fault:?}: wrong logits accepted");
        assert!(b.stats.retries > 0, "{fault:?}: the fault went unnoticed");
        eprintln!("{fault:?}: recovered, {:?}", b.stats);
    }
}

#[test]
fn a_truncated_frame_never_runs() {
    let f = fixture();
    let rgb = &frames(1)[0];
    let mut b = sim_board();
    b.identify().unwrap();
    // Half a frame, then START: refused.
    let half = &rgb[..rgb.len() / 2];
    b.load(half, 0).unwrap();
    let s = b.status().unwrap();
    assert_eq!(s.loaded_pixels, half.len() / 3);
    match b.start(s.frames_done) {
        Err(BoardError::Rejected { code, .. }) => assert_eq!(code, err::NOT_LOADED),
        other => panic!("START of half a frame: {other:?}"),
    }
    // A LOAD message cut off in the middle: the board times out, says so, and keeps the
    // frame's good part only.
    let mut payload = vec![0u8, 0];
    payload.extend_from_slice(&rgb[..30]);
    let req = encode_request(cmd::LOAD, &payload);
    b.link.write_all(&req[..20]).unwrap();
    let mut dec = Decoder::new(64);
    let reply = loop {
        let x = b
            .link
            .read_byte(Duration::from_millis(1))
            .unwrap()
            .expect("an error reply after the board's timeout");
        if let Some(r) = dec.push(x) {
            break r.unwrap();
        }
    };
    assert_eq!(reply.code, 0xFF);
    assert_eq!(reply.payload, vec![err::TIMEOUT, cmd::LOAD]);
    let s = b.status().unwrap();
    assert_eq!(
        s.loaded_pixels, 0,
        "a cut LOAD at offset 0 leaves nothing loaded"
    );
    assert!(!s.busy);
    assert_eq!(s.frames_done, 0);
    assert_ne!(s.error_flags, 0);
    // READ_LOGITS before any frame: refused.
    match b.read_logits(f.manifest.num_classes) {
        Err(BoardError::Rejected { code, .. }) => assert_eq!(code, err::NO_LOGITS),
        other => panic!("READ_LOGITS with no frame: {other:?}"),
    }
    // And the whole frame afterwards is fine.
    let (logits, _) = b.run_frame(rgb, f.manifest.num_classes).unwrap();
    assert_eq!(logits, reference(rgb));
}

#[test]
fn a_wrong_network_hash_is_refused() {
    let f = fixture();
    let mut m = f.manifest.clone();
    m.model_hash = format!("{:016x}", parse_hash(&m.model_hash).unwrap() ^ 1);
    let mut b = sim_board();
    match b.check_identity(&m) {
        Err(BoardError::Identity(msg)) => assert!(msg.contains("hash"), "{msg}"),
        other => panic!("wrong hash accepted: {other:?}"),
    }
}

/// A board that never answers.
struct Silent;
impl Pins for Silent {
    fn cycle(&mut self, _rx: bool) -> bool {
        true
    }
}

#[test]
fn a_silent_board_times_out() {
    let mut b = Board::new(SimTransport::new(Silent, DIVISOR, CLOCK_HZ));
    let t = std::time::Instant::now();
    match b.identify() {
        Err(BoardError::NoReply { attempts, .. }) => assert_eq!(attempts, 5),
        other => panic!("a silent board answered: {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(10));
}

#[test]
fn crc_matches_the_standard_check_value() {
    assert_eq!(squeezeflow_hw::shell::crc16(b"123456789"), 0x29B1);
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn decoder_survives_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut d = Decoder::new(300);
        for b in bytes {
            let _ = d.push(b);
        }
    }

    #[test]
    fn decoder_finds_a_reply_in_noise(
        noise in proptest::collection::vec(any::<u8>().prop_filter("no sync", |b| *b != 0x5A), 0..40),
        code in any::<u8>(),
        payload in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut d = Decoder::new(300);
        let mut found = None;
        for b in noise.iter().copied().chain(encode_reply(code, &payload)) {
            if let Some(r) = d.push(b) {
                found = Some(r);
            }
        }
        let r = found.expect("a reply").expect("a good reply");
        prop_assert_eq!(r.code, code);
        prop_assert_eq!(r.payload, payload);
    }

    #[test]
    fn a_corrupted_reply_is_never_accepted(
        payload in proptest::collection::vec(any::<u8>(), 1..100),
        pos in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let mut wire = encode_reply(0x85, &payload);
        // A flip in the payload or the CRC (one in the length may only change where the
        // decoder thinks the reply ends: it then waits for more bytes).
        let i = 4 + pos.index(wire.len() - 4);
        wire[i] ^= 1 << bit;
        let mut d = Decoder::new(300);
        for b in wire {
            let accepted = matches!(d.push(b), Some(Ok(_)));
            prop_assert!(!accepted, "corrupted reply accepted");
        }
    }
}

/// The next reply on a raw link.
fn raw_reply<T: Transport>(t: &mut T) -> squeezeflow_host::board::Reply {
    let mut dec = Decoder::new(4096);
    loop {
        let x = t
            .read_byte(Duration::from_millis(1))
            .unwrap()
            .expect("a reply");
        if let Some(r) = dec.push(x) {
            return r.expect("a good reply");
        }
    }
}

#[test]
fn bad_requests_get_error_replies_and_the_shell_listens_again() {
    use squeezeflow_hw::shell::flag;
    let mut b = sim_board();
    let cases: Vec<(Vec<u8>, Vec<u8>)> = vec![
        // junk before a request with an unknown command
        (
            [vec![0x00, 0x13, 0xFF], encode_request(0x42, &[])].concat(),
            vec![err::COMMAND, 0x42],
        ),
        // a length beyond the largest request: drained until the line is quiet
        (
            [vec![0xA5, cmd::LOAD, 0xFF, 0xFF], vec![7u8; 50]].concat(),
            vec![err::LENGTH, cmd::LOAD],
        ),
        // a payload for a command that takes none
        (
            encode_request(cmd::START, &[1, 2, 3]),
            vec![err::LENGTH, cmd::START],
        ),
        // a LOAD beyond the loaded pixels
        (
            encode_request(cmd::LOAD, &[10, 0, 1, 2, 3]),
            vec![err::OFFSET, cmd::LOAD],
        ),
        // a LOAD that is not whole pixels
        (
            encode_request(cmd::LOAD, &[0, 0, 1, 2, 3, 4]),
            vec![err::LENGTH, cmd::LOAD],
        ),
        // START with nothing loaded
        (
            encode_request(cmd::START, &[]),
            vec![err::NOT_LOADED, cmd::START],
        ),
    ];
    for (req, want) in cases {
        b.link.write_all(&req).unwrap();
        let r = raw_reply(&mut b.link);
        assert_eq!((r.code, &r.payload), (0xFF, &want), "request {req:02x?}");
    }
    let s = b.status().unwrap();
    assert_eq!(
        s.error_flags,
        flag::COMMAND | flag::LENGTH | flag::REJECTED,
        "sticky flags"
    );
    assert_eq!(
        s.loaded_pixels, 0,
        "a LOAD with an error leaves nothing loaded"
    );
    assert_eq!(
        b.status().unwrap().error_flags,
        0,
        "STATUS clears the flags"
    );
    b.check_identity(&fixture().manifest).unwrap();
}

/// Random faults: each byte is flipped, dropped or (on the way to the board) doubled with
/// probability `rate`.
struct Noisy<T: Transport> {
    inner: T,
    rng: squeezeflow_model::float::SplitMix64,
    rate: f64,
    faults: usize,
}

impl<T: Transport> Noisy<T> {
    /// What happens to one byte: `None` dropped, else the bytes to pass on.
    fn mangle(&mut self, b: u8) -> Vec<u8> {
        if self.rng.uniform() >= self.rate {
            return vec![b];
        }
        self.faults += 1;
        match self.rng.next_u64() % 3 {
            0 => vec![b ^ (1 << (self.rng.next_u64() % 8))],
            1 => vec![],
            _ => vec![b, b],
        }
    }
}

impl<T: Transport> Transport for Noisy<T> {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BoardError> {
        let out: Vec<u8> = bytes.iter().flat_map(|&b| self.mangle(b)).collect();
        self.inner.write_all(&out)
    }
    fn read_byte(&mut self, timeout: Duration) -> Result<Option<u8>, BoardError> {
        loop {
            let Some(b) = self.inner.read_byte(timeout)? else {
                return Ok(None);
            };
            // Received bytes are flipped or dropped (a doubled one is passed on once).
            let m = self.mangle(b);
            if let Some(&x) = m.first() {
                return Ok(Some(x));
            }
        }
    }
    fn byte_time(&self) -> Duration {
        self.inner.byte_time()
    }
}

#[test]
fn a_noisy_link_gives_the_right_logits_or_a_clear_error() {
    let f = fixture();
    let rgb = &frames(1)[0];
    let want = reference(rgb);
    let (mut ok, mut failed, mut faults) = (0, 0, 0);
    for seed in 0..12u64 {
        let pins = VerilatedPins::new(&f.verilated).unwrap();
        let link = Noisy {
            inner: SimTransport::new(pins, DIVISOR, CLOCK_HZ),
            rng: squeezeflow_model::float::SplitMix64::new(seed),
            rate: 0.001,
            faults: 0,
        };
        let mut b = Board::new(link);
        let r = b
            .check_identity(&f.manifest)
            .and_then(|_| b.run_frame(rgb, f.manifest.num_classes));
        faults += b.link.faults;
        match r {
            Ok((logits, _)) => {
                assert_eq!(logits, want, "seed {seed}: wrong logits accepted");
                ok += 1;
            }
            Err(e) => {
                eprintln!("seed {seed}: {e}");
                failed += 1;
            }
        }
    }
    eprintln!("noisy link: {ok} frames right, {failed} clear errors, {faults} faults injected");
    assert!(
        ok >= 11,
        "retries should recover almost every frame at this rate"
    );
}

/// The serial-port path of the host (the `serialport` crate on a pseudo-terminal), with the
/// simulated shell on the other end of the pty.
#[test]
fn the_serial_port_transport_drives_the_shell_through_a_pseudo_terminal() {
    use squeezeflow_host::board::SerialTransport;
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let f = fixture();
    let (mut master, slave) = match serialport::TTYPort::pair() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("no pseudo-terminals here ({e}): skipped");
            return;
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let bridge = std::thread::spawn(move || {
        let pins = VerilatedPins::new(&fixture().verilated).unwrap();
        let mut sim = SimTransport::new(pins, DIVISOR, CLOCK_HZ);
        serialport::SerialPort::set_timeout(&mut master, Duration::from_millis(2)).unwrap();
        let mut buf = [0u8; 4096];
        while !stop2.load(Ordering::Relaxed) {
            if let Ok(n) = master.read(&mut buf) {
                sim.write_all(&buf[..n]).unwrap();
            }
            let out = sim.pump(400, 10_000_000);
            if !out.is_empty() {
                master.write_all(&out).unwrap();
            }
        }
    });
    let mut b = Board::new(SerialTransport::from_port(Box::new(slave), 115_200));
    // The simulator behind the pty is slower than a real 115200 baud line: generous timeouts.
    b.cfg.reply_timeout = Duration::from_secs(5);
    b.cfg.byte_timeout = Duration::from_secs(2);
    let result = b.check_identity(&f.manifest).and_then(|_| {
        frames(2)
            .iter()
            .map(|rgb| b.run_frame(rgb, f.manifest.num_classes).map(|r| r.0))
            .collect::<Result<Vec<_>, _>>()
    });
    stop.store(true, Ordering::Relaxed);
    bridge.join().unwrap();
    let logits = result.unwrap();
    for (rgb, l) in frames(2).iter().zip(&logits) {
        assert_eq!(l, &reference(rgb));
    }
    assert_eq!(b.stats.retries, 0);
}

/// A bundle whose conv1 and fire3.expand3x3 weights are RAMs filled over the link (WEIGHTS):
/// the board reports its weight memories, refuses to run a frame before every word is written
/// by a message with a good CRC, refuses out-of-order and out-of-range messages, and after the
/// host's load gives the reference's logits; the shell's Verilog and its rust-hdl model answer
/// the same session identically, cycle for cycle.
#[test]
fn weights_over_the_link_then_frames_equal_the_reference() {
    let model = QuantModel::synthetic(&tiny(), 6).unwrap();
    let hw = HardwareConfig {
        mac_budget: Some(32),
        load_weights: ["conv1".to_string(), "fire3.expand3x3".to_string()].into(),
        ..Default::default()
    };
    let p = plan(&model.network, &hw).unwrap();
    let dir = scratch("board_bundle_loaded");
    let manifest = write_bundle(&model, &p, &clocked(CLOCK_HZ / 1e6), &dir).unwrap();
    let n_mem = manifest.load.len();
    assert_eq!(n_mem, p.fold["conv1"].pe + p.fold["fire3.expand3x3"].pe);
    let mut mems: Vec<Vec<u64>> = vec![Vec::new(); n_mem];
    for w in manifest.load_words(&dir).unwrap() {
        mems[w.sel as usize].push(w.data);
    }
    let (cfg, verilated) = verilated_shell(&model, &p, &manifest, "board_shell_loaded");
    let rgb = synthetic_frame(model.network.input_shape(), 77);
    let want = run(&model, &rgb, Path::Fast).unwrap().logits;
    let words = |sel: u16, adr: u16, n: usize| {
        let mut v = [sel.to_le_bytes(), adr.to_le_bytes()].concat();
        for i in 0..n {
            v.extend((0x0101_0101_0101_0101u64 * (i as u64 + 1)).to_le_bytes());
        }
        v
    };
    let session = |pins: &mut dyn FnMut(bool) -> bool| {
        let mut b = Board::new(SimTransport::new(Dyn(pins), DIVISOR, CLOCK_HZ));
        let id = b.check_identity(&manifest).unwrap();
        assert_eq!(id.weight_memories, n_mem);
        let s = b.status().unwrap();
        assert!(!s.weights_complete);
        assert_eq!(s.weights_at, (0, 0));
        // The frame alone is not enough.
        b.load(&rgb, 0).unwrap();
        let mut bad_crc = encode_request(cmd::WEIGHTS, &words(0, 0, 2));
        let k = bad_crc.len() - 5;
        bad_crc[k] ^= 0x40;
        let depth0 = mems[0].len() as u16;
        let cases: Vec<(Vec<u8>, Vec<u8>)> = vec![
            (
                encode_request(cmd::START, &[]),
                vec![err::NOT_LOADED, cmd::START],
            ),
            // a memory that does not exist
            (
                encode_request(cmd::WEIGHTS, &words(n_mem as u16, 0, 1)),
                vec![err::RANGE, cmd::WEIGHTS],
            ),
            // beyond the watermark (memory 1 before memory 0 is written)
            (
                encode_request(cmd::WEIGHTS, &words(1, 0, 1)),
                vec![err::OFFSET, cmd::WEIGHTS],
            ),
            // past the end of memory 0
            (
                encode_request(cmd::WEIGHTS, &words(0, 0, depth0 as usize + 1)),
                vec![err::RANGE, cmd::WEIGHTS],
            ),
            // not whole words
            (
                encode_request(cmd::WEIGHTS, &words(0, 0, 1)[..11]),
                vec![err::LENGTH, cmd::WEIGHTS],
            ),
            // a damaged message: its words may reach the RAM, but they do not count
            (bad_crc, vec![err::CRC, cmd::WEIGHTS]),
        ];
        for (req, want) in cases {
            b.link.write_all(&req).unwrap();
            let r = raw_reply(&mut b.link);
            assert_eq!((r.code, &r.payload), (0xFF, &want), "request {req:02x?}");
        }
        let s = b.status().unwrap();
        assert_eq!(s.weights_at, (0, 0), "no good WEIGHTS yet");
        assert!(s.frame_loaded);
        // A wrong word 0 with a good CRC moves the watermark to word 1; sending memory 0 from
        // word 0 again is allowed (an earlier point), and rewrites it.
        b.link
            .write_all(&encode_request(cmd::WEIGHTS, &words(0, 0, 1)))
            .unwrap();
        let r = raw_reply(&mut b.link);
        assert_eq!(
            (r.code, r.payload.clone()),
            (cmd::WEIGHTS | 0x80, vec![0, 0, 1, 0])
        );
        let mut first = vec![0, 0, 0, 0];
        first.extend(mems[0][0].to_le_bytes());
        b.link
            .write_all(&encode_request(cmd::WEIGHTS, &first))
            .unwrap();
        let r = raw_reply(&mut b.link);
        assert_eq!(
            (r.code, r.payload.clone()),
            (cmd::WEIGHTS | 0x80, vec![0, 0, 1, 0])
        );
        // The host goes on from the watermark.
        let sent = b.load_weights(&mems).unwrap();
        assert_eq!(sent, mems.iter().map(|m| m.len()).sum::<usize>() - 1);
        let s = b.status().unwrap();
        assert!(s.weights_complete && s.weights_at == (n_mem, 0), "{s:?}");
        // A frame now runs (the pixels are still loaded; START consumes them).
        b.start(s.frames_done).unwrap();
        let cycles = b.wait(s.frames_done).unwrap();
        let logits = b.read_logits(manifest.num_classes).unwrap();
        // Memories stay written: a second frame needs no WEIGHTS.
        let (logits2, _) = b.run_frame(&rgb, manifest.num_classes).unwrap();
        (logits, logits2, cycles)
    };
    let mut v = Recording {
        pins: VerilatedPins::new(&verilated).unwrap(),
        tx: Vec::new(),
    };
    let rv = session(&mut |rx| v.cycle(rx));
    assert_eq!(rv.0, want, "Verilog: logits after loading the weights");
    assert_eq!(rv.1, want, "Verilog: the second frame");
    let mut shell = Shell::new(
        &cfg,
        squeezeflow_hw::network::network_graph(&model, &p).unwrap(),
    )
    .unwrap();
    shell.reset_sim(4);
    let mut h = Recording {
        pins: shell,
        tx: Vec::new(),
    };
    let rh = session(&mut |rx| h.cycle(rx));
    assert_eq!(rv, rh, "Verilog and rust-hdl answer differently");
    let first = v.tx.iter().zip(&h.tx).position(|(a, b)| a != b);
    assert_eq!(first, None, "uart_tx differs at cycle {first:?}");
    assert_eq!(v.tx.len(), h.tx.len());
}
