//! The board shell: the accelerator graph behind a UART and a framed protocol engine
//! (`docs/protocol.md` is the protocol's one description).
//!
//! [`Shell`] is a wiring-only parent with two children: the network [`Graph`] (whose stateful
//! nodes sit one level down) and [`CoreWrap`], a wiring-only wrapper around [`ShellCore`], the one
//! stateful leaf of the shell. The wrapper puts the core at the same depth as the graph's nodes,
//! so every register of the design sees the clock edge in the same rust-hdl settle pass.
//!
//! `ShellCore` holds the UART receiver and transmitter (`divisor` clocks per bit, 8N1), the
//! request parser with its running CRC-16/CCITT-FALSE and inter-byte timeout, the frame buffer
//! (`sqf_ram`, one 24-bit RGB word per pixel, written only by CRC-checked LOAD messages: a frame
//! runs only when every pixel was loaded by a message whose CRC was good), the streamer into the
//! graph, the logit buffer (`sqf_ram`, 16-bit) and the reply sequencer. Its `update()` is the
//! cycle-exact model of its Verilog.

use rust_hdl::prelude::*;

use crate::axis::{AxisIn, AxisNames, AxisOut};
use crate::bundle::MemFiles;
use crate::graph::Graph;
use crate::leaf::abits;
use crate::HwError;

/// Protocol version reported by IDENTIFY.
pub const PROTOCOL_VERSION: u8 = 2;
/// First byte of a request.
pub const SYNC_REQUEST: u8 = 0xA5;
/// First byte of a reply.
pub const SYNC_REPLY: u8 = 0x5A;
/// The code byte of an error reply (a good reply's code is the command | 0x80).
pub const REPLY_ERROR: u8 = 0xFF;

/// Commands.
pub mod cmd {
    pub const IDENTIFY: u8 = 1;
    pub const LOAD: u8 = 2;
    pub const START: u8 = 3;
    pub const STATUS: u8 = 4;
    pub const READ_LOGITS: u8 = 5;
    pub const WEIGHTS: u8 = 6;
}

/// Error codes of an error reply.
pub mod err {
    pub const CRC: u8 = 1;
    pub const LENGTH: u8 = 2;
    pub const COMMAND: u8 = 3;
    pub const TIMEOUT: u8 = 4;
    pub const OFFSET: u8 = 5;
    pub const RANGE: u8 = 6;
    pub const BUSY: u8 = 7;
    pub const NOT_LOADED: u8 = 8;
    pub const NO_LOGITS: u8 = 9;
}

/// Sticky error flags (STATUS byte 1, cleared by each STATUS).
pub mod flag {
    pub const CRC: u8 = 1;
    pub const LENGTH: u8 = 2;
    pub const COMMAND: u8 = 4;
    pub const TIMEOUT: u8 = 8;
    pub const FRAMING: u8 = 16;
    pub const OVERRUN: u8 = 32;
    pub const REJECTED: u8 = 64;
    pub const STREAM: u8 = 128;
}

/// Payload bytes of each good reply (LOGITS: 2 per class).
pub const IDENTIFY_LEN: usize = 23;
pub const STATUS_LEN: usize = 16;
pub const WEIGHTS_REPLY_LEN: usize = 4;

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor): one byte.
pub fn crc16_byte(crc: u16, b: u8) -> u16 {
    let mut c = crc ^ ((b as u16) << 8);
    for _ in 0..8 {
        c = if c & 0x8000 != 0 {
            (c << 1) ^ 0x1021
        } else {
            c << 1
        };
    }
    c
}

/// CRC-16/CCITT-FALSE of a byte string (`crc16(b"123456789") == 0x29B1`).
pub fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0xFFFF, |c, &b| crc16_byte(c, b))
}

/// Generation-time parameters of a shell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellConfig {
    /// Clocks per UART bit (clock / baud), at least 4.
    pub divisor: u32,
    /// Clocks of silence inside a message after which it is dropped with a TIMEOUT error.
    pub timeout: u32,
    /// Pixels a LOAD message may carry at most.
    pub max_chunk: u32,
    /// The bundle's model hash (FNV-1a 64 of the model file), reported by IDENTIFY.
    pub model_hash: u64,
    pub input_size: u32,
    pub num_classes: u32,
    /// Words of each weight memory filled through the load port, by number (`wl_sel`): the
    /// WEIGHTS command writes them, and START waits until all are written.
    pub load_depths: Vec<u16>,
}

impl ShellConfig {
    /// A shell for a network with `divisor` clocks per bit; the inter-byte timeout is 64 byte
    /// times, the largest LOAD 256 pixels.
    pub fn new(
        model_hash: u64,
        input_size: usize,
        num_classes: usize,
        divisor: u32,
    ) -> Result<Self, HwError> {
        let c = ShellConfig {
            divisor,
            timeout: divisor.saturating_mul(640),
            max_chunk: 256,
            model_hash,
            input_size: input_size as u32,
            num_classes: num_classes as u32,
            load_depths: Vec::new(),
        };
        c.check()?;
        Ok(c)
    }
    /// The divisor for a clock and a baud rate (rounded to the nearest integer).
    pub fn divisor_for(clock_hz: f64, baud: u32) -> Result<u32, HwError> {
        let d = (clock_hz / baud as f64).round();
        if !(4.0..=65535.0).contains(&d) {
            return Err(HwError::Io(format!(
                "a {baud} baud UART at {:.3} MHz needs {d} clocks per bit: it must be 4..=65535",
                clock_hz / 1e6
            )));
        }
        Ok(d as u32)
    }
    pub fn check(&self) -> Result<(), HwError> {
        let bad = |m: String| Err(HwError::Io(format!("shell: {m}")));
        if !(4..=65535).contains(&self.divisor) {
            return bad(format!("divisor {} is not in 4..=65535", self.divisor));
        }
        if (self.timeout as u64) < 20 * self.divisor as u64 {
            return bad(format!(
                "the timeout ({} clocks) must be at least two byte times",
                self.timeout
            ));
        }
        if self.pixels() == 0 || self.pixels() > 65535 {
            return bad(format!(
                "{0}x{0} pixels do not fit the 16-bit offsets",
                self.input_size
            ));
        }
        if self.num_classes == 0 || 2 * self.num_classes as usize > 65535 {
            return bad(format!("{} classes do not fit a reply", self.num_classes));
        }
        if self.max_chunk < 4 || self.max_chunk > 20000 {
            return bad(format!("max_chunk {} is not in 4..=20000", self.max_chunk));
        }
        if self.load_depths.len() >= 65535 || self.load_depths.contains(&0) {
            return bad(format!(
                "{} weight memories (at most 65,534, none empty)",
                self.load_depths.len()
            ));
        }
        Ok(())
    }
    pub fn pixels(&self) -> usize {
        (self.input_size * self.input_size) as usize
    }
    /// The largest request payload (a LOAD of `max_chunk` pixels).
    pub fn max_payload(&self) -> u32 {
        2 + 3 * self.max_chunk
    }
    /// Weight words a WEIGHTS message may carry at most (8 bytes each after 4 of header).
    pub fn max_words(&self) -> u32 {
        (self.max_payload() - 4) / 8
    }
    /// The IDENTIFY reply's payload.
    pub fn identify_payload(&self) -> Vec<u8> {
        let mut v = vec![PROTOCOL_VERSION];
        v.extend(self.model_hash.to_le_bytes());
        v.extend((self.input_size as u16).to_le_bytes());
        v.extend((self.num_classes as u16).to_le_bytes());
        v.extend((self.divisor as u16).to_le_bytes());
        v.extend(self.timeout.to_le_bytes());
        v.extend((self.max_chunk as u16).to_le_bytes());
        v.extend((self.load_depths.len() as u16).to_le_bytes());
        debug_assert_eq!(v.len(), IDENTIFY_LEN);
        v
    }
    fn reply_len(&self, kind: u8) -> u16 {
        match kind {
            cmd::IDENTIFY => IDENTIFY_LEN as u16,
            cmd::LOAD => 2,
            cmd::START => 0,
            cmd::STATUS => STATUS_LEN as u16,
            cmd::READ_LOGITS => 2 * self.num_classes as u16,
            cmd::WEIGHTS => WEIGHTS_REPLY_LEN as u16,
            _ => 2,
        }
    }
}

