//! [`Board`]: the protocol's commands (IDENTIFY, STATUS, WEIGHTS, LOAD, START, READ_LOGITS)
//! over a [`Transport`], with timeouts, retries and link statistics, and what the board reports
//! ([`Identity`], [`Status`]).

use std::time::{Duration, Instant};

use squeezeflow_hw::shell::{
    cmd, err, ERROR_REPLY_LEN, IDENTIFY_LEN, LOAD_REPLY_LEN, PROTOCOL_VERSION, REPLY_ERROR,
    REPLY_OK, STATUS_LEN, WEIGHTS_REPLY_LEN,
};

use super::codec::{command_name, encode_request, error_name, Decoder, Reply};
use super::transport::Transport;
use super::BoardError;

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

/// The longest inter-byte timeout a board may report, in byte times (see `identify`).
pub const MAX_BOARD_TIMEOUT_BYTES: f64 = 4096.0;

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
                    if r.payload.len() != ERROR_REPLY_LEN {
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
                Ok(r) if r.code == command | REPLY_OK => {
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
        // The board's own inter-byte timeout bounds how long a flush must wait; one past
        // MAX_BOARD_TIMEOUT_BYTES (a squeezeflow shell's is 64 byte times) is not trusted, or a
        // lying board could make every flush wait for hours.
        if id.divisor == 0 {
            return Err(BoardError::Identity(
                "the board reports a UART divisor of 0".into(),
            ));
        }
        let bytes = id.timeout_cycles as f64 / (10.0 * id.divisor as f64);
        if bytes > MAX_BOARD_TIMEOUT_BYTES {
            return Err(BoardError::Identity(format!(
                "the board reports an inter-byte timeout of {bytes:.0} byte times (at most \
                 {MAX_BOARD_TIMEOUT_BYTES} are trusted): not a squeezeflow shell?"
            )));
        }
        let s = self.link.byte_time().mul_f64(bytes + 40.0) + self.link.latency();
        self.cfg.silence = self.cfg.silence.max(s);
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
            let p = match self.transact(
                cmd::WEIGHTS,
                &payload,
                Some(WEIGHTS_REPLY_LEN),
                WEIGHTS_REPLY_LEN,
                self.cfg.retries,
            ) {
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
            let p = match self.transact(
                cmd::LOAD,
                &payload,
                Some(LOAD_REPLY_LEN),
                2,
                self.cfg.retries,
            ) {
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
        m: &squeezeflow_hw::bundle::Manifest,
    ) -> Result<Identity, BoardError> {
        let id = self.identify()?;
        let want = squeezeflow_hw::shell::parse_hash(&m.model_hash)
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

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::time::Duration;

    use super::{Board, BoardError, Transport, IDENTIFY_LEN, PROTOCOL_VERSION};
    use squeezeflow_hw::shell::{cmd, crc16, REPLY_OK, SYNC_REPLY};

    /// A board that answers every request with one canned reply.
    struct Canned {
        reply: Vec<u8>,
        queue: VecDeque<u8>,
    }
    impl Transport for Canned {
        fn write_all(&mut self, _: &[u8]) -> Result<(), BoardError> {
            self.queue.extend(&self.reply);
            Ok(())
        }
        fn read_byte(&mut self, _: Duration) -> Result<Option<u8>, BoardError> {
            Ok(self.queue.pop_front())
        }
        fn byte_time(&self) -> Duration {
            Duration::from_micros(87)
        }
    }

    /// An IDENTIFY reply with the given divisor and inter-byte timeout (in clocks).
    fn identify_reply(divisor: u16, timeout: u32) -> Vec<u8> {
        let mut p = vec![PROTOCOL_VERSION];
        p.extend([0u8; 8]); // model hash
        p.extend(224u16.to_le_bytes());
        p.extend(1000u16.to_le_bytes());
        p.extend(divisor.to_le_bytes());
        p.extend(timeout.to_le_bytes());
        p.extend(64u16.to_le_bytes());
        p.extend(0u16.to_le_bytes());
        assert_eq!(p.len(), IDENTIFY_LEN);
        let mut body = vec![cmd::IDENTIFY | REPLY_OK];
        body.extend((p.len() as u16).to_le_bytes());
        body.extend(&p);
        let crc = crc16(&body);
        let mut r = vec![SYNC_REPLY];
        r.extend(body);
        r.extend(crc.to_be_bytes());
        r
    }

    /// A board reporting an enormous timeout (a 10-hour wait per flush) or a divisor of 0 is
    /// refused at IDENTIFY; a squeezeflow shell's (64 byte times) is taken.
    #[test]
    fn a_boards_reported_timeout_is_bounded() {
        let identify = |divisor, timeout| {
            let link = Canned {
                reply: identify_reply(divisor, timeout),
                queue: VecDeque::new(),
            };
            Board::new(link).identify()
        };
        assert!(identify(434, 434 * 640).is_ok());
        let e = identify(4, u32::MAX).unwrap_err().to_string();
        assert!(e.contains("inter-byte timeout"), "{e}");
        let e = identify(0, 1000).unwrap_err().to_string();
        assert!(e.contains("divisor of 0"), "{e}");
    }
}
