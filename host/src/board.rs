//! The board link: the protocol of `docs/protocol.md` on the host side, implemented once over a
//! [`Transport`]: a real serial port ([`SerialTransport`]) or the simulated shell driven bit by
//! bit on its `uart_rx`/`uart_tx` pins ([`SimTransport`]), so both see exactly the same bytes.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use squeezeflow_sim::hw::shell::{
    cmd, crc16, err, IDENTIFY_LEN, PROTOCOL_VERSION, REPLY_ERROR, STATUS_LEN, SYNC_REPLY,
    SYNC_REQUEST,
};

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

/// The name of an error code (docs/protocol.md).
pub fn error_name(code: u8) -> String {
    match code {
        err::CRC => "CRC error in the request".into(),
        err::LENGTH => "bad length".into(),
        err::COMMAND => "unknown command".into(),
        err::TIMEOUT => "timeout between bytes".into(),
        err::OFFSET => "LOAD offset beyond the loaded pixels".into(),
        err::RANGE => "LOAD past the end of the frame".into(),
        err::BUSY => "busy running a frame".into(),
        err::NOT_LOADED => "the frame is not completely loaded".into(),
        err::NO_LOGITS => "no logits to read".into(),
        c => format!("error code {c}"),
    }
}

fn command_name(c: u8) -> &'static str {
    match c {
        cmd::IDENTIFY => "IDENTIFY",
        cmd::LOAD => "LOAD",
        cmd::START => "START",
        cmd::STATUS => "STATUS",
        cmd::READ_LOGITS => "READ_LOGITS",
        cmd::WEIGHTS => "WEIGHTS",
        _ => "an unknown command",
    }
}

/// A request on the wire: `A5 cmd len_lo len_hi payload crc_hi crc_lo`, the CRC-16/CCITT-FALSE
/// over `cmd`, the length and the payload.
pub fn encode_request(command: u8, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u16;
    let mut v = vec![SYNC_REQUEST, command, len as u8, (len >> 8) as u8];
    v.extend_from_slice(payload);
    let c = crc16(&v[1..]);
    v.push((c >> 8) as u8);
    v.push(c as u8);
    v
}

/// A reply on the wire, the same layout with sync `5A` (the board's encoder is in hardware;
/// this one is for tests and the protocol page).
pub fn encode_reply(code: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = encode_request(code, payload);
    v[0] = SYNC_REPLY;
    v
}

/// A decoded reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// `command | 0x80`, or `0xFF` for an error reply.
    pub code: u8,
    pub payload: Vec<u8>,
}

/// What the decoder found wrong in a byte stream.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("reply CRC mismatch")]
    Crc,
    #[error("reply length {0} exceeds the limit")]
    Length(usize),
}

/// Incremental reply decoder: bytes before a sync byte are skipped; a reply longer than `max`
/// or with a bad CRC is reported and decoding starts over at the next byte.
#[derive(Clone, Debug)]
pub struct Decoder {
    max: usize,
    buf: Vec<u8>,
    want: Option<usize>,
    /// Bytes skipped while looking for a sync byte.
    pub skipped: usize,
}

impl Decoder {
    pub fn new(max_payload: usize) -> Self {
        Decoder {
            max: max_payload,
            buf: Vec::new(),
            want: None,
            skipped: 0,
        }
    }
    pub fn reset(&mut self) {
        self.buf.clear();
        self.want = None;
    }
    /// Whether a reply is partly received.
    pub fn in_reply(&self) -> bool {
        !self.buf.is_empty()
    }
    /// Feeds one byte; returns a complete reply or an error when one ends here.
    pub fn push(&mut self, b: u8) -> Option<Result<Reply, DecodeError>> {
        if self.buf.is_empty() {
            if b == SYNC_REPLY {
                self.buf.push(b);
            } else {
                self.skipped += 1;
            }
            return None;
        }
        self.buf.push(b);
        if self.buf.len() == 4 {
            let len = self.buf[2] as usize | (self.buf[3] as usize) << 8;
            if len > self.max {
                self.reset();
                return Some(Err(DecodeError::Length(len)));
            }
            self.want = Some(4 + len + 2);
        }
        if Some(self.buf.len()) == self.want {
            let frame = std::mem::take(&mut self.buf);
            self.want = None;
            if crc16(&frame[1..]) != 0 {
                return Some(Err(DecodeError::Crc));
            }
            return Some(Ok(Reply {
                code: frame[1],
                payload: frame[4..frame.len() - 2].to_vec(),
            }));
        }
        None
    }
}

