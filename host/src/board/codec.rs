//! The protocol's byte framing on the host side: [`encode_request`] and [`encode_reply`], the
//! incremental reply [`Decoder`], and the names of commands and error codes. The constants and
//! the CRC are hw's ([`squeezeflow_hw::shell::protocol`]), the shell's own.

use squeezeflow_hw::shell::{cmd, crc16, err, SYNC_REPLY, SYNC_REQUEST};

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

pub(crate) fn command_name(c: u8) -> &'static str {
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
