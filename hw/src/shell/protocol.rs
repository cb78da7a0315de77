//! The shell's wire protocol (`docs/protocol.md`): version, sync bytes, command, error and flag
//! codes, reply payload lengths and the CRC. The one definition both the shell generator and
//! the host's board link use.

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
