//! The Verilog library: one parameterized module a file under `hw/verilog/`, each with a header
//! (what it does, ports, parameters, latency and throughput) and its parameter checks. Blocks
//! whose behaviour rust-hdl cannot express compute their parameters in Rust and instantiate a
//! module ([`Instance`]); a bundle carries the modules its Verilog uses ([`used_text`]).

use crate::axis::AxisNames;

/// A library module: its name and source text.
#[derive(Clone, Copy, Debug)]
pub struct Module {
    pub name: &'static str,
    pub text: &'static str,
}

macro_rules! modules {
    ($($name:literal),+ $(,)?) => {
        &[$(Module {
            name: $name,
            text: include_str!(concat!("../verilog/", $name, ".v")),
        }),+]
    };
}

/// Every library module, leaves first (a module only instantiates modules listed before it).
pub const MODULES: &[Module] = modules!(
    "sqf_mul_ecp5",
    "sqf_mul_dsp48e2",
    "sqf_mac",
    "sqf_mac2",
    "sqf_requant",
    "sqf_rom",
    "sqf_rom_lut",
    "sqf_bank_pick",
    "sqf_codebook",
    "sqf_ram",
    "sqf_const_mul",
    "sqf_out_fifo",
    "sqf_broadcast",
    "sqf_stream_fifo",
    "sqf_concat",
    "sqf_max_pool",
    "sqf_avg_pool",
    "sqf_bypass_add",
    "sqf_gearbox",
    "sqf_wmem_loaded",
    "sqf_conv_ctrl",
    "sqf_conv_chain",
    "sqf_frame_guard",
    "sqf_axis_weights",
    "sqf_shell_core",
);

/// Whether `text` instantiates module `name` (every instantiation passes parameters).
fn instantiates(text: &str, name: &str) -> bool {
    text.contains(&format!("{name} #("))
}

/// The library modules `verilog` uses, directly or through other library modules, in
/// [`MODULES`] order.
pub(crate) fn used_by(verilog: &str) -> Vec<&'static Module> {
    let mut used = vec![false; MODULES.len()];
    // Later modules only use earlier ones, so one pass from the back settles the closure.
    for i in (0..MODULES.len()).rev() {
        let m = &MODULES[i];
        used[i] = instantiates(verilog, m.name)
            || MODULES
                .iter()
                .zip(&used)
                .skip(i + 1)
                .any(|(u, &on)| on && instantiates(u.text, m.name));
    }
    MODULES
        .iter()
        .zip(used)
        .filter(|(_, u)| *u)
        .map(|(m, _)| m)
        .collect()
}

/// The text of the library modules `verilog` uses, one after the other (a bundle's
/// `sqf_lib.v`).
pub(crate) fn used_text(verilog: &str) -> String {
    let mut out = String::from(
        "// squeezeflow library modules this design uses, copied from hw/verilog/ (one file each\n// there, with its header).\n",
    );
    for m in used_by(verilog) {
        out.push('\n');
        out.push_str(m.text);
    }
    out
}

/// One instance of a library module inside a rust-hdl block's Verilog body: parameters and
/// connections, and the glue that turns the block's per-lane stream ports into the module's
/// packed ones.
pub struct Instance {
    module: &'static str,
    name: String,
    params: Vec<(String, String)>,
    conns: Vec<(String, String)>,
    glue: String,
}

