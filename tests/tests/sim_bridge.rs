//! The Verilator bridge survives Verilator's fatal errors: a `$stop`, a memory file with a word
//! that is not hex, a VCD file on a full disk. Each used to print "Aborting..." and take the
//! whole process down (SIGABRT); now the instance stops and says why, and the process goes on.

use squeezeflow_sim::verilator::{BuildOptions, Model};
use squeezeflow_tests::scratch;

const DESIGN: &str = "module top (
    input wire clock,
    output reg [7:0] count,
    output wire [7:0] word
);
    reg [7:0] mem [0:3];
    initial begin $readmemh(\"words.mem\", mem); count = 0; end
    assign word = mem[count[1:0]];
    always @(posedge clock) begin
        count <= count + 8'd1;
        if (count == 8'd5) $stop;
    end
endmodule
";

fn model(tag: &str, words: &str, trace: bool) -> Model {
    let dir = scratch(tag);
    let top = dir.join("top.v");
    std::fs::write(&top, DESIGN).unwrap();
    std::fs::write(dir.join("words.mem"), words).unwrap();
    let text = std::fs::read_to_string(&top).unwrap().replace(
        "\"words.mem\"",
        &format!("\"{}\"", dir.join("words.mem").display()),
    );
    std::fs::write(&top, text).unwrap();
    let opt = BuildOptions {
        trace,
        ..Default::default()
    };
    Model::build(std::slice::from_ref(&top), &top, &dir, &opt).unwrap()
}

#[test]
fn a_stop_stops_the_instance_not_the_process() {
    let m = model("bridge_stop", "0a\n0b\n0c\n0d\n", false);
    let clock = m.port("clock").unwrap();
    let count = m.port("count").unwrap();
    let word = m.port("word").unwrap();
    let mut i = m.instance();
    assert_eq!(i.get(word), 0x0a);
    for _ in 0..5 {
        i.tick(clock);
    }
    assert!(i.error().is_none());
    assert_eq!(i.get(count), 5);
    i.tick(clock);
    let e = i.error().expect("the $stop is reported");
    assert!(e.contains("$stop"), "{e}");
    // Stopped: later calls do nothing, and the error stays.
    i.tick(clock);
    assert!(i.check().unwrap_err().to_string().contains("$stop"));
    drop(i);
    // A fresh instance of the same model runs again.
    let mut j = m.instance();
    j.tick(clock);
    assert_eq!(j.get(count), 1);
    assert!(j.error().is_none());
}

#[test]
fn a_bad_memory_word_and_a_full_disk_are_errors() {
    let m = model("bridge_bad_word", "0a\nzz\n0c\n0d\n", true);
    let i = m.instance();
    let e = i.error().expect("the bad word is reported");
    assert!(
        e.to_lowercase().contains("readmem") || e.contains("words.mem"),
        "{e}"
    );
    drop(i);

    let m = model("bridge_vcd", "0a\n0b\n0c\n0d\n", true);
    let clock = m.port("clock").unwrap();
    let mut i = m.instance();
    let e = i
        .trace(std::path::Path::new("/nonexistent-dir/x.vcd"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot write the VCD file"), "{e}");
    drop(i);
    // A full disk: the error comes when the header or a later block is written.
    let mut i = m.instance();
    let e = match i.trace(std::path::Path::new("/dev/full")) {
        Err(e) => e,
        Ok(()) => {
            for _ in 0..3 {
                i.tick(clock);
            }
            i.finish_trace().unwrap_err()
        }
    }
    .to_string();
    assert!(e.contains("No space left"), "{e}");
    drop(i);
    let mut i = m.instance();
    i.tick(clock);
    assert!(i.error().is_none());
}

/// A design that fails to build leaves no temporary folder in the model cache.
#[test]
fn a_failed_build_leaves_the_cache_clean() {
    let dir = scratch("bridge_bad_build");
    let cache = dir.join("cache");
    let top = dir.join("top.v");
    std::fs::write(
        &top,
        "module top (\n    input wire clock\n);\n    this is not verilog;\nendmodule\n",
    )
    .unwrap();
    let opt = BuildOptions {
        cache_dir: Some(cache.clone()),
        ..Default::default()
    };
    let Err(e) = Model::build(std::slice::from_ref(&top), &top, &dir, &opt) else {
        panic!("a design that is not Verilog built");
    };
    let e = e.to_string();
    assert!(e.contains("verilator failed"), "{e}");
    let left: Vec<_> = std::fs::read_dir(cache.join("verilator"))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left in the cache: {left:?}");
}