// Parser states.
const P_IDLE: u8 = 0;
const P_CMD: u8 = 1;
const P_LEN0: u8 = 2;
const P_LEN1: u8 = 3;
const P_PAY: u8 = 4;
const P_CRC0: u8 = 5;
const P_CRC1: u8 = 6;
const P_DRAIN: u8 = 7;
const P_RESP: u8 = 8;

/// The core's registers and memories (the Rust model).
#[derive(Clone, Debug, Default)]
struct CoreState {
    // UART receiver
    rx_s1: bool,
    rx_s2: bool,
    rx_st: u8,
    rx_cnt: u16,
    rx_bit: u8,
    rx_sh: u8,
    rx_valid: bool,
    rx_data: u8,
    // UART transmitter
    tx_busy: bool,
    tx_cnt: u16,
    tx_bit: u8,
    tx_sh: u16,
    tx_out: bool,
    // parser
    p_st: u8,
    cmd: u8,
    len: u16,
    cnt: u16,
    crc: u16,
    perr: u8,
    tmo: u32,
    off_lo: u8,
    waddr: u32,
    phase: u8,
    pbuf: u16,
    // frame control
    loaded: u32,
    busy: bool,
    feeding: bool,
    primed: bool,
    pix: u32,
    lidx: u32,
    cyc: u32,
    last_cyc: u32,
    frames_done: u32,
    logits_valid: bool,
    errs: u8,
    // reply sequencer
    r_act: bool,
    r_rdy: bool,
    r_kind: u8,
    r_code: u8,
    r_cmd: u8,
    r_i: u16,
    r_crc: u16,
    // memories' read registers
    fr_rdata: u32,
    lg_rdata: u16,
    // weights: the message's memory and next word, the word being assembled (byte w_ph), the
    // watermark (every word before (wm_sel, wm_adr) in load order was written by a message
    // whose CRC checked), and the load port's registered outputs
    w_sel: u16,
    w_adr: u16,
    w_ph: u8,
    w_buf: u64,
    wm_sel: u16,
    wm_adr: u16,
    wl_v: bool,
    wl_s: u16,
    wl_a: u16,
    wl_d: u64,
}

/// The shell's stateful leaf (see the module documentation).
#[derive(LogicBlock)]
pub struct ShellCore {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub uart_rx: Signal<In, Bit>,
    pub uart_tx: Signal<Out, Bit>,
    /// Pixels into the network (3 lanes: R, G, B).
    pub m_axis: AxisOut,
    /// Logits from the network (2 lanes: a little-endian `u16`).
    pub s_axis: AxisIn,
    /// The network's weight-load port ([`crate::load`]), driven from WEIGHTS messages.
    pub wl_valid: Signal<Out, Bit>,
    pub wl_sel: Signal<Out, Bits<16>>,
    pub wl_addr: Signal<Out, Bits<16>>,
    pub wl_data: Signal<Out, Bits<64>>,
    _cfg: ShellConfig,
    _st: Box<CoreState>,
    /// The frame buffer (one RGB word per pixel) and the logit buffer.
    _fr: Vec<u32>,
    _lg: Vec<u16>,
}

impl ShellCore {
    pub fn new(cfg: &ShellConfig) -> Self {
        let st = CoreState {
            rx_s1: true,
            rx_s2: true,
            tx_out: true,
            ..Default::default()
        };
        ShellCore {
            clock: Default::default(),
            reset: Default::default(),
            uart_rx: Default::default(),
            uart_tx: Default::default(),
            m_axis: AxisOut::new(3),
            s_axis: AxisIn::new(2),
            wl_valid: Default::default(),
            wl_sel: Default::default(),
            wl_addr: Default::default(),
            wl_data: Default::default(),
            _cfg: cfg.clone(),
            _st: Box::new(st),
            _fr: vec![0; cfg.pixels()],
            _lg: vec![0; cfg.num_classes as usize],
        }
    }

    fn reset_state(&mut self) {
        let (frd, lrd) = (self._st.fr_rdata, self._st.lg_rdata);
        *self._st = CoreState {
            fr_rdata: frd,
            lg_rdata: lrd,
            rx_s1: true,
            rx_s2: true,
            tx_out: true,
            ..Default::default()
        };
    }

    fn header_err(c: u8, l: u16, busy: bool) -> u8 {
        if c == 0 || c > cmd::WEIGHTS {
            err::COMMAND
        } else if c == cmd::WEIGHTS {
            if l < 12 || !(l - 4).is_multiple_of(8) {
                err::LENGTH
            } else if busy {
                err::BUSY
            } else {
                0
            }
        } else if c == cmd::LOAD {
            if l < 5 {
                err::LENGTH
            } else if busy {
                err::BUSY
            } else {
                0
            }
        } else if l != 0 {
            err::LENGTH
        } else {
            0
        }
    }

    fn err_flag(code: u8) -> u8 {
        match code {
            err::CRC => flag::CRC,
            err::LENGTH => flag::LENGTH,
            err::COMMAND => flag::COMMAND,
            err::TIMEOUT => flag::TIMEOUT,
            _ => flag::REJECTED,
        }
    }

    /// The reply byte at index `r_i` (from the old state).
    fn reply_byte(cfg: &ShellConfig, o: &CoreState) -> u8 {
        let len = cfg.reply_len(o.r_kind);
        let i = o.r_i;
        if i == 0 {
            return SYNC_REPLY;
        }
        if i == 1 {
            return if o.r_kind == 0 {
                REPLY_ERROR
            } else {
                o.r_kind | 0x80
            };
        }
        if i == 2 {
            return len as u8;
        }
        if i == 3 {
            return (len >> 8) as u8;
        }
        if i == 4 + len {
            return (o.r_crc >> 8) as u8;
        }
        if i > 4 + len {
            return o.r_crc as u8;
        }
        let j = (i - 4) as usize;
        let c = cfg;
        match o.r_kind {
            cmd::IDENTIFY => c.identify_payload()[j],
            cmd::LOAD => (o.loaded >> (8 * j)) as u8,
            cmd::WEIGHTS => Self::watermark_bytes(o)[j],
            cmd::STATUS => {
                let flags = o.busy as u8
                    | ((o.loaded == c.pixels() as u32) as u8) << 1
                    | (o.logits_valid as u8) << 2
                    | ((o.wm_sel as usize == c.load_depths.len()) as u8) << 3;
                match j {
                    0 => flags,
                    1 => o.r_code,
                    2..=5 => (o.frames_done >> (8 * (j - 2))) as u8,
                    6..=9 => (o.last_cyc >> (8 * (j - 6))) as u8,
                    10 | 11 => (o.loaded >> (8 * (j - 10))) as u8,
                    _ => Self::watermark_bytes(o)[j - 12],
                }
            }
            cmd::READ_LOGITS => {
                if j & 1 == 0 {
                    o.lg_rdata as u8
                } else {
                    (o.lg_rdata >> 8) as u8
                }
            }
            _ => {
                if j == 0 {
                    o.r_code
                } else {
                    o.r_cmd
                }
            }
        }
    }

    /// The weight watermark as a reply carries it: memory, then word (each `u16`, LE).
    fn watermark_bytes(o: &CoreState) -> [u8; 4] {
        let (a, b) = (o.wm_sel.to_le_bytes(), o.wm_adr.to_le_bytes());
        [a[0], a[1], b[0], b[1]]
    }

    /// Words of weight memory `sel` (0 past the last).
    fn depth_of(cfg: &ShellConfig, sel: u16) -> u16 {
        cfg.load_depths.get(sel as usize).copied().unwrap_or(0)
    }

