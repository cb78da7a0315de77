//! The fit: the folding with the most frames per second that fits a device
//! ([`fit_network`], [`fit`]), the moves that make block RAM fit (weights into load-port RAMs,
//! ROMs into LUTs), and the planned cycles per frame a folding gives.

use serde::Serialize;
use squeezeflow_model::network::Network;
use squeezeflow_model::QuantModel;

use super::devices::Device;
use super::resources::{codebook_luts, memories, resources, rom_in_logic, uram_blocks, Resources};
use crate::folding::{plan, HardwareConfig, Plan};
use crate::synth::Family;
use crate::HwError;

/// On a part with UltraRAM, while block RAM overflows, moves the weights of one convolution
/// after another from ROM into RAM filled through the load port (`Plan::load_weights`; the
/// RAMs go to UltraRAM): the layer that frees the most block RAM per UltraRAM first, skipping
/// any that would overflow the UltraRAM. Returns the resources of the plan as left.
pub fn place_loaded_weights(
    net: &Network,
    plan: &mut Plan,
    dev: &Device,
) -> Result<Resources, HwError> {
    let mut r = resources(net, plan, dev)?;
    if dev.urams == 0 || r.bram <= dev.brams as f64 {
        return Ok(r);
    }
    let mut cands: Vec<(String, f64)> = memories(net, plan)?
        .into_iter()
        .filter(|m| {
            m.role == "weights"
                && !plan.load_weights.contains(&m.layer)
                && !plan.rom_logic.contains(&m.layer)
                && !rom_in_logic(m.width, m.depth)
        })
        .map(|m| {
            let blocks = dev.blocks_for(m.width, m.depth) * m.count as f64;
            let u = uram_blocks(&m) as f64;
            (m.layer, blocks / u)
        })
        .collect();
    cands.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    for (name, _) in cands {
        plan.load_weights.insert(name.clone());
        let next = resources(net, plan, dev)?;
        if next.uram > dev.urams {
            plan.load_weights.remove(&name);
            continue;
        }
        r = next;
        if r.bram <= dev.brams as f64 {
            break;
        }
    }
    Ok(r)
}

/// While the LUTs overflow `dev`'s usable share, stores one codebook layer after another
/// decoded (`Plan::decoded_weights`: int8 words, no `sqf_codebook`): the layer whose decoders
/// free the most LUTs per block RAM its wider words add first. With every layer decoded the
/// plan is the int8 one, so a codebook model never fits worse than its int8 twin. Returns the
/// resources of the plan as left.
pub fn place_decoded_weights(
    net: &Network,
    plan: &mut Plan,
    dev: &Device,
) -> Result<Resources, HwError> {
    let limit = (dev.luts as f64 * super::calibration::calibration().lut_fit_share.value) as u64;
    let mut r = resources(net, plan, dev)?;
    if r.luts <= limit {
        return Ok(r);
    }
    let mut cands: Vec<(String, f64)> = Vec::new();
    for s in &net.stages {
        for g in crate::layers::of(s).conv_geoms(plan)? {
            if !g.codebook() {
                continue;
            }
            let freed = codebook_luts(dev, &g) as f64;
            let blocks = |bits: usize| {
                let w = g.simd * bits;
                if rom_in_logic(w, g.rom_depth()) {
                    0.0
                } else {
                    dev.blocks_for(w, g.rom_depth()) * g.pe as f64
                }
            };
            let added = (blocks(8) - blocks(g.wbits)).max(0.0);
            cands.push((g.name.clone(), freed / (added + 0.5)));
        }
    }
    cands.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    for (name, _) in cands {
        plan.decoded_weights.insert(name);
        r = resources(net, plan, dev)?;
        if r.luts <= limit {
            break;
        }
    }
    Ok(r)
}