/// A byte pipe to a board.
pub trait Transport {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BoardError>;
    /// The next byte received within `timeout`, or `None`.
    fn read_byte(&mut self, timeout: Duration) -> Result<Option<u8>, BoardError>;
    /// The time one byte (10 bits) takes on the wire.
    fn byte_time(&self) -> Duration;
    /// Extra delay the host side adds (USB, the OS): zero for the simulator.
    fn latency(&self) -> Duration {
        Duration::ZERO
    }
}

/// A real serial port (8N1, no flow control).
pub struct SerialTransport {
    port: Box<dyn serialport::SerialPort>,
    baud: u32,
}

impl SerialTransport {
    pub fn open(path: &str, baud: u32) -> Result<Self, BoardError> {
        let port = serialport::new(path, baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| BoardError::Io(format!("{path}: {e}")))?;
        Ok(SerialTransport { port, baud })
    }
}

impl SerialTransport {
    /// An already open port (a pseudo-terminal in the tests), set to 8N1 at `baud` by its owner.
    pub fn from_port(port: Box<dyn serialport::SerialPort>, baud: u32) -> Self {
        SerialTransport { port, baud }
    }
}

impl Transport for SerialTransport {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BoardError> {
        use std::io::Write;
        self.port
            .write_all(bytes)
            .and_then(|_| self.port.flush())
            .map_err(|e| BoardError::Io(e.to_string()))
    }
    fn read_byte(&mut self, timeout: Duration) -> Result<Option<u8>, BoardError> {
        use std::io::Read;
        self.port
            .set_timeout(timeout.max(Duration::from_millis(1)))
            .map_err(|e| BoardError::Io(e.to_string()))?;
        let mut b = [0u8; 1];
        match self.port.read(&mut b) {
            Ok(1) => Ok(Some(b[0])),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Ok(None),
            Err(e) => Err(BoardError::Io(e.to_string())),
        }
    }
    fn byte_time(&self) -> Duration {
        Duration::from_secs_f64(10.0 / self.baud as f64)
    }
    fn latency(&self) -> Duration {
        Duration::from_millis(50)
    }
}

/// A shell's pins, one clock cycle at a time: drive `uart_rx`, return `uart_tx` as sampled in
/// that cycle, then clock. Implemented by the Verilated shell and by rust-hdl's [`Shell`].
///
/// [`Shell`]: squeezeflow_sim::hw::shell::Shell
pub trait Pins {
    fn cycle(&mut self, rx: bool) -> bool;
}

impl Pins for squeezeflow_sim::hw::shell::Shell {
    fn cycle(&mut self, rx: bool) -> bool {
        squeezeflow_sim::hw::shell::Shell::cycle(self, rx)
    }
}

/// The Verilated shell's pins.
pub struct VerilatedPins<'a> {
    inst: squeezeflow_sim::verilator::Instance<'a>,
    clock: usize,
    rx: usize,
    tx: usize,
}

impl<'a> VerilatedPins<'a> {
    /// A new instance of a verilated shell, held in reset for a few cycles.
    pub fn new(model: &'a squeezeflow_sim::verilator::Model) -> Result<Self, BoardError> {
        let port = |n: &str| model.port(n).map_err(|e| BoardError::Io(e.to_string()));
        let mut p = VerilatedPins {
            inst: model.instance(),
            clock: port("clock")?,
            rx: port("uart_rx")?,
            tx: port("uart_tx")?,
        };
        let reset = port("reset")?;
        p.inst.set(reset, 1);
        p.inst.set(p.rx, 1);
        for _ in 0..4 {
            p.inst.tick(p.clock);
        }
        p.inst.set(reset, 0);
        p.inst.eval();
        Ok(p)
    }
}

