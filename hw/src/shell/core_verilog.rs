//! The Verilog of [`super::ShellCore`]: an instance of `sqf_shell_core`
//! (`hw/verilog/sqf_shell_core.v`) with the configuration's parameters.

use super::config::ShellConfig;
use crate::library::Instance;

/// A Verilog hexadecimal constant of `bytes` (byte j in bits `[8j +: 8]`).
fn bytes_le(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().rev().map(|b| format!("{b:02x}")).collect();
    format!("{}'h{hex}", 8 * bytes.len())
}

/// The load port's memory depths as runs: (end, depth) with memories below `end` (and past the
/// previous run's end) `depth` words deep. No memories: one empty run.
fn depth_runs(depths: &[u16]) -> Vec<(u16, u16)> {
    let mut runs: Vec<(u16, u16)> = Vec::new();
    for (i, &d) in depths.iter().enumerate() {
        match runs.last_mut() {
            Some(r) if r.1 == d => r.0 = i as u16 + 1,
            _ => runs.push((i as u16 + 1, d)),
        }
    }
    if runs.is_empty() {
        runs.push((0, 0));
    }
    runs
}

/// A Verilog constant of 16-bit words, word r in bits `[16r +: 16]`.
fn words16(words: impl DoubleEndedIterator<Item = u16> + ExactSizeIterator) -> String {
    let n = words.len();
    let hex: String = words.rev().map(|w| format!("{w:04x}")).collect();
    format!("{}'h{hex}", 16 * n)
}

pub(super) fn core_verilog(c: &ShellConfig) -> String {
    let runs = depth_runs(&c.load_depths);
    let i = Instance::new("sqf_shell_core", "u")
        .param("DIV", c.divisor)
        .param("TIMEOUT", format!("32'd{}", c.timeout))
        .param("MAXP", c.max_payload())
        .param("PIXELS", c.pixels())
        .param("CLASSES", c.num_classes)
        .param("ID_PAYLOAD", bytes_le(&c.identify_payload()))
        .param("NMEM", c.load_depths.len())
        .param("NRUNS", runs.len())
        .param("RUN_ENDS", words16(runs.iter().map(|r| r.0)))
        .param("RUN_DEPTHS", words16(runs.iter().map(|r| r.1)))
        .port("uart_rx", "uart_rx")
        .port("uart_tx", "u_uart_tx")
        .axis_out("m_axis", "m_", 3)
        .axis_in("s_axis", "s_", 2)
        .port("wl_valid", "u_wl_valid")
        .port("wl_sel", "u_wl_sel")
        .port("wl_addr", "u_wl_addr")
        .port("wl_data", "u_wl_data");
    format!(
        "// squeezeflow board shell core: UART {div} clocks per bit (8N1), {px}-pixel frame buffer, {cl} logits. See docs/protocol.md.\n\
wire u_uart_tx, u_wl_valid;\nwire [15:0] u_wl_sel, u_wl_addr;\nwire [63:0] u_wl_data;\n\
always @(*) uart_tx = u_uart_tx;\nalways @(*) wl_valid = u_wl_valid;\nalways @(*) wl_sel = u_wl_sel;\n\
always @(*) wl_addr = u_wl_addr;\nalways @(*) wl_data = u_wl_data;\n{}",
        i.verilog(),
        div = c.divisor,
        px = c.pixels(),
        cl = c.num_classes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_runs_cover_every_memory() {
        assert_eq!(depth_runs(&[]), [(0, 0)]);
        assert_eq!(depth_runs(&[5, 5, 7, 5]), [(2, 5), (3, 7), (4, 5)]);
        assert_eq!(words16([1u16, 0xabcd].into_iter()), "32'habcd0001");
        assert_eq!(bytes_le(&[1, 2, 0xff]), "24'hff0201");
    }
}