/// While block RAM overflows `dev`, moves the weight ROMs of one convolution after another
/// from block RAM into LUTs (`Plan::rom_logic`): the layer whose ROMs fill their blocks least
/// first (the most block RAM freed per bit), skipping any that would take the LUTs over
/// the calibrated `lut_fit_share`. Returns the resources of the plan as left. Not used by [`fit_network`]:
/// a whole XC7A200T design with such LUT ROMs came out of Yosys at several times its estimate
/// (most likely through its width converters of that time; not measured again).
pub fn place_roms(net: &Network, plan: &mut Plan, dev: &Device) -> Result<Resources, HwError> {
    let mut r = resources(net, plan, dev)?;
    if r.bram <= dev.brams as f64 {
        return Ok(r);
    }
    let lut_limit =
        (dev.luts as f64 * super::calibration::calibration().lut_fit_share.value) as u64;
    let mut cands: Vec<(String, f64)> = memories(net, plan)?
        .into_iter()
        .filter(|m| {
            m.role == "weights"
                && !plan.rom_logic.contains(&m.layer)
                && !rom_in_logic(m.width, m.depth)
        })
        .map(|m| {
            let blocks = dev.blocks_for(m.width, m.depth) * m.count as f64;
            (m.layer, blocks / (m.width * m.depth * m.count) as f64)
        })
        .collect();
    cands.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    for (name, _) in cands {
        plan.rom_logic.insert(name.clone());
        let next = resources(net, plan, dev)?;
        if next.luts > lut_limit {
            plan.rom_logic.remove(&name);
            continue;
        }
        r = next;
        if r.bram <= dev.brams as f64 {
            break;
        }
    }
    Ok(r)
}

/// Why a network does not fit a device.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// Even the smallest folding is too big.
    #[error("{network} does not fit the {device} ({board}) even with its smallest folding ({lanes} MAC lanes): {what}")]
    TooBig {
        network: String,
        device: String,
        board: String,
        lanes: usize,
        what: String,
    },
    #[error(transparent)]
    Hw(#[from] HwError),
}

/// The folding chosen for a device, with its figures.
#[derive(Clone, Debug, Serialize)]
pub struct Fit {
    pub device: Device,
    /// The MAC-lane budget the folding was planned with.
    pub mac_budget: usize,
    pub plan: Plan,
    pub resources: Resources,
    pub cycles_per_frame: u64,
    /// At the device's nominal clock.
    pub frames_per_second: f64,
    pub clock_mhz: f64,
}

/// Budget step of [`fit`]'s scan.
pub const FIT_STEP: usize = 8;

/// The folding with the most frames per second that fits `dev` (DSPs, block RAM, URAM), within
/// `hw.mac_budget` lanes if given (per-layer overrides in `hw` are kept): the plan of the
/// largest MAC budget that fits (budgets scanned every [`FIT_STEP`] lanes down from the cap,
/// then lane by lane above the first that fits).
pub fn fit_network(
    net: &Network,
    dev: &Device,
    hw: &HardwareConfig,
) -> Result<(usize, Plan, Resources), FitError> {
    let try_budget = |b: usize| -> Result<(Plan, Resources), HwError> {
        let mut h = hw.clone();
        h.mac_budget = Some(b);
        // Pairs gain nothing on ECP5's 18x18 multipliers (and cost LUTs).
        h.dsp_pairs = h.dsp_pairs.or(Some(dev.family != Family::Ecp5));
        // On ECP5 the multipliers' output registers, which Yosys does not pack (docs/timing.md).
        h.mul_ecp5 = h.mul_ecp5.or(Some(dev.family == Family::Ecp5));
        // On UltraScale+ the paired MACs' DSP48E2 registers, which Yosys does not pack either.
        h.dsp48e2 = h
            .dsp48e2
            .or(Some(dev.family == Family::XilinxUltraScalePlus));
        // And the weight ROMs' block RAM reads registered before the banks' multiplexer.
        h.rom_banks = h.rom_banks.or(Some(dev.family == Family::Ecp5));
        // On ECP5 the line buffers' words in the block RAMs' output registers.
        h.lb_reg = h.lb_reg.or(Some(dev.family == Family::Ecp5));
        // On ECP5 a register slice between every two blocks.
        h.link_slices = h.link_slices.or(Some(dev.family == Family::Ecp5));
        // On Xilinx (LUT RAM) the bypass FIFOs' reads at a register address.
        h.fifo_raddr_reg = h.fifo_raddr_reg.or(Some(dev.family != Family::Ecp5));
        // Weight ROMs stay where Yosys puts them by default ([`place_roms`] is not used here:
        // an XC7A200T bundle with one layer's ROMs moved to LUTs came out of Yosys at 515,396
        // LUTs, four times the estimate, most likely through the shift-register width
        // converters of that time rather than the ROMs; not measured again yet, see docs/devices.md).
        let mut p = plan(net, &h)?;
        // Codebook decoders that overflow the LUTs give way to decoded (int8) storage.
        place_decoded_weights(net, &mut p, dev)?;
        // On a part with UltraRAM, weights that overflow block RAM move to loaded RAMs there.
        let r = place_loaded_weights(net, &mut p, dev)?;
        Ok((p, r))
    };
    let cap = hw.mac_budget.unwrap_or(2 * dev.dsps as usize).max(1);
    // The smallest folding: one lane per layer where possible.
    let smallest = (1..=cap).find_map(|b| try_budget(b).ok());
    let Some((p0, r0)) = smallest.clone() else {
        return Err(HwError::Folding(format!(
            "no folding of {} fits a budget of {cap} MAC lanes",
            net.config.name
        ))
        .into());
    };
    let over = r0.overflows(dev);
    if !over.is_empty() {
        return Err(FitError::TooBig {
            network: net.config.name.clone(),
            device: dev.name.into(),
            board: dev.board.into(),
            lanes: p0.mac_lanes(),
            what: over.join("; "),
        });
    }
    // Resource use is not monotonic in the budget (a budget that adds PEs to a layer makes its
    // ROMs shallower and can waste block RAM; the next one may add SIMD instead), but the planned
    // frame period never grows with it: the fastest folding that fits is the one of the largest
    // budget that fits. Scan down from the cap in steps of FIT_STEP lanes, then refine upwards.
    let lo = p0.mac_lanes().max(1);
    let mut best = (lo, p0, r0);
    let fits = |b: usize| {
        try_budget(b)
            .ok()
            .filter(|(_, r)| r.overflows(dev).is_empty())
    };
    let mut b = cap;
    while b > lo {
        if let Some((p, r)) = fits(b) {
            best = (b, p, r);
            for up in (b + 1..(b + FIT_STEP).min(cap + 1)).rev() {
                if let Some((p, r)) = fits(up) {
                    best = (up, p, r);
                    break;
                }
            }
            break;
        }
        b = b.saturating_sub(FIT_STEP).max(lo);
    }
    Ok(best)
}