impl Pins for VerilatedPins<'_> {
    fn cycle(&mut self, rx: bool) -> bool {
        self.inst.set(self.rx, rx as u64);
        self.inst.eval();
        let tx = self.inst.get(self.tx) != 0;
        self.inst.tick(self.clock);
        tx
    }
}

/// The simulated link: bytes written are sent bit by bit on `uart_rx` (8N1, `divisor` cycles
/// a bit), `uart_tx` is sampled in the middle of each bit, and time is simulated time at
/// `clock_hz` (a timeout of one second is `clock_hz` cycles).
pub struct SimTransport<P: Pins> {
    pub pins: P,
    divisor: u32,
    clock_hz: f64,
    /// Bits still to send (false = 0), each `divisor` cycles.
    out_bits: VecDeque<bool>,
    bit_left: u32,
    cur: bool,
    // receiver of uart_tx
    rx_count: Option<u32>,
    rx_sh: u16,
    received: VecDeque<u8>,
    /// Cycles simulated so far.
    pub cycles: u64,
    /// Framing errors seen on `uart_tx` (never expected).
    pub framing_errors: usize,
}

impl<P: Pins> SimTransport<P> {
    pub fn new(pins: P, divisor: u32, clock_hz: f64) -> Self {
        SimTransport {
            pins,
            divisor: divisor.max(4),
            clock_hz,
            out_bits: VecDeque::new(),
            bit_left: 0,
            cur: true,
            rx_count: None,
            rx_sh: 0,
            received: VecDeque::new(),
            cycles: 0,
            framing_errors: 0,
        }
    }

    /// One clock cycle.
    pub fn step(&mut self) {
        if self.bit_left == 0 {
            match self.out_bits.pop_front() {
                Some(b) => {
                    self.cur = b;
                    self.bit_left = self.divisor;
                }
                None => self.cur = true,
            }
        }
        if self.bit_left > 0 {
            self.bit_left -= 1;
        }
        let tx = self.pins.cycle(self.cur);
        self.cycles += 1;
        let d = self.divisor;
        match self.rx_count {
            None => {
                if !tx {
                    self.rx_count = Some(0);
                    self.rx_sh = 0;
                }
            }
            Some(n) => {
                let n = n + 1;
                self.rx_count = Some(n);
                // Sample bit k (1..=9: 8 data bits, stop) at k*d + d/2 cycles after the start.
                if n >= d / 2 && (n - d / 2).is_multiple_of(d) {
                    let k = (n - d / 2) / d;
                    if (1..=8).contains(&k) {
                        self.rx_sh |= (tx as u16) << (k - 1);
                    } else if k == 9 {
                        if tx {
                            self.received.push_back(self.rx_sh as u8);
                        } else {
                            self.framing_errors += 1;
                        }
                        self.rx_count = None;
                    }
                }
            }
        }
    }

    /// Steps until every queued bit is sent and nothing has been received for `quiet` cycles
    /// (at most `max` cycles); returns the bytes received. For a bridge that serves the
    /// simulated shell to a real port: simulated time runs only while there is traffic.
    pub fn pump(&mut self, quiet: u64, max: u64) -> Vec<u8> {
        let start = self.cycles;
        let mut idle = 0;
        while idle < quiet && self.cycles - start < max {
            let active = !self.out_bits.is_empty() || self.bit_left > 0 || self.rx_count.is_some();
            self.step();
            idle = if active { 0 } else { idle + 1 };
        }
        self.received.drain(..).collect()
    }

    fn cycles_for(&self, t: Duration) -> u64 {
        (t.as_secs_f64() * self.clock_hz).ceil() as u64
    }
}

impl<P: Pins> Transport for SimTransport<P> {
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), BoardError> {
        for &b in bytes {
            self.out_bits.push_back(false);
            for k in 0..8 {
                self.out_bits.push_back(b >> k & 1 != 0);
            }
            self.out_bits.push_back(true);
        }
        Ok(())
    }
    fn read_byte(&mut self, timeout: Duration) -> Result<Option<u8>, BoardError> {
        let limit = self.cycles + self.cycles_for(timeout);
        loop {
            if let Some(b) = self.received.pop_front() {
                return Ok(Some(b));
            }
            if self.cycles >= limit {
                return Ok(None);
            }
            self.step();
        }
    }
    fn byte_time(&self) -> Duration {
        Duration::from_secs_f64(10.0 * self.divisor as f64 / self.clock_hz)
    }
}

