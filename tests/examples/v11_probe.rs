use squeezeflow_hw::harness::{drive, Stalls};
use squeezeflow_sim::stream::VerilatedTop;
fn main() {
    let dir = std::path::Path::new("/tmp/v11bundle");
    let t = std::time::Instant::now();
    let sources = vec![dir.join("sqf_lib.v"), dir.join("top.v")];
    let model = squeezeflow_sim::verilator::Model::build(
        &sources,
        &dir.join("top.v"),
        dir,
        &squeezeflow_sim::verilator::BuildOptions {
            verbose: true,
            ..Default::default()
        },
    )
    .unwrap();
    eprintln!("build {:?}", t.elapsed());
    let m = squeezeflow_model::QuantModel::synthetic(
        &squeezeflow_model::NetworkConfig::squeezenet1_1(),
        1,
    )
    .unwrap();
    let frames: Vec<Vec<u8>> = (0..3)
        .map(|i| squeezeflow_model::float::synthetic_frame(m.network.input_shape(), i))
        .collect();
    let want: Vec<Vec<u8>> = frames
        .iter()
        .map(|f| {
            squeezeflow_model::reference::run(&m, f, squeezeflow_model::reference::Path::Fast)
                .unwrap()
                .logits
                .iter()
                .flat_map(|l| l.to_le_bytes())
                .collect()
        })
        .collect();
    let flat = frames.concat();
    let mut dut = VerilatedTop::new(&model).unwrap();
    let t = std::time::Instant::now();
    let r = drive(
        &mut dut,
        &[&flat],
        &[flat.len() / 3],
        3,
        2000,
        Stalls::NONE,
        5_000_000,
    )
    .unwrap();
    let s = t.elapsed().as_secs_f64();
    eprintln!(
        "{} cycles in {s:.1}s = {:.0} cycles/s; frame ends {:?}",
        r.cycles,
        r.cycles as f64 / s,
        r.frame_done
    );
    eprintln!("match: {}", r.frames == want);
}
