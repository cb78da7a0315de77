//! Names a user's project can hold. rust-hdl names every module after its path (`top`,
//! `top$net$nodes$12`) and every signal after its field path (`nodes$12$s_axis$tdata$0`); the
//! library modules are plain `sqf_*`. A bundle renames them once, as text, after generation:
//!
//! - the generated top module `top` becomes `<prefix>_core`, `top$net` becomes `<prefix>_net`,
//!   a graph node's module `top$net$nodes$12` becomes `<prefix>_<layer>` (`tiny_fire3_squeeze`)
//!   and its instance `nodes$12` becomes `<layer>`;
//! - every library module `sqf_x` becomes `<prefix>_sqf_x`, so two bundles elaborate together;
//! - every remaining `$` inside a name becomes `_`;
//! - `$readmemh` files named in `.FILE("...")` parameters move to `mem/`.
//!
//! The renaming must be one to one: if two different names of the generated text would end up
//! the same, the bundle is refused rather than silently merged.

use std::collections::HashMap;

use crate::HwError;

/// Verilog-2005 and SystemVerilog keywords a prefix must not make (only the ones a short
/// identifier could collide with are needed: a prefix always gets a suffix, but a `--top-name`
/// is used as given).
const KEYWORDS: &[&str] = &[
    "always",
    "and",
    "assign",
    "begin",
    "buf",
    "case",
    "casex",
    "casez",
    "cell",
    "config",
    "default",
    "defparam",
    "design",
    "disable",
    "edge",
    "else",
    "end",
    "endcase",
    "endfunction",
    "endmodule",
    "endtask",
    "event",
    "for",
    "force",
    "forever",
    "fork",
    "function",
    "generate",
    "genvar",
    "if",
    "initial",
    "inout",
    "input",
    "integer",
    "join",
    "library",
    "localparam",
    "module",
    "nand",
    "nor",
    "not",
    "or",
    "output",
    "parameter",
    "posedge",
    "negedge",
    "real",
    "reg",
    "release",
    "repeat",
    "signed",
    "specify",
    "supply0",
    "supply1",
    "table",
    "task",
    "time",
    "tri",
    "wait",
    "while",
    "wire",
    "xor",
    "xnor",
    "logic",
    "bit",
    "byte",
    "int",
    "interface",
    "package",
    "class",
    "program",
    "property",
    "type",
];

/// Checks that `name` can be a Verilog module name as written.
pub fn check_identifier(name: &str) -> Result<(), HwError> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.len() > 200
    {
        return Err(HwError::Bundle(format!(
            "`{name}` is not a plain Verilog name: letters, digits and _, not starting with a \
             digit, at most 200 characters"
        )));
    }
    if KEYWORDS.contains(&name) {
        return Err(HwError::Bundle(format!("`{name}` is a Verilog keyword")));
    }
    Ok(())
}

/// A network name as a Verilog identifier: anything but letters, digits and `_` becomes `_`,
/// and a leading digit gets an `n` in front.
pub fn sanitize(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'n');
    }
    s.truncate(120);
    s
}

/// What the renaming needs to know.
pub struct Renaming<'a> {
    /// Prefix of every module (`tiny`).
    pub prefix: &'a str,
    /// A label per graph node, in node order (`fire3.squeeze`).
    pub labels: &'a [String],
    /// The library modules' names.
    pub library: &'a [&'a str],
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}
fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}
/// Where the name (or number) that goes on at `i` ends.
fn ident_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_ident(b[i]) {
        i += 1;
    }
    i
}

/// Graph node labels (`fire3.squeeze`) as instance names (`fire3_squeeze`), made unique.
pub fn node_names(labels: &[String]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    labels
        .iter()
        .map(|l| {
            let base = sanitize(l);
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                base
            } else {
                format!("{base}_{n}")
            }
        })
        .collect()
}