/// What IDENTIFY reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub version: u8,
    pub model_hash: u64,
    pub input_size: usize,
    pub num_classes: usize,
    pub divisor: u32,
    pub timeout_cycles: u32,
    pub max_chunk: usize,
    /// Weight memories the board fills through WEIGHTS before its first frame.
    pub weight_memories: usize,
}

/// What STATUS reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub busy: bool,
    pub frame_loaded: bool,
    pub logits_valid: bool,
    pub error_flags: u8,
    pub frames_done: u32,
    pub last_cycles: u32,
    pub loaded_pixels: usize,
    /// Every weight memory is written (always, on a board without any).
    pub weights_complete: bool,
    /// The weight watermark: every word before (memory, word) was written by a WEIGHTS
    /// message whose CRC checked.
    pub weights_at: (usize, usize),
}

/// Counters of what went wrong on the link and was recovered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub requests: usize,
    pub retries: usize,
    pub bytes_sent: usize,
    pub bytes_received: usize,
    pub crc_errors: usize,
    pub timeouts: usize,
    pub error_replies: usize,
}

/// Timeouts and retries.
#[derive(Clone, Debug)]
pub struct LinkConfig {
    /// Attempts after the first for one request.
    pub retries: usize,
    /// Wait for the first byte of a reply.
    pub reply_timeout: Duration,
    /// Wait between two bytes of a reply.
    pub byte_timeout: Duration,
    /// Quiet time that ends a flush after a failure (longer than the board's inter-byte timeout
    /// plus an error reply).
    pub silence: Duration,
    /// Longest wait for a frame to finish.
    pub frame_timeout: Duration,
}

impl LinkConfig {
    /// Defaults from the byte time: the board's default inter-byte timeout is 64 byte times.
    pub fn for_transport(t: &dyn Transport) -> Self {
        let b = t.byte_time();
        let l = t.latency();
        LinkConfig {
            retries: 4,
            reply_timeout: b * 200 + l,
            byte_timeout: b * 20 + l,
            silence: b * 100 + l,
            frame_timeout: b * 100_000 + l * 20,
        }
    }
}

/// A board behind a transport.
pub struct Board<T: Transport> {
    pub link: T,
    pub cfg: LinkConfig,
    pub stats: LinkStats,
    max_chunk: usize,
}

fn u16le(b: &[u8], i: usize) -> u16 {
    b[i] as u16 | (b[i + 1] as u16) << 8
}
fn u32le(b: &[u8], i: usize) -> u32 {
    u16le(b, i) as u32 | (u16le(b, i + 2) as u32) << 16
}

/// Error replies that mean the request was damaged on the way: worth a retry.
fn transient(code: u8) -> bool {
    matches!(code, err::CRC | err::LENGTH | err::COMMAND | err::TIMEOUT)
}

impl<T: Transport> Board<T> {
    pub fn new(link: T) -> Self {
        let cfg = LinkConfig::for_transport(&link);
        Board {
            link,
            cfg,
            stats: LinkStats::default(),
            max_chunk: 64,
        }
    }

    /// Reads and drops bytes until the line has been quiet for `silence`.
    pub fn flush(&mut self) -> Result<(), BoardError> {
        let deadline = Instant::now() + self.cfg.silence * 50 + Duration::from_secs(2);
        while self.link.read_byte(self.cfg.silence)?.is_some() {
            self.stats.bytes_received += 1;
            if Instant::now() > deadline {
                return Err(BoardError::Protocol("the board never stops sending".into()));
            }
        }
        Ok(())
    }

