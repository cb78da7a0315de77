//! [`ShellConfig`]: a shell's generation-time parameters (UART divisor, timeout, frame and
//! weight-memory sizes), their checks, and the reply payloads they determine.

use super::protocol::{
    cmd, ERROR_REPLY_LEN, IDENTIFY_LEN, LOAD_REPLY_LEN, PROTOCOL_VERSION, STATUS_LEN,
    WEIGHTS_REPLY_LEN,
};
use crate::HwError;

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
            return Err(HwError::Shell(format!(
                "a {baud} baud UART at {:.3} MHz needs {d} clocks per bit: it must be 4..=65535",
                clock_hz / 1e6
            )));
        }
        Ok(d as u32)
    }
    pub fn check(&self) -> Result<(), HwError> {
        let bad = |m: String| Err(HwError::Shell(m));
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
    pub(super) fn reply_len(&self, kind: u8) -> u16 {
        match kind {
            cmd::IDENTIFY => IDENTIFY_LEN as u16,
            cmd::LOAD => LOAD_REPLY_LEN as u16,
            cmd::START => 0,
            cmd::STATUS => STATUS_LEN as u16,
            cmd::READ_LOGITS => 2 * self.num_classes as u16,
            cmd::WEIGHTS => WEIGHTS_REPLY_LEN as u16,
            _ => ERROR_REPLY_LEN as u16,
        }
    }
}
