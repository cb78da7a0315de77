//! The shell's wire protocol (`docs/protocol.md`): version, sync bytes, command, error and flag
//! codes, reply payload lengths and the CRC. The one definition both the shell generator and
//! the host's board link use.

/// Protocol version reported by IDENTIFY.
pub const PROTOCOL_VERSION: u8 = 2;
/// First byte of a request.
pub const SYNC_REQUEST: u8 = 0xA5;
/// First byte of a reply.
pub const SYNC_REPLY: u8 = 0x5A;
/// The code byte of an error reply.
pub const REPLY_ERROR: u8 = 0xFF;
/// A good reply's code is the command | `REPLY_OK`.
pub const REPLY_OK: u8 = 0x80;

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
/// LOAD replies with the pixels loaded (a `u16`).
pub const LOAD_REPLY_LEN: usize = 2;
/// An error reply carries the error code and the command.
pub const ERROR_REPLY_LEN: usize = 2;

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The `localparam [..] NAME = ..'hXX` / `..'dNN` values of a Verilog text.
    fn localparams(text: &str) -> std::collections::HashMap<String, u64> {
        let mut out = std::collections::HashMap::new();
        for line in text
            .lines()
            .filter(|l| l.trim_start().starts_with("localparam ["))
        {
            let code = line.split("//").next().unwrap_or("");
            let decls = code
                .split_once(']')
                .map_or("", |(_, d)| d)
                .trim()
                .trim_end_matches(';');
            for d in decls.split(',') {
                let Some((name, value)) = d.split_once('=') else {
                    continue;
                };
                let value = value.trim();
                let parsed = match value.split_once('\'') {
                    Some((_, v)) if v.starts_with('h') => u64::from_str_radix(&v[1..], 16).ok(),
                    Some((_, v)) if v.starts_with('d') => v[1..].parse().ok(),
                    _ => None,
                };
                if let Some(v) = parsed {
                    out.insert(name.trim().to_string(), v);
                }
            }
        }
        out
    }

    /// The shell core's Verilog names every protocol code as this module does, with the same
    /// value: one definition, checked.
    #[test]
    fn the_shell_cores_verilog_uses_these_codes() {
        let v = localparams(include_str!("../../verilog/sqf_shell_core.v"));
        let want: &[(&str, u64)] = &[
            ("SYNC_REQUEST", SYNC_REQUEST as u64),
            ("SYNC_REPLY", SYNC_REPLY as u64),
            ("REPLY_ERROR", REPLY_ERROR as u64),
            ("REPLY_OK", REPLY_OK as u64),
            ("CMD_IDENTIFY", cmd::IDENTIFY as u64),
            ("CMD_LOAD", cmd::LOAD as u64),
            ("CMD_START", cmd::START as u64),
            ("CMD_STATUS", cmd::STATUS as u64),
            ("CMD_READ_LOGITS", cmd::READ_LOGITS as u64),
            ("CMD_WEIGHTS", cmd::WEIGHTS as u64),
            ("ERR_CRC", err::CRC as u64),
            ("ERR_LENGTH", err::LENGTH as u64),
            ("ERR_COMMAND", err::COMMAND as u64),
            ("ERR_TIMEOUT", err::TIMEOUT as u64),
            ("ERR_OFFSET", err::OFFSET as u64),
            ("ERR_RANGE", err::RANGE as u64),
            ("ERR_BUSY", err::BUSY as u64),
            ("ERR_NOT_LOADED", err::NOT_LOADED as u64),
            ("ERR_NO_LOGITS", err::NO_LOGITS as u64),
            ("FLAG_CRC", flag::CRC as u64),
            ("FLAG_LENGTH", flag::LENGTH as u64),
            ("FLAG_COMMAND", flag::COMMAND as u64),
            ("FLAG_TIMEOUT", flag::TIMEOUT as u64),
            ("FLAG_FRAMING", flag::FRAMING as u64),
            ("FLAG_OVERRUN", flag::OVERRUN as u64),
            ("FLAG_REJECTED", flag::REJECTED as u64),
            ("FLAG_STREAM", flag::STREAM as u64),
            ("IDENTIFY_LEN", IDENTIFY_LEN as u64),
            ("STATUS_LEN", STATUS_LEN as u64),
            ("WEIGHTS_REPLY_LEN", WEIGHTS_REPLY_LEN as u64),
            ("LOAD_REPLY_LEN", LOAD_REPLY_LEN as u64),
            ("ERROR_REPLY_LEN", ERROR_REPLY_LEN as u64),
        ];
        for (name, value) in want {
            assert_eq!(v.get(*name), Some(value), "{name} in sqf_shell_core.v");
        }
    }
}