    /// Reads one reply (or fails on a timeout or a bad reply).
    /// `sent` bytes were just written: the wait for the first byte includes their wire time.
    fn read_reply(&mut self, max_payload: usize, sent: usize) -> Result<Reply, String> {
        let mut dec = Decoder::new(max_payload.max(2));
        let mut timeout = self.cfg.reply_timeout + self.link.byte_time() * sent as u32;
        // Bytes that cannot start a reply are skipped, but not forever.
        let limit = max_payload + 64;
        loop {
            let b = match self.link.read_byte(timeout) {
                Ok(Some(b)) => b,
                Ok(None) => {
                    self.stats.timeouts += 1;
                    return Err(if dec.in_reply() {
                        "reply cut short (timeout between bytes)".into()
                    } else {
                        "no reply (timeout)".into()
                    });
                }
                Err(e) => return Err(e.to_string()),
            };
            self.stats.bytes_received += 1;
            timeout = self.cfg.byte_timeout;
            match dec.push(b) {
                Some(Ok(r)) => return Ok(r),
                Some(Err(e)) => {
                    self.stats.crc_errors += 1;
                    return Err(e.to_string());
                }
                None => {
                    if dec.skipped > limit {
                        return Err("garbage instead of a reply".into());
                    }
                }
            }
        }
    }

    /// One request with retries. Returns the good reply's payload of length `expect_len`
    /// (when given), or the board's error code after which retrying makes no sense.
    fn transact(
        &mut self,
        command: u8,
        payload: &[u8],
        expect_len: Option<usize>,
        max_payload: usize,
        retries: usize,
    ) -> Result<Vec<u8>, BoardError> {
        let req = encode_request(command, payload);
        let mut last = String::new();
        for attempt in 0..=retries {
            if attempt > 0 {
                self.stats.retries += 1;
                self.flush()?;
            }
            self.stats.requests += 1;
            self.stats.bytes_sent += req.len();
            self.link.write_all(&req)?;
            match self.read_reply(max_payload, req.len()) {
                Ok(r) if r.code == REPLY_ERROR => {
                    self.stats.error_replies += 1;
                    if r.payload.len() != 2 {
                        last = format!("error reply of {} bytes", r.payload.len());
                        continue;
                    }
                    let code = r.payload[0];
                    if transient(code) {
                        last = error_name(code);
                        continue;
                    }
                    return Err(BoardError::Rejected {
                        command: command_name(command),
                        code,
                    });
                }
                Ok(r) if r.code == command | 0x80 => {
                    if let Some(n) = expect_len {
                        if r.payload.len() != n {
                            last = format!(
                                "{} reply of {} bytes, expected {n}",
                                command_name(command),
                                r.payload.len()
                            );
                            continue;
                        }
                    }
                    return Ok(r.payload);
                }
                Ok(r) => last = format!("reply code {:#04x} to {}", r.code, command_name(command)),
                Err(e) => last = e,
            }
        }
        Err(BoardError::NoReply {
            command: command_name(command),
            attempts: retries + 1,
            last,
        })
    }

    pub fn identify(&mut self) -> Result<Identity, BoardError> {
        let p = self.transact(
            cmd::IDENTIFY,
            &[],
            Some(IDENTIFY_LEN),
            IDENTIFY_LEN,
            self.cfg.retries,
        )?;
        let id = Identity {
            version: p[0],
            model_hash: u32le(&p, 1) as u64 | (u32le(&p, 5) as u64) << 32,
            input_size: u16le(&p, 9) as usize,
            num_classes: u16le(&p, 11) as usize,
            divisor: u16le(&p, 13) as u32,
            timeout_cycles: u32le(&p, 15),
            max_chunk: u16le(&p, 19) as usize,
            weight_memories: u16le(&p, 21) as usize,
        };
        if id.version != PROTOCOL_VERSION {
            return Err(BoardError::Identity(format!(
                "the board speaks protocol version {}, this host {PROTOCOL_VERSION}",
                id.version
            )));
        }
        // The board's own inter-byte timeout bounds how long a flush must wait.
        if id.divisor > 0 {
            let bytes = id.timeout_cycles as f64 / (10.0 * id.divisor as f64);
            let s = self.link.byte_time().mul_f64(bytes + 40.0) + self.link.latency();
            self.cfg.silence = self.cfg.silence.max(s);
        }
        self.max_chunk = id.max_chunk.clamp(1, 4096);
        Ok(id)
    }

