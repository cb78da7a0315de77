//! Walks of a Yosys JSON netlist's module: the net bits on a cell's port, and each bit's
//! driving and loading cells.

/// The net bits on a cell's port in a Yosys JSON netlist (constants left out).
pub fn port_bits(c: &serde_json::Value, port: &str) -> Vec<u64> {
    c["connections"][port]
        .as_array()
        .map(|a| a.iter().filter_map(|b| b.as_u64()).collect())
        .unwrap_or_default()
}

/// The cells of a Yosys JSON module whose ports of direction `dir` ("output", "input") are
/// on each net bit.
pub fn cells_by_bit<'a>(
    module: &'a serde_json::Value,
    dir: &str,
) -> std::collections::HashMap<u64, Vec<&'a str>> {
    let mut by: std::collections::HashMap<u64, Vec<&str>> = Default::default();
    for (name, c) in module["cells"].as_object().unwrap() {
        for (p, _) in c["connections"].as_object().unwrap() {
            if c["port_directions"][p] == dir {
                for b in port_bits(c, p) {
                    by.entry(b).or_default().push(name);
                }
            }
        }
    }
    by
}

/// Each net bit's driving cell in a Yosys JSON module.
pub fn drivers(module: &serde_json::Value) -> std::collections::HashMap<u64, &str> {
    cells_by_bit(module, "output")
        .into_iter()
        .map(|(b, v)| (b, v[0]))
        .collect()
}

/// Each net bit's loading cells (at their inputs) in a Yosys JSON module.
pub fn loads_of(module: &serde_json::Value) -> std::collections::HashMap<u64, Vec<&str>> {
    cells_by_bit(module, "input")
}