    /// One rising clock edge (not in reset).
    fn edge(&mut self) {
        let o = (*self._st).clone();
        let c = &self._cfg;
        let div = c.divisor as u16;
        let pixels = c.pixels() as u32;
        let classes = c.num_classes;
        let rx_in = self.uart_rx.val();
        let tready = self.m_axis.tready.val();
        let lg_valid = self.s_axis.tvalid.val();
        let lg_last = self.s_axis.tlast.val();
        let lg_data = self.s_axis.tdata[0].val().index() as u16
            | (self.s_axis.tdata[1].val().index() as u16) << 8;
        let s = &mut *self._st;
        let mut set_bits = 0u8;
        let mut status_clear = false;

        // --- UART receiver
        s.rx_s1 = rx_in;
        s.rx_s2 = o.rx_s1;
        s.rx_valid = false;
        match o.rx_st {
            0 => {
                if !o.rx_s2 {
                    s.rx_st = 1;
                    s.rx_cnt = 0;
                }
            }
            1 => {
                if o.rx_cnt == div / 2 - 1 {
                    if o.rx_s2 {
                        s.rx_st = 0;
                    } else {
                        s.rx_st = 2;
                        s.rx_cnt = 0;
                        s.rx_bit = 0;
                    }
                } else {
                    s.rx_cnt = o.rx_cnt + 1;
                }
            }
            2 => {
                if o.rx_cnt == div - 1 {
                    s.rx_cnt = 0;
                    s.rx_sh = (o.rx_sh >> 1) | (o.rx_s2 as u8) << 7;
                    if o.rx_bit == 7 {
                        s.rx_st = 3;
                    } else {
                        s.rx_bit = o.rx_bit + 1;
                    }
                } else {
                    s.rx_cnt = o.rx_cnt + 1;
                }
            }
            _ => {
                if o.rx_cnt == div - 1 {
                    s.rx_st = 0;
                    if o.rx_s2 {
                        s.rx_valid = true;
                        s.rx_data = o.rx_sh;
                    } else {
                        set_bits |= flag::FRAMING;
                    }
                } else {
                    s.rx_cnt = o.rx_cnt + 1;
                }
            }
        }

        // --- parser
        let mut reply: Option<(u8, u8)> = None;
        let mut start = false;
        let mut fr_write: Option<(u32, u32)> = None;
        let mut wl_write: Option<(u16, u16, u64)> = None;
        match o.p_st {
            P_IDLE => {
                s.tmo = 0;
                if o.rx_valid && o.rx_data == SYNC_REQUEST {
                    s.p_st = P_CMD;
                    s.crc = 0xFFFF;
                    s.perr = 0;
                }
            }
            P_RESP => {
                s.tmo = 0;
                if o.rx_valid {
                    set_bits |= flag::OVERRUN;
                }
                if !o.r_act {
                    s.p_st = P_IDLE;
                }
            }
            _ => {
                if o.rx_valid {
                    let b = o.rx_data;
                    let crc = crc16_byte(o.crc, b);
                    s.tmo = 0;
                    s.crc = crc;
                    match o.p_st {
                        P_CMD => {
                            s.cmd = b;
                            s.p_st = P_LEN0;
                        }
                        P_LEN0 => {
                            s.len = b as u16;
                            s.p_st = P_LEN1;
                        }
                        P_LEN1 => {
                            let l = (b as u16) << 8 | (o.len & 0xff);
                            s.len = l;
                            s.cnt = 0;
                            s.phase = 0;
                            if l as u32 > c.max_payload() {
                                s.p_st = P_DRAIN;
                            } else {
                                s.perr = Self::header_err(o.cmd, l, o.busy);
                                s.p_st = if l == 0 { P_CRC0 } else { P_PAY };
                            }
                        }
                        P_PAY => {
                            if o.cmd == cmd::LOAD && o.perr == 0 {
                                if o.cnt == 0 {
                                    s.off_lo = b;
                                } else if o.cnt == 1 {
                                    let off = (b as u32) << 8 | o.off_lo as u32;
                                    if off > o.loaded {
                                        s.perr = err::OFFSET;
                                    } else {
                                        s.waddr = off;
                                        if off < o.loaded {
                                            s.loaded = off;
                                        }
                                    }
                                } else if o.phase == 0 {
                                    s.pbuf = (o.pbuf & 0xff00) | b as u16;
                                    s.phase = 1;
                                } else if o.phase == 1 {
                                    s.pbuf = (o.pbuf & 0x00ff) | (b as u16) << 8;
                                    s.phase = 2;
                                } else {
                                    s.phase = 0;
                                    if o.waddr < pixels {
                                        fr_write =
                                            Some((o.waddr, (b as u32) << 16 | o.pbuf as u32));
                                        s.waddr = o.waddr + 1;
                                    } else {
                                        s.perr = err::RANGE;
                                    }
                                }
                            }
                            if o.cmd == cmd::WEIGHTS && o.perr == 0 {
                                let n_mem = c.load_depths.len();
                                match o.cnt {
                                    0 | 2 => s.off_lo = b,
                                    1 => {
                                        let sel = (b as u16) << 8 | o.off_lo as u16;
                                        if sel as usize >= n_mem {
                                            s.perr = err::RANGE;
                                        } else {
                                            s.w_sel = sel;
                                        }
                                    }
                                    3 => {
                                        let adr = (b as u16) << 8 | o.off_lo as u16;
                                        let at = (o.w_sel, adr);
                                        if at > (o.wm_sel, o.wm_adr) {
                                            s.perr = err::OFFSET;
                                        } else if adr >= Self::depth_of(c, o.w_sel) {
                                            s.perr = err::RANGE;
                                        } else {
                                            s.w_adr = adr;
                                            s.w_ph = 0;
                                            if at < (o.wm_sel, o.wm_adr) {
                                                s.wm_sel = o.w_sel;
                                                s.wm_adr = adr;
                                            }
                                        }
                                    }
                                    _ => {
                                        if o.w_ph < 7 {
                                            let keep = if o.w_ph == 0 { 0 } else { o.w_buf };
                                            s.w_buf = keep | (b as u64) << (8 * o.w_ph);
                                            s.w_ph = o.w_ph + 1;
                                        } else {
                                            s.w_ph = 0;
                                            if o.w_adr < Self::depth_of(c, o.w_sel) {
                                                wl_write = Some((
                                                    o.w_sel,
                                                    o.w_adr,
                                                    o.w_buf | (b as u64) << 56,
                                                ));
                                                s.w_adr = o.w_adr + 1;
                                            } else {
                                                s.perr = err::RANGE;
                                            }
                                        }
                                    }
                                }
                            }
                            s.cnt = o.cnt.wrapping_add(1);
                            if o.cnt.wrapping_add(1) == o.len {
                                s.p_st = P_CRC0;
                            }
                        }
                        P_CRC0 => s.p_st = P_CRC1,
                        P_CRC1 => {
                            if crc != 0 {
                                reply = Some((0, err::CRC));
                            } else if o.perr != 0 {
                                reply = Some((0, o.perr));
                            } else {
                                match o.cmd {
                                    cmd::LOAD => {
                                        if o.phase != 0 {
                                            reply = Some((0, err::LENGTH));
                                        } else {
                                            s.loaded = o.waddr;
                                            reply = Some((cmd::LOAD, 0));
                                        }
                                    }
                                    cmd::WEIGHTS => {
                                        // Complete memories move the watermark to the next.
                                        if o.w_adr == Self::depth_of(c, o.w_sel) {
                                            s.wm_sel = o.w_sel + 1;
                                            s.wm_adr = 0;
                                        } else {
                                            s.wm_sel = o.w_sel;
                                            s.wm_adr = o.w_adr;
                                        }
                                        reply = Some((cmd::WEIGHTS, 0));
                                    }
                                    cmd::START => {
                                        if o.busy {
                                            reply = Some((0, err::BUSY));
                                        } else if o.loaded != pixels
                                            || o.wm_sel as usize != c.load_depths.len()
                                        {
                                            reply = Some((0, err::NOT_LOADED));
                                        } else {
                                            start = true;
                                            reply = Some((cmd::START, 0));
                                        }
                                    }
                                    cmd::STATUS => {
                                        status_clear = true;
                                        reply = Some((cmd::STATUS, o.errs));
                                    }
                                    cmd::READ_LOGITS => {
                                        if o.busy {
                                            reply = Some((0, err::BUSY));
                                        } else if !o.logits_valid {
                                            reply = Some((0, err::NO_LOGITS));
                                        } else {
                                            reply = Some((cmd::READ_LOGITS, 0));
                                        }
                                    }
                                    _ => reply = Some((cmd::IDENTIFY, 0)),
                                }
                            }
                        }
                        _ => {}
                    }
                } else if o.tmo == c.timeout - 1 {
                    s.tmo = 0;
                    reply = Some((
                        0,
                        if o.p_st == P_DRAIN {
                            err::LENGTH
                        } else {
                            err::TIMEOUT
                        },
                    ));
                } else {
                    s.tmo = o.tmo + 1;
                }
            }
        }
        if let Some((kind, code)) = reply {
            s.r_act = true;
            s.r_rdy = false;
            s.r_kind = kind;
            s.r_code = code;
            s.r_cmd = o.cmd;
            s.r_i = 0;
            s.r_crc = 0xFFFF;
            s.p_st = P_RESP;
            if kind == 0 {
                set_bits |= Self::err_flag(code);
            }
        }

        // --- reply sequencer and UART transmitter
        let rlen = c.reply_len(o.r_kind);
        let mut tx_load: Option<u8> = None;
        if o.r_act {
            if !o.r_rdy {
                s.r_rdy = true;
            } else if !o.tx_busy {
                let b = Self::reply_byte(c, &o);
                tx_load = Some(b);
                if o.r_i >= 1 && o.r_i < 4 + rlen {
                    s.r_crc = crc16_byte(o.r_crc, b);
                }
                s.r_i = o.r_i + 1;
                s.r_rdy = false;
                if o.r_i == 5 + rlen {
                    s.r_act = false;
                }
            }
        }
        if let Some(b) = tx_load {
            s.tx_busy = true;
            s.tx_sh = 0x100 | b as u16;
            s.tx_out = false;
            s.tx_cnt = 0;
            s.tx_bit = 0;
        } else if o.tx_busy {
            if o.tx_cnt == div - 1 {
                s.tx_cnt = 0;
                if o.tx_bit == 9 {
                    s.tx_busy = false;
                } else {
                    s.tx_out = o.tx_sh & 1 != 0;
                    s.tx_sh = 0x100 | (o.tx_sh >> 1);
                    s.tx_bit = o.tx_bit + 1;
                }
            } else {
                s.tx_cnt = o.tx_cnt + 1;
            }
        }

        // --- streamer, cycle counter, logit capture
        let fire = o.feeding && o.primed && tready;
        let last = o.pix == pixels - 1;
        let fr_raddr = if fire && !last { o.pix + 1 } else { o.pix };
        s.fr_rdata = self._fr[fr_raddr as usize];
        let lg_raddr = if o.r_i >= 4 && ((o.r_i - 4) as u32) < 2 * classes {
            ((o.r_i - 4) >> 1) as usize
        } else {
            0
        };
        s.lg_rdata = self._lg[lg_raddr];
        if let Some((a, d)) = fr_write {
            self._fr[a as usize] = d;
        }
        s.wl_v = wl_write.is_some();
        if let Some((sel, a, d)) = wl_write {
            s.wl_s = sel;
            s.wl_a = a;
            s.wl_d = d;
        }
        if start {
            s.busy = true;
            s.feeding = true;
            s.primed = false;
            s.pix = 0;
            s.cyc = 0;
            s.lidx = 0;
            s.loaded = 0;
            s.logits_valid = false;
        } else {
            if o.feeding {
                s.primed = true;
                if fire {
                    if last {
                        s.feeding = false;
                        s.primed = false;
                    } else {
                        s.pix = o.pix + 1;
                    }
                }
            }
            if o.busy {
                s.cyc = o.cyc.wrapping_add(1);
                if lg_valid {
                    self._lg[o.lidx as usize] = lg_data;
                    if o.lidx == classes - 1 {
                        s.lidx = 0;
                        s.busy = false;
                        s.frames_done = o.frames_done.wrapping_add(1);
                        s.last_cyc = o.cyc.wrapping_add(1);
                        s.logits_valid = true;
                        if !lg_last {
                            set_bits |= flag::STREAM;
                        }
                    } else {
                        s.lidx = o.lidx + 1;
                        if lg_last {
                            set_bits |= flag::STREAM;
                        }
                    }
                }
            }
        }
        s.errs = (if status_clear { 0 } else { o.errs }) | set_bits;
    }
}