/// [`fit_network`] for a model, with the estimated cycles per frame of the chosen folding.
pub fn fit(model: &QuantModel, dev: &Device, hw: &HardwareConfig) -> Result<Fit, FitError> {
    let (budget, plan, resources) = fit_network(&model.network, dev, hw)?;
    let est = crate::network::estimate(model, &plan)?;
    Ok(Fit {
        device: dev.clone(),
        mac_budget: budget,
        frames_per_second: dev.fps(est.cycles_per_frame),
        cycles_per_frame: est.cycles_per_frame,
        clock_mhz: dev.clock_mhz,
        plan,
        resources,
    })
}

/// Cycles per frame a folding was planned for, without building the engine (no model needed):
/// the slowest convolution, pool, concatenation or the input (one pixel a beat). The engine's
/// own estimate ([`crate::network::estimate`]) also counts its width converters.
pub fn planned_cycles(net: &Network, plan: &Plan) -> Result<u64, HwError> {
    let mut t = net.input_shape().pixels() as u64;
    for s in &net.stages {
        t = t.max(crate::layers::of(s).cycles(plan)?);
    }
    Ok(t)
}

/// The smallest MAC budget whose folding reaches `cycles` per frame (planned), with its plan;
/// None when no folding does (the input's one pixel a beat, or the widest folding, is slower).
pub fn lanes_for(net: &Network, cycles: u64) -> Result<Option<(Plan, u64)>, HwError> {
    let hw = |b: usize| HardwareConfig {
        mac_budget: Some(b),
        ..Default::default()
    };
    let max: usize = net
        .convs()
        .iter()
        .map(|l| l.in_channels().min(crate::conv::MAX_SIMD) * l.out_channels())
        .sum();
    let top = plan(net, &hw(max))?;
    if planned_cycles(net, &top)? > cycles {
        return Ok(None);
    }
    let (mut lo, mut hi) = (1usize, max);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match plan(net, &hw(mid)) {
            Ok(p) if planned_cycles(net, &p)? <= cycles => hi = mid,
            _ => lo = mid + 1,
        }
    }
    let p = plan(net, &hw(hi))?;
    let c = planned_cycles(net, &p)?;
    Ok(Some((p, c)))
}
