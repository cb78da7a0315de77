//! The weight-load port. A convolution whose weights live in RAM rather than ROM (UltraRAM on
//! UltraScale+, which has no initial contents) is filled at start-up through this port, one
//! word a cycle: `valid`, `sel` (which weight memory: the engines number theirs from the
//! network's [`crate::graph::GraphBuilder`]), `addr` (the word in it) and `data` (the word,
//! lane l in bits 8l..8l+7, as in the ROM files). Every engine sees the same four signals; the
//! memory whose number is `sel` writes the word. In Verilog the group `wl` becomes `wl$valid`,
//! `wl$sel`, `wl$addr`, `wl$data`, and the top level has `wl_valid`, `wl_sel`, `wl_addr` and
//! `wl_data`.

use rust_hdl::prelude::*;
use serde::{Deserialize, Serialize};

/// One word for a loadable weight memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadWord {
    pub sel: u16,
    pub addr: u16,
    pub data: u64,
}

/// A loadable weight memory of a bundle: its number on the load port and its contents' file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadMemory {
    /// The value of `wl_sel` that writes it.
    pub sel: u16,
    /// Its `.mem` file in the bundle (one hex word a line).
    pub file: String,
    /// Bits a word.
    pub width: usize,
    /// Words.
    pub depth: usize,
}

/// The load port's input signals (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct WeightLoad {
    pub valid: Signal<In, Bit>,
    pub sel: Signal<In, Bits<16>>,
    pub addr: Signal<In, Bits<16>>,
    pub data: Signal<In, Bits<64>>,
}

impl WeightLoad {
    /// The word on the port this cycle, if `valid`.
    pub fn word(&self) -> Option<LoadWord> {
        self.valid.val().then(|| LoadWord {
            sel: self.sel.val().to_u64() as u16,
            addr: self.addr.val().to_u64() as u16,
            data: self.data.val().to_u64(),
        })
    }
    /// Presents a word (or none) on the port.
    pub fn drive(&mut self, w: Option<LoadWord>) {
        let w = w.map(|w| (true, w)).unwrap_or((
            false,
            LoadWord {
                sel: 0,
                addr: 0,
                data: 0,
            },
        ));
        self.valid.next = w.0;
        self.sel.next = (w.1.sel as u64).into();
        self.addr.next = (w.1.addr as u64).into();
        self.data.next = w.1.data.into();
    }
    /// Drives this port (a child's) from `from` (the parent's).
    pub fn follow(&mut self, from: &WeightLoad) {
        self.drive(from.word());
    }
    /// Marks the signals as driven by the parent (rust-hdl's connection check).
    pub fn connect(&mut self) {
        self.valid.connect();
        self.sel.connect();
        self.addr.connect();
        self.data.connect();
    }
    /// Verilog assignments driving the child port group `to` (`nodes$3$wl`) from the signals
    /// named `from` + `valid`, `sel`, ... (`wl$` for a group, `wl_` for top-level ports).
    pub fn verilog_follow(to: &str, from: &str) -> String {
        ["valid", "sel", "addr", "data"]
            .iter()
            .map(|s| format!("always @(*) {to}${s} = {from}{s};\n"))
            .collect()
    }
}

impl Logic for WeightLoad {
    fn update(&mut self) {}
}

impl Block for WeightLoad {
    fn connect_all(&mut self) {
        self.valid.connect_all();
        self.sel.connect_all();
        self.addr.connect_all();
        self.data.connect_all();
    }
    fn update_all(&mut self) {
        self.valid.update_all();
        self.sel.update_all();
        self.addr.update_all();
        self.data.update_all();
    }
    fn has_changed(&self) -> bool {
        self.valid.has_changed()
            || self.sel.has_changed()
            || self.addr.has_changed()
            || self.data.has_changed()
    }
    fn accept(&self, name: &str, probe: &mut dyn Probe) {
        probe.visit_start_namespace(name, self);
        self.valid.accept("valid", probe);
        self.sel.accept("sel", probe);
        self.addr.accept("addr", probe);
        self.data.accept("data", probe);
        probe.visit_end_namespace(name, self);
    }
}

/// Reads a `.mem` file's words (hex, one a line, as [`crate::leaf::mem_text`] writes them) for
/// memory `m`, checking their count and width.
pub fn read_words(m: &LoadMemory, text: &str) -> Result<Vec<LoadWord>, String> {
    let mut out = Vec::with_capacity(m.depth);
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with("//") {
            continue;
        }
        let v = u64::from_str_radix(t, 16)
            .map_err(|_| format!("{}: line {}: `{t}` is not a hex word", m.file, n + 1))?;
        if m.width < 64 && v >> m.width != 0 {
            return Err(format!(
                "{}: line {}: {t} is wider than {} bits",
                m.file,
                n + 1,
                m.width
            ));
        }
        if out.len() == m.depth {
            return Err(format!(
                "{}: more than the memory's {} words",
                m.file, m.depth
            ));
        }
        out.push(LoadWord {
            sel: m.sel,
            addr: out.len() as u16,
            data: v,
        });
    }
    if out.len() != m.depth {
        return Err(format!(
            "{}: {} words, the memory has {}",
            m.file,
            out.len(),
            m.depth
        ));
    }
    Ok(out)
}