fn zext(sig: &str, from: usize, to: usize) -> String {
    if from == to {
        sig.to_string()
    } else {
        format!("{{{}'d0, {sig}}}", to - from)
    }
}

impl Logic for ShellCore {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            if self.reset.val() {
                self.reset_state();
            } else {
                self.edge();
            }
        }
        let s = &self._st;
        self.uart_tx.next = s.tx_out;
        self.m_axis.tvalid.next = s.feeding && s.primed;
        self.m_axis.tlast.next = s.pix + 1 == self._cfg.pixels() as u32;
        let d = s.fr_rdata;
        self.m_axis
            .set_data([d as u8, (d >> 8) as u8, (d >> 16) as u8]);
        self.s_axis.tready.next = true;
        self.wl_valid.next = s.wl_v;
        self.wl_sel.next = (s.wl_s as u64).into();
        self.wl_addr.next = (s.wl_a as u64).into();
        self.wl_data.next = s.wl_d.into();
    }
    fn connect(&mut self) {
        self.uart_tx.connect();
        self.m_axis.connect_outputs();
        self.s_axis.tready.connect();
        self.wl_valid.connect();
        self.wl_sel.connect();
        self.wl_addr.connect();
        self.wl_data.connect();
    }
    fn hdl(&self) -> Verilog {
        Verilog::Custom(core_verilog(&self._cfg))
    }
}