impl Renaming<'_> {
    /// Replaces `nodes$<i>` at the start of a `$`-path with the node's name.
    fn with_node(path: &str, nodes: &[String]) -> String {
        if let Some(rest) = path.strip_prefix("nodes$") {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && (rest.len() == digits || rest.as_bytes()[digits] == b'$') {
                if let Some(name) = rest[..digits]
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| nodes.get(i))
                {
                    return format!("{name}{}", &rest[digits..]);
                }
            }
        }
        path.to_string()
    }

    /// The new name of a code token, if it changes.
    fn map(&self, tok: &str, nodes: &[String]) -> Option<String> {
        let p = self.prefix;
        if tok == "top" {
            return Some(format!("{p}_core"));
        }
        if self.library.contains(&tok) {
            return Some(format!("{p}_{tok}"));
        }
        if !tok.contains('$') {
            return None;
        }
        if let Some(path) = tok.strip_prefix("top$") {
            // A module: the path below the core, the graph's node named after its layer.
            let path = path
                .strip_prefix("net$")
                .map_or_else(|| path.to_string(), |below| Self::with_node(below, nodes));
            return Some(format!("{p}_{}", path.replace('$', "_")));
        }
        Some(Self::with_node(tok, nodes).replace('$', "_"))
    }

    /// Renames the generated text (see the module documentation).
    pub fn apply(&self, text: &str) -> Result<String, HwError> {
        let nodes = node_names(self.labels);
        let b = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        // Every code token's new name and the token it came from, within a module, and every
        // module's: the renaming is one to one where names can meet.
        let mut origin: HashMap<String, String> = HashMap::new();
        let mut modules: HashMap<String, String> = HashMap::new();
        let mut after_module = false;
        let mut i = 0;
        let mut plain = 0; // start of text not yet copied
        while i < b.len() {
            let c = b[i];
            if c == b'/' && b.get(i + 1) == Some(&b'/') {
                let end = text[i..].find('\n').map_or(b.len(), |e| i + e);
                out.push_str(&text[plain..i]);
                out.push_str(&self.comment(&text[i..end], &nodes));
                i = end;
                plain = i;
            } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
                let end = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
                out.push_str(&text[plain..i]);
                out.push_str(&self.comment(&text[i..end], &nodes));
                i = end;
                plain = i;
            } else if c == b'"' {
                let end = text[i + 1..].find('"').map_or(b.len(), |e| i + 1 + e + 1);
                i = end;
            } else if c == b'$' || c.is_ascii_digit() || c == b'\'' {
                // A system task, a number or a based literal: not a name.
                i = ident_end(b, i + 1);
            } else if is_ident_start(c) {
                let start = i;
                i = ident_end(b, i);
                let tok = &text[start..i];
                let new = self.map(tok, &nodes);
                let name = new.as_deref().unwrap_or(tok);
                if tok == "module" {
                    origin.clear();
                }
                // `.port(` names a port of the module instantiated, checked in that module.
                let port_ref = text[..start].trim_end().ends_with('.');
                let local = (!port_ref).then_some(&mut origin);
                for scope in [local, after_module.then_some(&mut modules)]
                    .into_iter()
                    .flatten()
                {
                    match scope.get(name) {
                        Some(from) if from != tok => {
                            return Err(HwError::Bundle(format!(
                                "renaming the generated Verilog would give `{from}` and `{tok}` \
                                 the same name `{name}`"
                            )))
                        }
                        Some(_) => {}
                        None => {
                            scope.insert(name.to_string(), tok.to_string());
                        }
                    }
                }
                after_module = tok == "module";
                if let Some(new) = new {
                    out.push_str(&text[plain..start]);
                    out.push_str(&new);
                    plain = i;
                }
            } else {
                i += 1;
            }
        }
        out.push_str(&text[plain..]);
        Ok(out.replace(".FILE(\"", ".FILE(\"mem/"))
    }

    /// A comment with its `$`-paths renamed (the word `top` in prose stays).
    fn comment(&self, text: &str, nodes: &[String]) -> String {
        let b = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let mut plain = 0;
        while i < b.len() {
            if is_ident_start(b[i]) {
                let start = i;
                i = ident_end(b, i);
                let tok = &text[start..i];
                if tok.contains('$') || self.library.contains(&tok) {
                    if let Some(new) = self.map(tok, nodes) {
                        out.push_str(&text[plain..start]);
                        out.push_str(&new);
                        plain = i;
                    }
                }
            } else {
                i += 1;
            }
        }
        out.push_str(&text[plain..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renaming<'a>(labels: &'a [String]) -> Renaming<'a> {
        Renaming {
            prefix: "tiny",
            labels,
            library: &["sqf_mac", "sqf_rom"],
        }
    }

    #[test]
    fn modules_instances_and_signals_are_named_after_layers_without_dollars() {
        let labels = vec!["conv1".to_string(), "fire2.squeeze".to_string()];
        let text = "module top$net$nodes$1(clock, s_axis$tdata$0);\n\
                    top$net$nodes$1 nodes$1 (.clock(nodes$1$clock));\n\
                    sqf_rom #(.FILE(\"conv1_w0.mem\")) rom (); $readmemh(\"x\", m);\n\
                    // nodes$0: conv1 (conv) at the top level, sqf_mac\n\
                    wire [7:0] a = 8'hff; endmodule // top\n";
        let got = renaming(&labels).apply(text).unwrap();
        assert_eq!(
            got,
            "module tiny_fire2_squeeze(clock, s_axis_tdata_0);\n\
             tiny_fire2_squeeze fire2_squeeze (.clock(fire2_squeeze_clock));\n\
             tiny_sqf_rom #(.FILE(\"mem/conv1_w0.mem\")) rom (); $readmemh(\"x\", m);\n\
             // conv1: conv1 (conv) at the top level, tiny_sqf_mac\n\
             wire [7:0] a = 8'hff; endmodule // top\n"
        );
    }

    #[test]
    fn two_names_made_one_are_refused() {
        let labels = vec!["conv1".to_string()];
        let err = renaming(&labels)
            .apply("wire a$b; wire a_b;")
            .unwrap_err()
            .to_string();
        assert!(err.contains("`a$b` and `a_b`"), "{err}");
        let err = renaming(&labels)
            .apply("wire nodes$0$clock; wire conv1_clock;")
            .unwrap_err()
            .to_string();
        assert!(err.contains("conv1_clock"), "{err}");
        // Names in different modules may meet; module names may not.
        assert!(renaming(&labels)
            .apply("module a; wire x$y; endmodule module b; wire x_y; endmodule")
            .is_ok());
        assert!(renaming(&labels)
            .apply("module a; wire wl$valid; sqf_mac #() u (.wl_valid(wl$valid)); endmodule")
            .is_ok());
        let err = renaming(&labels)
            .apply("module top$net$nodes$0; endmodule module tiny_conv1; endmodule")
            .unwrap_err()
            .to_string();
        assert!(err.contains("tiny_conv1"), "{err}");
    }

    #[test]
    fn names_are_checked_and_sanitized() {
        assert!(check_identifier("accel_a").is_ok());
        for bad in ["", "1abc", "a-b", "a$b", "module", "a b"] {
            assert!(check_identifier(bad).is_err(), "{bad}");
        }
        assert_eq!(sanitize("squeezenet1.1"), "squeezenet1_1");
        assert_eq!(sanitize("3net"), "n3net");
        assert_eq!(sanitize("../../x"), "______x");
    }
}