    pub fn status(&mut self) -> Result<Status, BoardError> {
        let p = self.transact(
            cmd::STATUS,
            &[],
            Some(STATUS_LEN),
            STATUS_LEN,
            self.cfg.retries,
        )?;
        Ok(Status {
            busy: p[0] & 1 != 0,
            frame_loaded: p[0] & 2 != 0,
            logits_valid: p[0] & 4 != 0,
            error_flags: p[1],
            frames_done: u32le(&p, 2),
            last_cycles: u32le(&p, 6),
            loaded_pixels: u16le(&p, 10) as usize,
            weights_complete: p[0] & 8 != 0,
            weights_at: (u16le(&p, 12) as usize, u16le(&p, 14) as usize),
        })
    }

    /// Writes the weight memories (`mems[sel]`: the words of memory `sel`) with WEIGHTS
    /// messages, from the board's watermark on; returns the words sent. A message is at most
    /// the board's largest payload; a rejected offset (the board lost a message it had
    /// acknowledged, or was reset) restarts from the watermark STATUS reports.
    pub fn load_weights(&mut self, mems: &[Vec<u64>]) -> Result<usize, BoardError> {
        let mut max_words = ((2 + 3 * self.max_chunk).saturating_sub(4) / 8).max(1);
        let (mut sel, mut adr) = self.status()?.weights_at;
        let mut sent = 0usize;
        let mut restarts = 0usize;
        while sel < mems.len() {
            let mem = &mems[sel];
            if adr >= mem.len() {
                return Err(BoardError::Protocol(format!(
                    "the board's weight watermark is word {adr} of memory {sel}, which has {}",
                    mem.len()
                )));
            }
            let n = max_words.min(mem.len() - adr);
            let mut payload = Vec::with_capacity(4 + 8 * n);
            payload.extend((sel as u16).to_le_bytes());
            payload.extend((adr as u16).to_le_bytes());
            for w in &mem[adr..adr + n] {
                payload.extend(w.to_le_bytes());
            }
            let p = match self.transact(cmd::WEIGHTS, &payload, Some(4), 4, self.cfg.retries) {
                Ok(p) => p,
                Err(BoardError::NoReply { .. }) if n > 4 => {
                    max_words = (n / 4).max(4);
                    continue;
                }
                Err(BoardError::Rejected {
                    code: err::OFFSET, ..
                }) if restarts < self.cfg.retries => {
                    restarts += 1;
                    (sel, adr) = self.status()?.weights_at;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let want = if adr + n == mem.len() {
                (sel + 1, 0)
            } else {
                (sel, adr + n)
            };
            let got = (u16le(&p, 0) as usize, u16le(&p, 2) as usize);
            if got != want {
                return Err(BoardError::Protocol(format!(
                    "WEIGHTS of memory {sel} words {adr}..{} acknowledged watermark {got:?}, \
                     expected {want:?}",
                    adr + n
                )));
            }
            (sel, adr) = got;
            sent += n;
        }
        Ok(sent)
    }

    /// Sends a frame (raw RGB, 3 bytes a pixel) in LOAD chunks from pixel `from`.
    pub fn load(&mut self, rgb: &[u8], from: usize) -> Result<(), BoardError> {
        let pixels = rgb.len() / 3;
        let mut at = from;
        while at < pixels {
            let n = self.max_chunk.min(pixels - at);
            let mut payload = vec![at as u8, (at >> 8) as u8];
            payload.extend_from_slice(&rgb[3 * at..3 * (at + n)]);
            let p = match self.transact(cmd::LOAD, &payload, Some(2), 2, self.cfg.retries) {
                Ok(p) => p,
                // A noisy line: shorter messages get through more often (down to 16 pixels).
                Err(BoardError::NoReply { .. }) if n > 16 => {
                    self.max_chunk = (n / 4).max(16);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let loaded = u16le(&p, 0) as usize;
            if loaded != at + n {
                return Err(BoardError::Protocol(format!(
                    "LOAD of pixels {at}..{} acknowledged {loaded} pixels",
                    at + n
                )));
            }
            at += n;
        }
        Ok(())
    }

    /// Starts the loaded frame; `before` is the frames-done count before. A START whose reply
    /// was lost is detected through STATUS, so a frame never runs twice.
    pub fn start(&mut self, before: u32) -> Result<(), BoardError> {
        let mut last = String::new();
        for attempt in 0..=self.cfg.retries {
            if attempt > 0 {
                self.stats.retries += 1;
                self.flush()?;
                let s = self.status()?;
                if s.busy || s.frames_done != before {
                    return Ok(());
                }
            }
            match self.transact(cmd::START, &[], Some(0), 0, 0) {
                Ok(_) => return Ok(()),
                Err(BoardError::NoReply { last: l, .. }) => last = l,
                Err(e) => return Err(e),
            }
        }
        Err(BoardError::NoReply {
            command: "START",
            attempts: self.cfg.retries + 1,
            last,
        })
    }

    /// Waits for frame number `before + 1` to finish; returns its cycle count.
    pub fn wait(&mut self, before: u32) -> Result<u32, BoardError> {
        let t0 = Instant::now();
        let mut polls = 0usize;
        loop {
            let s = self.status()?;
            if !s.busy && s.frames_done == before.wrapping_add(1) {
                return Ok(s.last_cycles);
            }
            if !s.busy && s.frames_done == before {
                return Err(BoardError::Protocol(
                    "the frame was started but the board is idle with no new frame done".into(),
                ));
            }
            polls += 1;
            // Simulated time advances only by polling: bound by polls as well as wall time.
            if t0.elapsed() > self.cfg.frame_timeout.max(Duration::from_secs(5)) && polls > 4
                || polls > 1_000_000
            {
                return Err(BoardError::Stuck(t0.elapsed()));
            }
        }
    }

    pub fn read_logits(&mut self, classes: usize) -> Result<Vec<u16>, BoardError> {
        let p = self.transact(
            cmd::READ_LOGITS,
            &[],
            Some(2 * classes),
            2 * classes,
            self.cfg.retries,
        )?;
        Ok((0..classes).map(|c| u16le(&p, 2 * c)).collect())
    }

    /// Loads, runs and reads back one frame: (logits, cycles the board counted).
    pub fn run_frame(&mut self, rgb: &[u8], classes: usize) -> Result<(Vec<u16>, u32), BoardError> {
        let s = self.status()?;
        if s.busy {
            return Err(BoardError::Rejected {
                command: "LOAD",
                code: err::BUSY,
            });
        }
        match self.load(rgb, 0) {
            Err(BoardError::Rejected {
                code: err::OFFSET, ..
            }) => self.load(rgb, 0)?,
            r => r?,
        }
        self.start(s.frames_done)?;
        let cycles = self.wait(s.frames_done)?;
        let logits = self.read_logits(classes)?;
        Ok((logits, cycles))
    }

    /// Checks IDENTIFY against a bundle's manifest.
    pub fn check_identity(
        &mut self,
        m: &squeezeflow_sim::hw::bundle::Manifest,
    ) -> Result<Identity, BoardError> {
        let id = self.identify()?;
        let want = squeezeflow_sim::hw::shell::parse_hash(&m.model_hash)
            .map_err(|e| BoardError::Identity(e.to_string()))?;
        if id.model_hash != want {
            return Err(BoardError::Identity(format!(
                "the board runs the model with hash {:016x}, the bundle has {want:016x} ({}): \
                 load the bundle's bitstream",
                id.model_hash, m.network
            )));
        }
        if id.weight_memories != m.load.len() {
            return Err(BoardError::Identity(format!(
                "the board has {} weight memories to load, the bundle {}: load the bundle's \
                 bitstream",
                id.weight_memories,
                m.load.len()
            )));
        }
        if id.input_size != m.input_size || id.num_classes != m.num_classes {
            return Err(BoardError::Identity(format!(
                "the board takes {0}x{0} frames with {1} classes, the bundle {2}x{2} with {3}",
                id.input_size, id.num_classes, m.input_size, m.num_classes
            )));
        }
        Ok(id)
    }
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
) -> anyhow::Result<squeezeflow_sim::hw::bundle::WrittenDesign> {
    use squeezeflow_sim::hw::shell::{parse_hash, write_shell, ShellConfig};
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
        crate::accel::print_frame(m, &r);
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