fn core_verilog(c: &ShellConfig) -> String {
    let pixels = c.pixels();
    let classes = c.num_classes as usize;
    let pb = abits(pixels + 1);
    let lb = abits(classes + 1);
    let div = c.divisor;
    let m = AxisNames::new("m_axis");
    let sa = AxisNames::new("s_axis");
    let mut id_case = String::new();
    for (j, b) in c.identify_payload().iter().enumerate() {
        id_case.push_str(&format!("                16'd{j}: r_byte = 8'h{b:02x};\n"));
    }
    let loaded16 = zext("loaded", pb, 16);
    let mut depth_case = String::new();
    for (i, d) in c.load_depths.iter().enumerate() {
        depth_case.push_str(&format!("        16'd{i}: depth_of = 16'd{d};\n"));
    }
    format!(
        r#"// squeezeflow board shell core: UART {div} clocks per bit (8N1), framed requests with
// CRC-16/CCITT-FALSE, {pixels}-pixel frame buffer, {classes} logits. See docs/protocol.md.
localparam [15:0] DIV_M1 = 16'd{div_m1};
localparam [15:0] HALF_M1 = 16'd{half_m1};
localparam [31:0] TMO_M1 = 32'd{tmo_m1};
localparam [15:0] MAXP = 16'd{maxp};
localparam [{pbm}:0] PIXELS = {pb}'d{pixels};
localparam [{pbm}:0] PIX_M1 = {pb}'d{pix_m1};
localparam [{lbm}:0] CLS_M1 = {lb}'d{cls_m1};
localparam [15:0] NLOG2 = 16'd{nlog2};
localparam [15:0] NMEM = 16'd{nmem};

// words of each weight memory on the load port
function [15:0] depth_of(input [15:0] sel);
    case (sel)
{depth_case}        default: depth_of = 16'd0;
    endcase
endfunction

function [15:0] crc_byte(input [15:0] c, input [7:0] b);
    integer k;
    reg [15:0] x;
    begin
        x = c ^ {{b, 8'h00}};
        for (k = 0; k < 8; k = k + 1)
            x = x[15] ? ({{x[14:0], 1'b0}} ^ 16'h1021) : {{x[14:0], 1'b0}};
        crc_byte = x;
    end
endfunction

function [7:0] err_flag(input [7:0] code);
    case (code)
        8'd1: err_flag = 8'h01;
        8'd2: err_flag = 8'h02;
        8'd3: err_flag = 8'h04;
        8'd4: err_flag = 8'h08;
        default: err_flag = 8'h40;
    endcase
endfunction

function [15:0] reply_len(input [7:0] kind);
    case (kind)
        8'd1: reply_len = 16'd{idlen};
        8'd2: reply_len = 16'd2;
        8'd3: reply_len = 16'd0;
        8'd4: reply_len = 16'd{stlen};
        8'd5: reply_len = NLOG2;
        8'd6: reply_len = 16'd4;
        default: reply_len = 16'd2;
    endcase
endfunction

// UART receiver
reg rx_s1, rx_s2, rx_valid;
reg [1:0] rx_st;
reg [15:0] rx_cnt;
reg [2:0] rx_bit;
reg [7:0] rx_sh, rx_data;
// UART transmitter
reg tx_busy, tx_out;
reg [15:0] tx_cnt;
reg [3:0] tx_bit;
reg [8:0] tx_sh;
// parser
reg [3:0] p_st;
reg [7:0] cmd, perr, off_lo;
reg [15:0] len, cnt, crc, pbuf;
reg [31:0] tmo;
reg [{pbm}:0] waddr, loaded, pix;
reg [1:0] phase;
// frame control
reg busy, feeding, primed, logits_valid;
reg [{lbm}:0] lidx;
reg [31:0] cyc, last_cyc, frames_done;
reg [7:0] errs;
// reply sequencer
reg r_act, r_rdy;
reg [7:0] r_kind, r_code, r_cmd;
reg [15:0] r_i, r_crc;
// weights (see the Rust model)
reg [15:0] w_sel, w_adr, wm_sel, wm_adr, wl_s, wl_a;
reg [2:0] w_ph;
reg [55:0] w_buf;
reg [63:0] wl_d;
reg wl_v;

wire [15:0] loaded16 = {loaded16};
wire [15:0] rlen = reply_len(r_kind);
wire [15:0] r_j = r_i - 16'd4;
wire [15:0] crc_rx = crc_byte(crc, rx_data);
wire [15:0] len_full = {{rx_data, len[7:0]}};
wire [15:0] off_full = {{rx_data, off_lo}};
wire w_after = (w_sel > wm_sel) || (w_sel == wm_sel && off_full > wm_adr);
wire w_before = (w_sel < wm_sel) || (w_sel == wm_sel && off_full < wm_adr);
wire [15:0] w_depth = depth_of(w_sel);
wire w_pay = rx_valid && (p_st == 4'd{pay}) && (cmd == 8'd6) && (perr == 8'd0);
wire w_we = w_pay && (cnt >= 16'd4) && (w_ph == 3'd7) && (w_adr < w_depth);
wire fire = feeding && primed && {m_tready};
wire last = (pix == PIX_M1);
wire [{pbm}:0] fr_raddr = (fire && !last) ? pix + 1'b1 : pix;
wire [23:0] fr_rdata;
wire fr_we = rx_valid && (p_st == 4'd{pay}) && (cmd == 8'd2) && (perr == 8'd0) && (cnt >= 16'd2)
    && (phase == 2'd2) && (waddr < PIXELS);
wire [{lbm}:0] lg_raddr = (r_i >= 16'd4 && r_j < NLOG2) ? r_j[{lb}:1] : {lb}'d0;
wire [15:0] lg_rdata;
wire lg_we = busy && {s_tvalid};

sqf_ram #(.WIDTH(24), .DEPTH({pixels}), .ABITS({pb})) fr_ram (
    .clock(clock), .we(fr_we), .waddr(waddr), .wdata({{rx_data, pbuf}}),
    .raddr(fr_raddr), .rdata(fr_rdata));
sqf_ram #(.WIDTH(16), .DEPTH({classes}), .ABITS({lb})) lg_ram (
    .clock(clock), .we(lg_we), .waddr(lidx), .wdata({{{s_d1}, {s_d0}}}),
    .raddr(lg_raddr), .rdata(lg_rdata));

// the reply byte at index r_i
reg [7:0] r_byte;
always @(*) begin
    if (r_i == 16'd0) r_byte = 8'h5a;
    else if (r_i == 16'd1) r_byte = (r_kind == 8'd0) ? 8'hff : (r_kind | 8'h80);
    else if (r_i == 16'd2) r_byte = rlen[7:0];
    else if (r_i == 16'd3) r_byte = rlen[15:8];
    else if (r_i == 16'd4 + rlen) r_byte = r_crc[15:8];
    else if (r_i > 16'd4 + rlen) r_byte = r_crc[7:0];
    else begin
        case (r_kind)
            8'd1: case (r_j)
{id_case}                default: r_byte = 8'h00;
            endcase
            8'd2: r_byte = r_j[0] ? loaded16[15:8] : loaded16[7:0];
            8'd4: case (r_j)
                16'd0: r_byte = {{4'd0, wm_sel == NMEM, logits_valid, loaded == PIXELS, busy}};
                16'd1: r_byte = r_code;
                16'd2: r_byte = frames_done[7:0];
                16'd3: r_byte = frames_done[15:8];
                16'd4: r_byte = frames_done[23:16];
                16'd5: r_byte = frames_done[31:24];
                16'd6: r_byte = last_cyc[7:0];
                16'd7: r_byte = last_cyc[15:8];
                16'd8: r_byte = last_cyc[23:16];
                16'd9: r_byte = last_cyc[31:24];
                16'd10: r_byte = loaded16[7:0];
                16'd11: r_byte = loaded16[15:8];
                16'd12: r_byte = wm_sel[7:0];
                16'd13: r_byte = wm_sel[15:8];
                16'd14: r_byte = wm_adr[7:0];
                default: r_byte = wm_adr[15:8];
            endcase
            8'd6: case (r_j)
                16'd0: r_byte = wm_sel[7:0];
                16'd1: r_byte = wm_sel[15:8];
                16'd2: r_byte = wm_adr[7:0];
                default: r_byte = wm_adr[15:8];
            endcase
            8'd5: r_byte = r_j[0] ? lg_rdata[15:8] : lg_rdata[7:0];
            default: r_byte = (r_j == 16'd0) ? r_code : r_cmd;
        endcase
    end
end

// the parser's outcome this cycle
reg do_reply, start, status_clear;
reg [7:0] rep_kind, rep_code;
always @(*) begin
    do_reply = 1'b0; start = 1'b0; status_clear = 1'b0; rep_kind = 8'd0; rep_code = 8'd0;
    if (p_st != 4'd0 && p_st != 4'd8) begin
        if (rx_valid) begin
            if (p_st == 4'd6) begin
                do_reply = 1'b1;
                if (crc_rx != 16'd0) rep_code = 8'd1;
                else if (perr != 8'd0) rep_code = perr;
                else case (cmd)
                    8'd2: if (phase != 2'd0) rep_code = 8'd2; else rep_kind = 8'd2;
                    8'd6: rep_kind = 8'd6;
                    8'd3: if (busy) rep_code = 8'd7;
                          else if (loaded != PIXELS || wm_sel != NMEM) rep_code = 8'd8;
                          else begin start = 1'b1; rep_kind = 8'd3; end
                    8'd4: begin status_clear = 1'b1; rep_kind = 8'd4; rep_code = errs; end
                    8'd5: if (busy) rep_code = 8'd7;
                          else if (!logits_valid) rep_code = 8'd9;
                          else rep_kind = 8'd5;
                    default: rep_kind = 8'd1;
                endcase
            end
        end else if (tmo == TMO_M1) begin
            do_reply = 1'b1;
            rep_code = (p_st == 4'd7) ? 8'd2 : 8'd4;
        end
    end
end

wire rx_ferr = (rx_st == 2'd3) && (rx_cnt == DIV_M1) && !rx_s2;
wire overrun = (p_st == 4'd8) && rx_valid;
wire tx_load = r_act && r_rdy && !tx_busy;
wire lg_done = busy && {s_tvalid} && (lidx == CLS_M1);
wire stream_err = busy && {s_tvalid} && ((lidx == CLS_M1) != {s_tlast});
wire [7:0] set_bits = (rx_ferr ? 8'h10 : 8'h00) | (overrun ? 8'h20 : 8'h00)
    | ((do_reply && rep_kind == 8'd0) ? err_flag(rep_code) : 8'h00) | (stream_err ? 8'h80 : 8'h00);

always @(*) uart_tx = tx_out;
always @(*) {m_tvalid} = feeding && primed;
always @(*) {m_tlast} = last;
always @(*) {m_d0} = fr_rdata[7:0];
always @(*) {m_d1} = fr_rdata[15:8];
always @(*) {m_d2} = fr_rdata[23:16];
always @(*) {s_tready} = 1'b1 | reset; // always ready (reset only gives Icarus' @* an event)
always @(*) wl_valid = wl_v;
always @(*) wl_sel = wl_s;
always @(*) wl_addr = wl_a;
always @(*) wl_data = wl_d;

// Power-up values (FPGAs load them with the bitstream), the same as after reset: the line
// idles high from the first cycle.
initial begin
    rx_s1 = 1'b1; rx_s2 = 1'b1; rx_valid = 1'b0; rx_st = 2'd0; rx_cnt = 16'd0;
    rx_bit = 3'd0; rx_sh = 8'd0; rx_data = 8'd0;
    tx_busy = 1'b0; tx_out = 1'b1; tx_cnt = 16'd0; tx_bit = 4'd0; tx_sh = 9'd0;
    p_st = 4'd0; cmd = 8'd0; perr = 8'd0; off_lo = 8'd0; len = 16'd0; cnt = 16'd0;
    crc = 16'd0; pbuf = 16'd0; tmo = 32'd0; waddr = {pb}'d0; loaded = {pb}'d0;
    pix = {pb}'d0; phase = 2'd0;
    busy = 1'b0; feeding = 1'b0; primed = 1'b0; logits_valid = 1'b0; lidx = {lb}'d0;
    cyc = 32'd0; last_cyc = 32'd0; frames_done = 32'd0; errs = 8'd0;
    r_act = 1'b0; r_rdy = 1'b0; r_kind = 8'd0; r_code = 8'd0; r_cmd = 8'd0;
    r_i = 16'd0; r_crc = 16'd0;
    w_sel = 16'd0; w_adr = 16'd0; wm_sel = 16'd0; wm_adr = 16'd0; w_ph = 3'd0; w_buf = 56'd0;
    wl_v = 1'b0; wl_s = 16'd0; wl_a = 16'd0; wl_d = 64'd0;
end

always @(posedge clock) begin
    if (reset) begin
        rx_s1 <= 1'b1; rx_s2 <= 1'b1; rx_valid <= 1'b0; rx_st <= 2'd0; rx_cnt <= 16'd0;
        rx_bit <= 3'd0; rx_sh <= 8'd0; rx_data <= 8'd0;
        tx_busy <= 1'b0; tx_out <= 1'b1; tx_cnt <= 16'd0; tx_bit <= 4'd0; tx_sh <= 9'd0;
        p_st <= 4'd0; cmd <= 8'd0; perr <= 8'd0; off_lo <= 8'd0; len <= 16'd0; cnt <= 16'd0;
        crc <= 16'd0; pbuf <= 16'd0; tmo <= 32'd0; waddr <= {pb}'d0; loaded <= {pb}'d0;
        pix <= {pb}'d0; phase <= 2'd0;
        busy <= 1'b0; feeding <= 1'b0; primed <= 1'b0; logits_valid <= 1'b0; lidx <= {lb}'d0;
        cyc <= 32'd0; last_cyc <= 32'd0; frames_done <= 32'd0; errs <= 8'd0;
        r_act <= 1'b0; r_rdy <= 1'b0; r_kind <= 8'd0; r_code <= 8'd0; r_cmd <= 8'd0;
        r_i <= 16'd0; r_crc <= 16'd0;
        w_sel <= 16'd0; w_adr <= 16'd0; wm_sel <= 16'd0; wm_adr <= 16'd0; w_ph <= 3'd0;
        w_buf <= 56'd0; wl_v <= 1'b0; wl_s <= 16'd0; wl_a <= 16'd0; wl_d <= 64'd0;
    end else begin
        // UART receiver
        rx_s1 <= uart_rx;
        rx_s2 <= rx_s1;
        rx_valid <= 1'b0;
        case (rx_st)
            2'd0: if (!rx_s2) begin rx_st <= 2'd1; rx_cnt <= 16'd0; end
            2'd1: if (rx_cnt == HALF_M1) begin
                    if (rx_s2) rx_st <= 2'd0;
                    else begin rx_st <= 2'd2; rx_cnt <= 16'd0; rx_bit <= 3'd0; end
                end else rx_cnt <= rx_cnt + 16'd1;
            2'd2: if (rx_cnt == DIV_M1) begin
                    rx_cnt <= 16'd0;
                    rx_sh <= {{rx_s2, rx_sh[7:1]}};
                    if (rx_bit == 3'd7) rx_st <= 2'd3; else rx_bit <= rx_bit + 3'd1;
                end else rx_cnt <= rx_cnt + 16'd1;
            default: if (rx_cnt == DIV_M1) begin
                    rx_st <= 2'd0;
                    if (rx_s2) begin rx_valid <= 1'b1; rx_data <= rx_sh; end
                end else rx_cnt <= rx_cnt + 16'd1;
        endcase

        // parser
        if (p_st == 4'd0) begin
            tmo <= 32'd0;
            if (rx_valid && rx_data == 8'ha5) begin p_st <= 4'd1; crc <= 16'hffff; perr <= 8'd0; end
        end else if (p_st == 4'd8) begin
            tmo <= 32'd0;
            if (!r_act) p_st <= 4'd0;
        end else if (rx_valid) begin
            tmo <= 32'd0;
            crc <= crc_rx;
            case (p_st)
                4'd1: begin cmd <= rx_data; p_st <= 4'd2; end
                4'd2: begin len <= {{8'd0, rx_data}}; p_st <= 4'd3; end
                4'd3: begin
                    len <= len_full; cnt <= 16'd0; phase <= 2'd0;
                    if (len_full > MAXP) p_st <= 4'd7;
                    else begin
                        if (cmd == 8'd0 || cmd > 8'd6) perr <= 8'd3;
                        else if (cmd == 8'd6) begin
                            if (len_full < 16'd12 || len_full[2:0] != 3'd4) perr <= 8'd2;
                            else if (busy) perr <= 8'd7;
                            else perr <= 8'd0;
                        end else if (cmd == 8'd2) begin
                            if (len_full < 16'd5) perr <= 8'd2;
                            else if (busy) perr <= 8'd7;
                            else perr <= 8'd0;
                        end else if (len_full != 16'd0) perr <= 8'd2;
                        else perr <= 8'd0;
                        p_st <= (len_full == 16'd0) ? 4'd5 : 4'd4;
                    end
                end
                4'd4: begin
                    if (cmd == 8'd2 && perr == 8'd0) begin
                        if (cnt == 16'd0) off_lo <= rx_data;
                        else if (cnt == 16'd1) begin
                            if (off_full > loaded16) perr <= 8'd5;
                            else begin
                                waddr <= off_full[{pbm}:0];
                                if (off_full < loaded16) loaded <= off_full[{pbm}:0];
                            end
                        end else if (phase == 2'd0) begin pbuf[7:0] <= rx_data; phase <= 2'd1; end
                        else if (phase == 2'd1) begin pbuf[15:8] <= rx_data; phase <= 2'd2; end
                        else begin
                            phase <= 2'd0;
                            if (waddr < PIXELS) waddr <= waddr + 1'b1;
                            else perr <= 8'd6;
                        end
                    end
                    if (cmd == 8'd6 && perr == 8'd0) begin
                        if (cnt == 16'd0 || cnt == 16'd2) off_lo <= rx_data;
                        else if (cnt == 16'd1) begin
                            /* verilator lint_off UNSIGNED */ // constant without memories
                            if (off_full >= NMEM) perr <= 8'd6;
                            /* verilator lint_on UNSIGNED */
                            else w_sel <= off_full;
                        end else if (cnt == 16'd3) begin
                            if (w_after) perr <= 8'd5;
                            else if (off_full >= w_depth) perr <= 8'd6;
                            else begin
                                w_adr <= off_full; w_ph <= 3'd0;
                                if (w_before) begin wm_sel <= w_sel; wm_adr <= off_full; end
                            end
                        end else if (w_ph != 3'd7) begin
                            w_buf <= ((w_ph == 3'd0) ? 56'd0 : w_buf) | ({{48'd0, rx_data}} << {{w_ph, 3'd0}});
                            w_ph <= w_ph + 3'd1;
                        end else begin
                            w_ph <= 3'd0;
                            if (w_adr < w_depth) w_adr <= w_adr + 16'd1;
                            else perr <= 8'd6;
                        end
                    end
                    cnt <= cnt + 16'd1;
                    if (cnt + 16'd1 == len) p_st <= 4'd5;
                end
                4'd5: p_st <= 4'd6;
                4'd6: begin
                    if (crc_rx == 16'd0 && perr == 8'd0 && cmd == 8'd2 && phase == 2'd0)
                        loaded <= waddr;
                    if (crc_rx == 16'd0 && perr == 8'd0 && cmd == 8'd6) begin
                        if (w_adr == w_depth) begin wm_sel <= w_sel + 16'd1; wm_adr <= 16'd0; end
                        else begin wm_sel <= w_sel; wm_adr <= w_adr; end
                    end
                end
                default: ;
            endcase
        end else if (tmo == TMO_M1) tmo <= 32'd0;
        else tmo <= tmo + 32'd1;
        if (do_reply) begin
            r_act <= 1'b1; r_rdy <= 1'b0; r_kind <= rep_kind; r_code <= rep_code; r_cmd <= cmd;
            r_i <= 16'd0; r_crc <= 16'hffff; p_st <= 4'd8;
        end

        // reply sequencer and UART transmitter
        if (r_act) begin
            if (!r_rdy) r_rdy <= 1'b1;
            else if (!tx_busy) begin
                if (r_i >= 16'd1 && r_i < 16'd4 + rlen) r_crc <= crc_byte(r_crc, r_byte);
                r_i <= r_i + 16'd1;
                r_rdy <= 1'b0;
                if (r_i == 16'd5 + rlen) r_act <= 1'b0;
            end
        end
        if (tx_load) begin
            tx_busy <= 1'b1; tx_sh <= {{1'b1, r_byte}}; tx_out <= 1'b0; tx_cnt <= 16'd0; tx_bit <= 4'd0;
        end else if (tx_busy) begin
            if (tx_cnt == DIV_M1) begin
                tx_cnt <= 16'd0;
                if (tx_bit == 4'd9) tx_busy <= 1'b0;
                else begin tx_out <= tx_sh[0]; tx_sh <= {{1'b1, tx_sh[8:1]}}; tx_bit <= tx_bit + 4'd1; end
            end else tx_cnt <= tx_cnt + 16'd1;
        end

        // streamer, cycle counter, logit capture
        if (start) begin
            busy <= 1'b1; feeding <= 1'b1; primed <= 1'b0; pix <= {pb}'d0; cyc <= 32'd0;
            lidx <= {lb}'d0; loaded <= {pb}'d0; logits_valid <= 1'b0;
        end else begin
            if (feeding) begin
                primed <= 1'b1;
                if (fire) begin
                    if (last) begin feeding <= 1'b0; primed <= 1'b0; end
                    else pix <= pix + 1'b1;
                end
            end
            if (busy) begin
                cyc <= cyc + 32'd1;
                if ({s_tvalid}) begin
                    if (lg_done) begin
                        lidx <= {lb}'d0; busy <= 1'b0; frames_done <= frames_done + 32'd1;
                        last_cyc <= cyc + 32'd1; logits_valid <= 1'b1;
                    end else lidx <= lidx + 1'b1;
                end
            end
        end
        errs <= (status_clear ? 8'd0 : errs) | set_bits;
        wl_v <= w_we;
        if (w_we) begin wl_s <= w_sel; wl_a <= w_adr; wl_d <= {{rx_data, w_buf}}; end
    end
end
"#,
        div_m1 = div - 1,
        half_m1 = div / 2 - 1,
        tmo_m1 = c.timeout - 1,
        maxp = c.max_payload(),
        pbm = pb - 1,
        lbm = lb - 1,
        pix_m1 = pixels - 1,
        cls_m1 = classes - 1,
        nlog2 = 2 * classes,
        nmem = c.load_depths.len(),
        idlen = IDENTIFY_LEN,
        stlen = STATUS_LEN,
        pay = P_PAY,
        m_tready = m.tready(),
        m_tvalid = m.tvalid(),
        m_tlast = m.tlast(),
        m_d0 = m.tdata(0),
        m_d1 = m.tdata(1),
        m_d2 = m.tdata(2),
        s_tvalid = sa.tvalid(),
        s_tlast = sa.tlast(),
        s_tready = sa.tready(),
        s_d0 = sa.tdata(0),
        s_d1 = sa.tdata(1),
    )
}

/// A wiring-only wrapper that puts [`ShellCore`] at the depth of the graph's nodes.
#[derive(LogicBlock)]
pub struct CoreWrap {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub uart_rx: Signal<In, Bit>,
    pub uart_tx: Signal<Out, Bit>,
    pub m_axis: AxisOut,
    pub s_axis: AxisIn,
    pub wl_valid: Signal<Out, Bit>,
    pub wl_sel: Signal<Out, Bits<16>>,
    pub wl_addr: Signal<Out, Bits<16>>,
    pub wl_data: Signal<Out, Bits<64>>,
    pub core: ShellCore,
}

fn copy_out(from: &AxisOut, to: &mut AxisOut) {
    for (d, s) in to.tdata.iter_mut().zip(&from.tdata) {
        d.next = s.val();
    }
    to.tvalid.next = from.tvalid.val();
    to.tlast.next = from.tlast.val();
}

fn copy_in(from: &AxisIn, to: &mut AxisIn) {
    for (d, s) in to.tdata.iter_mut().zip(&from.tdata) {
        d.next = s.val();
    }
    to.tvalid.next = from.tvalid.val();
    to.tlast.next = from.tlast.val();
}

fn wire_stream(v: &mut String, dst: &str, src: &str, lanes: usize, forward_ready: bool) {
    let d = AxisNames::new(dst);
    let s = AxisNames::new(src);
    for l in 0..lanes {
        v.push_str(&format!("always @(*) {} = {};\n", d.tdata(l), s.tdata(l)));
    }
    v.push_str(&format!("always @(*) {} = {};\n", d.tvalid(), s.tvalid()));
    v.push_str(&format!("always @(*) {} = {};\n", d.tlast(), s.tlast()));
    if forward_ready {
        v.push_str(&format!("always @(*) {} = {};\n", s.tready(), d.tready()));
    }
}

impl Logic for CoreWrap {
    fn update(&mut self) {
        let c = &mut self.core;
        c.clock.next = self.clock.val();
        c.reset.next = self.reset.val();
        c.uart_rx.next = self.uart_rx.val();
        self.uart_tx.next = c.uart_tx.val();
        copy_out(&c.m_axis, &mut self.m_axis);
        c.m_axis.tready.next = self.m_axis.tready.val();
        copy_in(&self.s_axis, &mut c.s_axis);
        self.s_axis.tready.next = c.s_axis.tready.val();
        self.wl_valid.next = c.wl_valid.val();
        self.wl_sel.next = c.wl_sel.val();
        self.wl_addr.next = c.wl_addr.val();
        self.wl_data.next = c.wl_data.val();
    }
    fn connect(&mut self) {
        self.uart_tx.connect();
        self.m_axis.connect_outputs();
        self.s_axis.tready.connect();
        self.wl_valid.connect();
        self.wl_sel.connect();
        self.wl_addr.connect();
        self.wl_data.connect();
        let c = &mut self.core;
        c.clock.connect();
        c.reset.connect();
        c.uart_rx.connect();
        c.m_axis.tready.connect();
        for s in &mut c.s_axis.tdata {
            s.connect();
        }
        c.s_axis.tvalid.connect();
        c.s_axis.tlast.connect();
    }
    fn hdl(&self) -> Verilog {
        let mut v = String::from(
            "always @(*) core$clock = clock;\nalways @(*) core$reset = reset;\n\
always @(*) core$uart_rx = uart_rx;\nalways @(*) uart_tx = core$uart_tx;\n",
        );
        wire_stream(&mut v, "m_axis", "core$m_axis", 3, true);
        wire_stream(&mut v, "core$s_axis", "s_axis", 2, true);
        for x in ["valid", "sel", "addr", "data"] {
            v.push_str(&format!("always @(*) wl_{x} = core$wl_{x};\n"));
        }
        Verilog::Custom(v)
    }
}

/// The board shell: `clock`, `reset` (synchronous, active high), `uart_rx` (from the host),
/// `uart_tx` (to the host), and nothing else.
#[derive(LogicBlock)]
pub struct Shell {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub uart_rx: Signal<In, Bit>,
    pub uart_tx: Signal<Out, Bit>,
    pub ctl: CoreWrap,
    pub net: Graph,
}

impl Shell {
    /// A shell around a network graph (3 lanes in, 2 out, as [`crate::network::network_graph`]
    /// builds).
    /// The shell's weight memories are the graph's ([`Graph::load_memories`], numbered from
    /// 0 without gaps), whatever `cfg.load_depths` says.
    pub fn new(cfg: &ShellConfig, net: Graph) -> Result<Self, HwError> {
        let mems = net.load_memories();
        if mems.iter().enumerate().any(|(i, m)| m.sel as usize != i) {
            return Err(HwError::Io(
                "shell: the graph's weight memories are not numbered 0, 1, 2, ...".into(),
            ));
        }
        let mut cfg = cfg.clone();
        cfg.load_depths = mems.iter().map(|m| m.depth as u16).collect();
        let cfg = &cfg;
        cfg.check()?;
        if net.s_axis.lanes() != 3 || net.m_axis.lanes() != 2 {
            return Err(HwError::Io(
                "shell: the graph must take 3 lanes (RGB) and give 2 (a u16 logit)".into(),
            ));
        }
        Ok(Shell {
            clock: Default::default(),
            reset: Default::default(),
            uart_rx: Default::default(),
            uart_tx: Default::default(),
            ctl: CoreWrap {
                clock: Default::default(),
                reset: Default::default(),
                uart_rx: Default::default(),
                uart_tx: Default::default(),
                m_axis: AxisOut::new(3),
                s_axis: AxisIn::new(2),
                wl_valid: Default::default(),
                wl_sel: Default::default(),
                wl_addr: Default::default(),
                wl_data: Default::default(),
                core: ShellCore::new(cfg),
            },
            net,
        })
    }

    /// One clock cycle in rust-hdl's simulator with `rx` on `uart_rx`: returns `uart_tx` as it
    /// was before the edge (the value a receiver samples in this cycle).
    pub fn cycle(&mut self, rx: bool) -> bool {
        self.uart_rx.next = rx;
        crate::harness::settle(self);
        let tx = self.uart_tx.val();
        self.clock.next = true.into();
        crate::harness::settle(self);
        self.clock.next = false.into();
        crate::harness::settle(self);
        tx
    }

    /// Connects and holds reset for `cycles` cycles (rust-hdl's simulator).
    pub fn reset_sim(&mut self, cycles: usize) {
        self.connect_all();
        self.reset.next = true;
        for _ in 0..cycles {
            self.cycle(true);
        }
        self.reset.next = false;
        crate::harness::settle(self);
    }
}

impl Logic for Shell {
    fn update(&mut self) {
        let w = &mut self.ctl;
        let n = &mut self.net;
        w.clock.next = self.clock.val();
        w.reset.next = self.reset.val();
        n.clock.next = self.clock.val();
        n.reset.next = self.reset.val();
        w.uart_rx.next = self.uart_rx.val();
        self.uart_tx.next = w.uart_tx.val();
        for (d, s) in n.s_axis.tdata.iter_mut().zip(&w.m_axis.tdata) {
            d.next = s.val();
        }
        n.s_axis.tvalid.next = w.m_axis.tvalid.val();
        n.s_axis.tlast.next = w.m_axis.tlast.val();
        w.m_axis.tready.next = n.s_axis.tready.val();
        for (d, s) in w.s_axis.tdata.iter_mut().zip(&n.m_axis.tdata) {
            d.next = s.val();
        }
        w.s_axis.tvalid.next = n.m_axis.tvalid.val();
        w.s_axis.tlast.next = n.m_axis.tlast.val();
        n.m_axis.tready.next = w.s_axis.tready.val();
        n.wl.valid.next = w.wl_valid.val();
        n.wl.sel.next = w.wl_sel.val();
        n.wl.addr.next = w.wl_addr.val();
        n.wl.data.next = w.wl_data.val();
    }
    fn connect(&mut self) {
        self.uart_tx.connect();
        let w = &mut self.ctl;
        w.clock.connect();
        w.reset.connect();
        w.uart_rx.connect();
        w.m_axis.tready.connect();
        for s in &mut w.s_axis.tdata {
            s.connect();
        }
        w.s_axis.tvalid.connect();
        w.s_axis.tlast.connect();
        let n = &mut self.net;
        n.clock.connect();
        n.reset.connect();
        for s in &mut n.s_axis.tdata {
            s.connect();
        }
        n.s_axis.tvalid.connect();
        n.s_axis.tlast.connect();
        n.m_axis.tready.connect();
        n.wl.connect();
    }
    fn hdl(&self) -> Verilog {
        let mut v = String::from(
            "// squeezeflow board shell: the accelerator behind a UART protocol engine.\n\
always @(*) ctl$clock = clock;\nalways @(*) ctl$reset = reset;\n\
always @(*) net$clock = clock;\nalways @(*) net$reset = reset;\n\
always @(*) ctl$uart_rx = uart_rx;\nalways @(*) uart_tx = ctl$uart_tx;\n",
        );
        wire_stream(&mut v, "net$s_axis", "ctl$m_axis", 3, true);
        wire_stream(&mut v, "ctl$s_axis", "net$m_axis", 2, true);
        v.push_str(&crate::load::WeightLoad::verilog_follow(
            "net$wl", "ctl$wl_",
        ));
        Verilog::Custom(v)
    }
}

impl MemFiles for Shell {
    fn mem_files(&self) -> Vec<(String, String)> {
        self.net.mem_files()
    }
}

/// Parses a manifest's `model_hash` (16 hex digits).
pub fn parse_hash(hex: &str) -> Result<u64, HwError> {
    u64::from_str_radix(hex, 16)
        .map_err(|_| HwError::Io(format!("model hash `{hex}` is not 16 hexadecimal digits")))
}

/// Writes the shell around a bundle's network into `dir` (`top.v`, `sqf_lib.v`, the `.mem`
/// files) and returns the written design.
pub fn write_shell(
    model: &squeezeflow_model::QuantModel,
    plan: &crate::folding::Plan,
    cfg: &ShellConfig,
    dir: &std::path::Path,
) -> Result<crate::bundle::WrittenDesign, HwError> {
    let mut shell = Shell::new(cfg, crate::network::network_graph(model, plan)?)?;
    crate::bundle::write_block(&mut shell, dir)
}
