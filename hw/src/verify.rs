//! Checking a bundle before anything loads it: every file the manifest lists is there and has
//! the digest the manifest recorded (unless edits are allowed), and every `$readmemh` file holds
//! exactly the words its memory declares, each a hexadecimal number that fits the memory's width.
//! A bad word would otherwise stop Verilator with a fatal error that takes the host down, and a
//! file cut short would leave part of a memory unknown.

use std::collections::BTreeMap;
use std::path::Path;

use crate::bundle::{fnv1a64, Manifest};
use crate::HwError;

/// FNV-1a 64 of every file of the manifest's list but `manifest.json` itself, hex.
pub fn digests(dir: &Path, m: &Manifest) -> Result<BTreeMap<String, String>, HwError> {
    let mut out = BTreeMap::new();
    for f in m.files.iter().filter(|f| *f != "manifest.json") {
        let p = dir.join(f);
        let bytes = std::fs::read(&p).map_err(HwError::io(p.display()))?;
        out.insert(f.clone(), format!("{:016x}", fnv1a64(&bytes)));
    }
    Ok(out)
}

/// The (width, depth) of every memory file the sources name: `.WIDTH(w)`, `.DEPTH(d)` and
/// `.FILE("mem/...")` on one instance line, as the library's instances are written.
fn memory_shapes(sources: &[String]) -> BTreeMap<String, (u32, usize)> {
    let param = |line: &str, name: &str| -> Option<u64> {
        let at = line.find(&format!(".{name}("))? + name.len() + 2;
        let end = line[at..].find(')')? + at;
        line[at..end].trim().parse().ok()
    };
    let mut out = BTreeMap::new();
    for text in sources {
        for line in text.lines() {
            let Some(at) = line.find(".FILE(\"") else {
                continue;
            };
            let rest = &line[at + 7..];
            let Some(end) = rest.find('"') else { continue };
            if let (Some(w), Some(d)) = (param(line, "WIDTH"), param(line, "DEPTH")) {
                out.insert(rest[..end].to_string(), (w as u32, d as usize));
            } else if let (true, Some(k)) = (line.contains("sqf_codebook"), param(line, "K")) {
                // A codebook: 2^K bytes.
                out.insert(rest[..end].to_string(), (8, 1usize << k.min(16)));
            }
        }
    }
    out
}

/// Checks one memory file's words against its shape.
fn check_words(file: &str, text: &str, width: u32, depth: usize) -> Result<(), HwError> {
    let bad = |what: String| Err(HwError::Bundle(format!("{file}: {what}")));
    let mut n = 0usize;
    for (i, line) in text.lines().enumerate() {
        let w = line.trim();
        if w.is_empty() {
            continue;
        }
        if !w.bytes().all(|b| b.is_ascii_hexdigit()) {
            return bad(format!("line {}: `{w}` is not a hexadecimal word", i + 1));
        }
        // Words may be wider than 64 bits (PEs sharing an index ROM): count significant bits.
        let digits = w.trim_start_matches('0');
        let bits = match digits.chars().next().and_then(|c| c.to_digit(16)) {
            None => 0,
            Some(first) => 4 * (digits.len() as u64 - 1) + (32 - first.leading_zeros()) as u64,
        };
        if bits > width as u64 {
            return bad(format!("line {}: `{w}` does not fit {width} bits", i + 1));
        }
        n += 1;
    }
    if n != depth {
        return bad(format!(
            "{n} words, the memory holds {depth} (cut short or padded?)"
        ));
    }
    Ok(())
}

/// Verifies a bundle's files (see the module documentation). With `allow_edited`, files whose
/// digest differs from the manifest's are accepted (their words are still checked).
pub fn verify(dir: &Path, m: &Manifest, allow_edited: bool) -> Result<(), HwError> {
    let mut sources = Vec::new();
    for f in &m.rtl {
        let p = dir.join(f);
        sources.push(std::fs::read_to_string(&p).map_err(HwError::io(p.display()))?);
    }
    let shapes = memory_shapes(&sources);
    for f in m.files.iter().filter(|f| *f != "manifest.json") {
        let p = dir.join(f);
        let bytes = std::fs::read(&p).map_err(|e| {
            let what = if f.ends_with(".mem") {
                "memory file"
            } else {
                "file"
            };
            HwError::Bundle(format!(
                "{}: {what} {f} is missing or unreadable ({e}); the manifest lists it",
                dir.display()
            ))
        })?;
        if let Some(want) = m.digests.get(f) {
            let got = format!("{:016x}", fnv1a64(&bytes));
            if &got != want && !allow_edited {
                return Err(HwError::Bundle(format!(
                    "{}: {f} differs from what gen wrote (digest {got}, the manifest says \
                     {want}); regenerate the bundle, or pass --allow-edited to run it as it is",
                    dir.display()
                )));
            }
        }
        if let Some(&(w, d)) = shapes.get(f) {
            let text = String::from_utf8(bytes)
                .map_err(|_| HwError::Bundle(format!("{}: {f} is not text", dir.display())))?;
            check_words(f, &text, w, d)
                .map_err(|e| HwError::Bundle(format!("{}: {e}", dir.display())))?;
        }
    }
    for f in shapes.keys() {
        if !m.files.contains(f) {
            return Err(HwError::Bundle(format!(
                "{}: the Verilog reads {f}, which the manifest does not list",
                dir.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_hex_fit_their_width_and_fill_the_memory() {
        assert!(check_words("a", "0f\nff\n", 8, 2).is_ok());
        let e = check_words("a", "0f\nzz\n", 8, 2).unwrap_err().to_string();
        assert!(
            e.contains("line 2") && e.contains("not a hexadecimal"),
            "{e}"
        );
        let e = check_words("a", "0f\n1ff\n", 8, 2).unwrap_err().to_string();
        assert!(e.contains("does not fit 8 bits"), "{e}");
        let e = check_words("a", "0f\n", 8, 2).unwrap_err().to_string();
        assert!(e.contains("1 words, the memory holds 2"), "{e}");
        // Words wider than 64 bits (shared index ROMs): 144 bits in 36 digits.
        let wide = format!("{}\n{}\n", "f".repeat(36), "0".repeat(36));
        assert!(check_words("a", &wide, 144, 2).is_ok());
        assert!(check_words("a", &wide, 143, 2)
            .unwrap_err()
            .to_string()
            .contains("143 bits"));
        assert!(check_words("a", "00007\n", 3, 1).is_ok());
        assert!(check_words("a", "00008\n", 3, 1).is_err());
        assert!(check_words("a", "0\n", 1, 1).is_ok());
    }

    #[test]
    fn shapes_come_from_the_instances() {
        let src = vec![
            "x_sqf_rom #(.WIDTH(24), .DEPTH(9), .ABITS(4), .FILE(\"mem/conv1_w0.mem\")) w (".into(),
        ];
        assert_eq!(memory_shapes(&src)["mem/conv1_w0.mem"], (24, 9));
        let src =
            vec!["x_sqf_codebook #(.SIMD(8), .K(6), .FILE(\"mem/conv10_cb.mem\")) book0 (".into()];
        assert_eq!(memory_shapes(&src)["mem/conv10_cb.mem"], (8, 64));
    }
}