impl Instance {
    pub fn new(module: &'static str, name: &str) -> Self {
        debug_assert!(MODULES.iter().any(|m| m.name == module), "{module}");
        Instance {
            module,
            name: name.into(),
            params: Vec::new(),
            conns: vec![
                ("clock".into(), "clock".into()),
                ("reset".into(), "reset".into()),
            ],
            glue: String::new(),
        }
    }
    /// Without the `reset` port (the memories and arithmetic leaves have none).
    pub fn no_reset(mut self) -> Self {
        self.conns.retain(|(p, _)| p != "reset");
        self
    }
    /// Without the `clock` and `reset` ports (a combinational module).
    pub fn no_clock(mut self) -> Self {
        self.conns.retain(|(p, _)| p != "reset" && p != "clock");
        self
    }
    /// A parameter (an integer or any Verilog constant expression).
    pub fn param(mut self, name: &str, value: impl std::fmt::Display) -> Self {
        self.params.push((name.into(), value.to_string()));
        self
    }
    /// A parameter set only when `on`: otherwise the module's default holds and the Verilog
    /// is as it was without the option.
    pub fn param_if(self, on: bool, name: &str, value: impl std::fmt::Display) -> Self {
        if on {
            self.param(name, value)
        } else {
            self
        }
    }
    /// A port connected to a Verilog expression.
    pub fn port(mut self, port: &str, expr: &str) -> Self {
        self.conns.push((port.into(), expr.into()));
        self
    }
    /// The block's stream input `group` (`lanes` bytes) on the module's `prefix` ports
    /// (`{prefix}tdata`, `tvalid`, `tlast`, `tready`).
    pub fn axis_in(mut self, group: &str, prefix: &str, lanes: usize) -> Self {
        let s = AxisNames::new(group);
        let ready = format!("{}_{prefix}tready", self.name);
        self.glue.push_str(&format!(
            "wire {ready};\nalways @(*) {} = {ready};\n",
            s.tready()
        ));
        self.conns.extend([
            (format!("{prefix}tdata"), s.packed(lanes)),
            (format!("{prefix}tvalid"), s.tvalid()),
            (format!("{prefix}tlast"), s.tlast()),
            (format!("{prefix}tready"), ready),
        ]);
        self
    }
    /// The block's stream output `group` (`lanes` bytes) from the module's `prefix` ports.
    pub fn axis_out(mut self, group: &str, prefix: &str, lanes: usize) -> Self {
        let m = AxisNames::new(group);
        let w = |p: &str| format!("{}_{prefix}{p}", self.name);
        let (data, valid, last) = (w("tdata"), w("tvalid"), w("tlast"));
        self.glue.push_str(&format!(
            "wire [{}:0] {data};\nwire {valid}, {last};\nalways @(*) {} = {valid};\nalways @(*) {} = {last};\n",
            8 * lanes - 1,
            m.tvalid(),
            m.tlast()
        ));
        for l in 0..lanes {
            self.glue.push_str(&format!(
                "always @(*) {} = {data}[{}:{}];\n",
                m.tdata(l),
                8 * l + 7,
                8 * l
            ));
        }
        self.conns.extend([
            (format!("{prefix}tdata"), data),
            (format!("{prefix}tvalid"), valid),
            (format!("{prefix}tlast"), last),
            (format!("{prefix}tready"), m.tready()),
        ]);
        self
    }
    /// The Verilog: the glue, then the instance (parameters on its first line).
    pub fn verilog(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(n, v)| format!(".{n}({v})"))
            .collect();
        let conns: Vec<String> = self
            .conns
            .iter()
            .map(|(n, v)| format!("    .{n}({v})"))
            .collect();
        format!(
            "{}{} #({}) {} (\n{}\n);\n",
            self.glue,
            self.module,
            params.join(", "),
            self.name,
            conns.join(",\n")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_holds_the_module_it_is_named_after_with_a_header() {
        for m in MODULES {
            let decls: Vec<&str> = m
                .text
                .lines()
                .filter(|l| l.starts_with("module "))
                .collect();
            assert_eq!(decls.len(), 1, "{}: one module a file", m.name);
            assert!(
                decls[0].starts_with(&format!("module {} ", m.name)),
                "{}: declares {}",
                m.name,
                decls[0]
            );
            assert!(
                m.text.starts_with(&format!(
                    "// squeezeflow library module (hw/verilog/{}.v)",
                    m.name
                )),
                "{}: header",
                m.name
            );
        }
    }

    #[test]
    fn used_modules_include_what_library_modules_instantiate() {
        let names = |v: &str| -> Vec<&str> { used_by(v).iter().map(|m| m.name).collect() };
        assert_eq!(
            names("sqf_avg_pool #(.LANES(2)) u (...);"),
            // sqf_requant's ECP5 multipliers come with it (unused unless ECP5_MUL = 1).
            [
                "sqf_mul_ecp5",
                "sqf_requant",
                "sqf_out_fifo",
                "sqf_avg_pool"
            ]
        );
        assert_eq!(
            names("sqf_rom_lut #(.WIDTH(8)) a (); sqf_mac #(.SIMD(2)) b ();"),
            // sqf_mac's ECP5 and DSP48E2 multipliers come with it (unused unless ECP5_MUL or
            // DSP48E2 = 1).
            ["sqf_mul_ecp5", "sqf_mul_dsp48e2", "sqf_mac", "sqf_rom_lut"]
        );
        assert!(names("module top; endmodule").is_empty());
        let text = used_text("sqf_broadcast #(.LANES(1)) u ();");
        assert!(text.contains("module sqf_out_fifo ") && text.contains("module sqf_broadcast "));
        assert!(!text.contains("module sqf_mac "));
    }
}
