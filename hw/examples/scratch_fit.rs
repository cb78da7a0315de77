use squeezeflow_hw::conv::ConvGeom;
use squeezeflow_hw::device::*;
use squeezeflow_hw::fire::fire_geoms;
use squeezeflow_hw::folding::*;
use squeezeflow_model::config::NetworkConfig;
use squeezeflow_model::network::{Network, Stage};
fn main() {
    let cfg = NetworkConfig::squeezenet1_1();
    let net = Network::new(&cfg).unwrap();
    let dev = find_device("xczu7ev").unwrap();
    for b in (500..3600).step_by(100) {
        let hw = HardwareConfig {
            mac_budget: Some(b),
            dsp_pairs: Some(true),
            ..Default::default()
        };
        let p = plan(&net, &hw).unwrap();
        let cyc = planned_cycles(&net, &p).unwrap();
        let mut geoms = vec![];
        for s in &net.stages {
            match s {
                Stage::Conv(l) => {
                    let f = p.fold[&l.name];
                    geoms.push(ConvGeom::new(l, f.pe, f.simd, 0).unwrap());
                }
                Stage::Fire(f) => geoms.extend(fire_geoms(f, &p.fire_fold(f)).unwrap()),
                _ => {}
            }
        }
        let mut dsp = 2u64;
        let mut dsp_old = 2u64;
        for g in &mut geoms {
            g.pairs = true;
            let r = g.pe.div_ceil(g.dg());
            dsp += (g.multipliers() + 2 * r) as u64;
            dsp_old += (g.multipliers() + 2 * g.pe) as u64;
        }
        // ROMs: (blocks, bits) per memory
        let mut roms: Vec<(f64, u64)> = vec![];
        for m in memories(&net, &p).unwrap() {
            if m.role == "line_buffer" {
                continue;
            }
            let bits = (m.width * m.depth) as u64;
            if rom_in_logic(m.width, m.depth) {
                for _ in 0..m.count {
                    roms.push((0.0, bits));
                }
                continue;
            }
            for _ in 0..m.count {
                roms.push((dev.blocks_for(m.width, m.depth), bits));
            }
        }
        let bram: f64 = roms.iter().map(|r| r.0).sum();
        let logic0: u64 = roms.iter().filter(|r| r.0 == 0.0).map(|r| r.1).sum();
        // greedy: move ROMs with fewest bits per block to logic until bram <= 0.97*312
        let mut cand: Vec<(f64, u64)> = roms.iter().copied().filter(|r| r.0 > 0.0).collect();
        cand.sort_by(|a, b| (a.1 as f64 / a.0).partial_cmp(&(b.1 as f64 / b.0)).unwrap());
        let (mut br, mut moved) = (bram, 0u64);
        for c in &cand {
            if br <= 300.0 {
                break;
            }
            br -= c.0;
            moved += c.1;
        }
        let luts = 60 * p.mac_lanes() as u64 + (logic0 + moved) / 55;
        println!("budget {b}: lanes {} cycles {cyc} fps {:.0} dsp {dsp_old} shared {dsp} bram {bram:.0} -> {br:.0} moved {:.2} Mbit logic total {:.2} Mbit luts~{}k",
            p.mac_lanes(), 300e6/cyc as f64, moved as f64/1e6, (logic0+moved) as f64/1e6, luts/1000);
    }
}
