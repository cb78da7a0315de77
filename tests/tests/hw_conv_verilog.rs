//! The convolution engine's Verilog, in Verilator, against the integer reference and against
//! its own Rust model: same stimulus, same stalls, same bytes and the same cycle counts.

use squeezeflow_hw::bundle::write_block;
use squeezeflow_hw::conv::ConvEngine;
use squeezeflow_hw::harness::{drive, run_stream, Stalls};
use squeezeflow_model::float::SplitMix64;
use squeezeflow_model::network::{ConvLayer, Shape};
use squeezeflow_model::qmodel::QConv;
use squeezeflow_model::reference::naive;
use squeezeflow_sim::stream::VerilatedStreams;
use squeezeflow_tests::{lint_iverilog, lint_verilator, scratch, verilate};

#[test]
fn conv_engine_verilog_equals_reference_and_rust_model() {
    let cases = [
        (
            "c3",
            ConvLayer::new("fire2.expand3x3".into(), Shape::new(6, 7, 4), 6, 3, 1, 1).unwrap(),
            2,
            2,
        ),
        (
            "c1s2",
            ConvLayer::new("conv1".into(), Shape::new(9, 8, 3), 4, 3, 2, 0).unwrap(),
            4,
            3,
        ),
    ];
    for (tag, layer, pe, simd) in cases {
        let q = QConv::random(&layer, 5);
        let mut r = SplitMix64::new(9);
        let frames: Vec<Vec<u8>> = (0..3)
            .map(|_| (0..layer.input.len()).map(|_| r.next_u64() as u8).collect())
            .collect();
        let want: Vec<Vec<u8>> = frames.iter().map(|f| naive::conv(f, &layer, &q)).collect();
        let flat = frames.concat();
        let mut block = ConvEngine::from_layer(&layer, &q, pe, simd, 0).unwrap();
        let design = write_block(&mut block, &scratch(&format!("conv_{tag}"))).unwrap();
        lint_verilator(&design);
        lint_iverilog(&design);
        let model = verilate(&design);
        for stalls in [Stalls::random(21), Stalls::NONE] {
            let mut dut = VerilatedStreams::new(&model, &["s_axis"], "m_axis").unwrap();
            let v = drive(
                &mut dut,
                &[&flat],
                &[layer.input.len()],
                3,
                layer.output.len(),
                stalls,
                50_000,
            )
            .unwrap();
            assert_eq!(
                v.frames, want,
                "{tag}: Verilog output differs from the reference ({stalls:?})"
            );
            let mut hdl = ConvEngine::from_layer(&layer, &q, pe, simd, 0).unwrap();
            let h = run_stream(
                &mut hdl,
                &[&flat],
                &[layer.input.len()],
                3,
                layer.output.len(),
                stalls,
                50_000,
            )
            .unwrap();
            assert_eq!(h.frames, want);
            assert_eq!(
                v.frame_done, h.frame_done,
                "{tag}: Verilog and Rust model differ in timing"
            );
        }
    }
}
