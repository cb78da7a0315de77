//! The board link: the protocol of `docs/protocol.md` on the host side, implemented once over a
//! [`Transport`]: a real serial port ([`SerialTransport`]) or the simulated shell driven bit by
//! bit on its `uart_rx`/`uart_tx` pins ([`SimTransport`]), so both see exactly the same bytes.
//!
//! `codec` frames requests and decodes replies, `transport` moves the bytes (serial port or
//! simulated pins), `client` is the protocol's commands with timeouts and retries; this module
//! holds the error type and `squeezeflow board` itself.

mod client;
mod codec;
mod transport;

use std::time::{Duration, Instant};

pub use client::{Board, Identity, LinkConfig, LinkStats, Status};
pub use codec::{encode_reply, encode_request, error_name, DecodeError, Decoder, Reply};
pub use transport::{Pins, SerialTransport, SimTransport, Transport, VerilatedPins};

/// Errors of the board link.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("serial port: {0}")]
    Io(String),
    /// No valid reply after every retry.
    #[error("no valid reply to {command} after {attempts} attempts (last problem: {last})")]
    NoReply {
        command: &'static str,
        attempts: usize,
        last: String,
    },
    /// The board refused a request (a reply with an error code).
    #[error("the board rejected {command}: {}", error_name(*code))]
    Rejected { command: &'static str, code: u8 },
    /// A reply that decodes but makes no sense (wrong length, wrong values).
    #[error("protocol: {0}")]
    Protocol(String),
    /// The board is not running the bundle's network.
    #[error("identify: {0}")]
    Identity(String),
    #[error("the board did not finish the frame within {0:?}")]
    Stuck(Duration),
}

/// Options of `squeezeflow board`.
#[derive(Clone, Debug)]
pub struct BoardOptions {
    /// A serial port (`/dev/ttyUSB0`), or `None` with `sim`.
    pub port: Option<String>,
    pub baud: u32,
    /// Drive the simulated shell instead of a port.
    pub sim: bool,
    /// Clocks per UART bit of the simulated shell.
    pub divisor: u32,
    pub max_frames: Option<usize>,
    pub top: usize,
    pub retries: usize,
}

/// What `board` measured.
#[derive(Clone, Debug)]
pub struct BoardRun {
    pub frames: Vec<crate::accel::FrameReport>,
    pub stats: LinkStats,
    pub identity: Identity,
    pub seconds: f64,
    /// Simulated cycles (simulator only).
    pub sim_cycles: Option<u64>,
}

/// Writes the shell for `bundle` with `divisor` clocks per bit into `dir`. Its inter-byte
/// timeout is 64 byte times, or `min_timeout` at the bundle's clock if that is longer (a real
/// USB-UART bridge can pause for milliseconds inside a message).
pub fn write_bundle_shell(
    bundle: &squeezeflow_sim::network::Bundle,
    divisor: u32,
    min_timeout: Duration,
    dir: &std::path::Path,
) -> anyhow::Result<squeezeflow_hw::bundle::WrittenDesign> {
    use squeezeflow_hw::shell::{parse_hash, write_shell, ShellConfig};
    let m = &bundle.manifest;
    let mut cfg = ShellConfig::new(
        parse_hash(&m.model_hash)?,
        m.input_size,
        m.num_classes,
        divisor,
    )?;
    let t = (min_timeout.as_secs_f64() * m.clock_mhz * 1e6).min(u32::MAX as f64) as u32;
    cfg.timeout = cfg.timeout.max(t);
    Ok(write_shell(&bundle.model, &m.folding, &cfg, dir)?)
}

fn run_frames<T: Transport>(
    b: &mut Board<T>,
    bundle: &squeezeflow_sim::network::Bundle,
    sources: crate::frames::FrameSource,
    opt: &BoardOptions,
) -> anyhow::Result<(Identity, Vec<crate::accel::FrameReport>)> {
    use anyhow::Context;
    let m = &bundle.manifest;
    b.cfg.retries = opt.retries;
    let id = b
        .check_identity(m)
        .context("checking the board against the bundle")?;
    // Weights held in RAM (UltraRAM): written once, before the first frame, unless the board
    // still has them all (STATUS).
    if !m.load.is_empty() && !b.status()?.weights_complete {
        let mut mems: Vec<Vec<u64>> = m.load.iter().map(|l| Vec::with_capacity(l.depth)).collect();
        for w in m.load_words(&bundle.dir)? {
            mems[w.sel as usize].push(w.data);
        }
        let t = Instant::now();
        let n = b.load_weights(&mems).context("loading the weights")?;
        eprintln!(
            "loaded {n} weight words into {} memories over the link in {:.1} s",
            mems.len(),
            t.elapsed().as_secs_f64()
        );
    }
    let reference = squeezeflow_model::reference::Prepared::new(&bundle.model);
    let n = m.input_size;
    let mut reports = Vec::new();
    let mut done = 0u64;
    for (i, f) in sources
        .take(opt.max_frames.unwrap_or(usize::MAX))
        .enumerate()
    {
        let (label, rgb) = f?;
        if rgb.len() != n * n * 3 {
            anyhow::bail!("{label}: frame is not {n}x{n} RGB");
        }
        let want = reference.run(&rgb)?.logits;
        let (logits, cycles) = b
            .run_frame(&rgb, m.num_classes)
            .with_context(|| format!("frame {i} ({label})"))?;
        done += cycles as u64;
        let r =
            crate::accel::frame_report(m, i, label, &logits, &want, cycles as u64, done, opt.top);
        crate::accel::print_frame(m, &r).map_err(crate::stdout_failed)?;
        reports.push(r);
    }
    Ok((id, reports))
}

/// `squeezeflow board`: checks IDENTIFY against the bundle, runs every frame on the board (or
/// the simulated shell) and compares the logits with the integer reference.
pub fn run_board(
    bundle: &squeezeflow_sim::network::Bundle,
    sources: crate::frames::FrameSource,
    opt: &BoardOptions,
) -> anyhow::Result<BoardRun> {
    use anyhow::Context;
    let t0 = Instant::now();
    if opt.sim {
        let dir = bundle.dir.join("shell");
        let design = write_bundle_shell(bundle, opt.divisor, Duration::ZERO, &dir)?;
        eprintln!(
            "building the Verilator model of the board shell in {} (cached after the first time)...",
            dir.display()
        );
        let model = squeezeflow_sim::verilator::Model::build(
            &design.sources,
            &design.top,
            &design.dir,
            &Default::default(),
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        let pins = VerilatedPins::new(&model)?;
        let clock_hz = bundle.manifest.clock_mhz * 1e6;
        let mut b = Board::new(SimTransport::new(pins, opt.divisor, clock_hz));
        let t1 = Instant::now();
        let (identity, frames) = run_frames(&mut b, bundle, sources, opt)?;
        Ok(BoardRun {
            frames,
            stats: b.stats.clone(),
            identity,
            seconds: t1.elapsed().as_secs_f64(),
            sim_cycles: Some(b.link.cycles),
        })
    } else {
        let port = opt
            .port
            .as_deref()
            .context("give --port /dev/ttyUSB0 (or --sim for the simulated shell)")?;
        let mut b = Board::new(SerialTransport::open(port, opt.baud)?);
        b.flush()?;
        let (identity, frames) = run_frames(&mut b, bundle, sources, opt)?;
        Ok(BoardRun {
            frames,
            stats: b.stats.clone(),
            identity,
            seconds: t0.elapsed().as_secs_f64(),
            sim_cycles: None,
        })
    }
}
