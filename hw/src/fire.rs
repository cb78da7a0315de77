//! The Fire module as a graph of engines:
//!
//! ```text
//!            ┌──────────────── bypass FIFO ── [1x1 bypass conv] ───────────────┐
//! s_axis ─ fork                                                                  add ─ m_axis
//!            └─ squeeze ─ fork ─ expand1x1 (line buffer of 4 rows) ─┐           │
//!                            └── expand3x3 ─────────────────────────concat ─────┘
//! ```
//!
//! (The first fork, the FIFO and the add exist only with a bypass.) Width converters sit
//! wherever one block's `pe` differs from the next one's `simd`, and each expand's output
//! passes a FIFO of two pixels before the concatenation, so the two expands compute at the
//! same time instead of taking turns.
//!
//! **Buffering that keeps the branches from deadlocking, and running at full rate.** The
//! concatenation takes expand1x1's outputs for pixel p before expand3x3's. An engine starts an
//! output row only when every input row of its window is complete, so before expand3x3 (3x3,
//! pad 1) produces any pixel of row y it must hold squeeze row y+1 entirely: up to 2W pixels
//! beyond the first pixel of row y, where W is the map width. Those pixels also go to
//! expand1x1, which cannot emit past pixel p while the concatenation waits; so expand1x1 must
//! hold 2W squeeze pixels beyond the one it works on, and W more keep the squeeze stream flowing
//! while expand3x3 works through a row (no bubble at row starts). Its line buffer writes up to
//! `rows - 1` rows ahead of the row it computes: `rows - 1 >= 3`, so 4 rows
//! (`EXPAND1X1_ROWS`). The same argument sizes the bypass FIFO: the add takes concat pixel p with
//! bypass pixel p, and the squeeze path needs the module's input up to 2W pixels beyond p to
//! produce it, so the bypass FIFO holds 3W + 4 pixels of the module's input
//! (`bypass_fifo_pixels`). Smaller FIFOs deadlock (a test shows it).

use squeezeflow_model::network::{FireBypass, FireLayer};
use squeezeflow_model::QuantModel;

use crate::blocks::{Broadcast, BypassAdd, Concat, Gearbox, StreamFifo};
use crate::conv::{ConvEngine, ConvGeom};
use crate::graph::{End, Graph, GraphBuilder, Node};
use crate::HwError;

/// Line-buffer rows of the 1x1 expand (see the module documentation).
pub(crate) const EXPAND1X1_ROWS: usize = 4;

/// Folding of one convolution: output channels and input channels in parallel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fold {
    pub pe: usize,
    pub simd: usize,
}

/// Folding of a Fire module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FireFold {
    pub squeeze: Fold,
    pub expand1x1: Fold,
    pub expand3x3: Fold,
    /// The 1x1 bypass convolution (complex bypass only).
    pub bypass: Option<Fold>,
    /// Lanes of the concatenated output (must divide both expands' channel counts).
    pub cat_lanes: usize,
}

/// Adds a width converter from `from` to `lanes` if needed; returns the new source end.
pub(crate) fn adapt(
    b: &mut GraphBuilder,
    label: &str,
    from: End,
    in_lanes: usize,
    lanes: usize,
    frame_bytes: usize,
) -> Result<End, HwError> {
    let have = b.lanes_of(from, in_lanes);
    if have == lanes {
        return Ok(from);
    }
    let gb = Gearbox::new(have, lanes, frame_bytes)?;
    let cycles = (frame_bytes / have.min(lanes)) as u64;
    let n = b.add(&format!("{label}.gearbox"), Node::Gearbox(gb), cycles);
    b.connect(from, End::Node { node: n, port: 0 });
    Ok(End::Node { node: n, port: 0 })
}

/// Adds a convolution engine fed from `from`; returns its output end.
pub(crate) fn add_conv(
    b: &mut GraphBuilder,
    layer: &squeezeflow_model::network::ConvLayer,
    model: &QuantModel,
    fold: Fold,
    min_rows: usize,
    from: End,
    in_lanes: usize,
) -> Result<End, HwError> {
    let src = adapt(b, &layer.name, from, in_lanes, fold.simd, layer.input.len())?;
    let base = b.load_base(&layer.name, fold.pe)?;
    let e = ConvEngine::from_layer(layer, model.conv(&layer.name), fold.pe, fold.simd, min_rows)?
        .with_pairs(b.dsp_pairs)
        .with_mul_ecp5(b.mul_ecp5)
        .with_dsp48e2(b.dsp48e2)
        .with_lb_reg(b.lb_reg)
        .with_rom_logic(b.rom_logic.contains(&layer.name))
        .with_decoded_weights(b.decoded_weights.contains(&layer.name))
        .with_load(base)?
        // Last: the bank follows the ROM's word, which the decoded weights change.
        .with_rom_banks(b.rom_banks);
    let cycles = e.geom().cycles_per_frame();
    let n = b.add(&layer.name, Node::Conv(e), cycles);
    b.connect(src, End::Node { node: n, port: 0 });
    Ok(End::Node { node: n, port: 0 })
}

fn add_fork(
    b: &mut GraphBuilder,
    label: &str,
    from: End,
    in_lanes: usize,
    beats: usize,
) -> (End, End) {
    let lanes = b.lanes_of(from, in_lanes);
    let n = b.add(label, Node::Broadcast(Broadcast::new(lanes)), beats as u64);
    b.connect(from, End::Node { node: n, port: 0 });
    (
        End::Node { node: n, port: 0 },
        End::Node { node: n, port: 1 },
    )
}

/// Adds a whole Fire module fed from `from`; returns its output end (`fold.cat_lanes` lanes).
pub(crate) fn add_fire(
    b: &mut GraphBuilder,
    f: &FireLayer,
    model: &QuantModel,
    fold: &FireFold,
    from: End,
    in_lanes: usize,
) -> Result<End, HwError> {
    add_fire_sized(
        b,
        f,
        model,
        fold,
        from,
        in_lanes,
        bypass_fifo_pixels(f.input.w),
    )
}

/// [`add_fire`] with a chosen bypass FIFO size in pixels (tests show what too small does).
pub(crate) fn add_fire_sized(
    b: &mut GraphBuilder,
    f: &FireLayer,
    model: &QuantModel,
    fold: &FireFold,
    from: End,
    in_lanes: usize,
    fifo_pixels: usize,
) -> Result<End, HwError> {
    let (c1, c3) = (f.expand1x1.out_channels(), f.expand3x3.out_channels());
    let cat = fold.cat_lanes;
    if cat == 0 || c1 % cat != 0 || c3 % cat != 0 {
        return Err(HwError::Folding(format!(
            "{}: cat_lanes = {cat} must divide {c1} and {c3}",
            f.name
        )));
    }
    let src_lanes = b.lanes_of(from, in_lanes);
    let in_bytes = f.input.len();
    let (main, bypass) = if f.has_add() {
        let (m, bp) = add_fork(
            b,
            &format!("{}.fork", f.name),
            from,
            in_lanes,
            in_bytes / src_lanes,
        );
        (m, Some(bp))
    } else {
        (from, None)
    };
    let sq = add_conv(b, &f.squeeze, model, fold.squeeze, 0, main, in_lanes)?;
    let sq_lanes = fold.squeeze.pe;
    let (to1, to3) = add_fork(
        b,
        &format!("{}.squeeze.fork", f.name),
        sq,
        in_lanes,
        f.squeeze.output.len() / sq_lanes,
    );
    let e1 = add_conv(
        b,
        &f.expand1x1,
        model,
        fold.expand1x1,
        EXPAND1X1_ROWS,
        to1,
        in_lanes,
    )?;
    let e3 = add_conv(b, &f.expand3x3, model, fold.expand3x3, 0, to3, in_lanes)?;
    let pixels = f.output.pixels();
    let a = adapt(b, &f.expand1x1.name, e1, in_lanes, cat, pixels * c1)?;
    let c = adapt(b, &f.expand3x3.name, e3, in_lanes, cat, pixels * c3)?;
    // Two pixels of each branch's output, so one branch computes pixel p+1 while the
    // concatenation drains the other's pixel p (without them the branches take turns).
    let raddr_reg = b.fifo_raddr_reg;
    let mut pixel_fifo = |label: &str, src: End, c: usize| {
        let n = b.add(
            label,
            Node::Fifo(StreamFifo::new(cat, 2 * c / cat).with_raddr_reg(raddr_reg)),
            (pixels * c / cat) as u64,
        );
        b.connect(src, End::Node { node: n, port: 0 });
        End::Node { node: n, port: 0 }
    };
    let a = pixel_fifo(&format!("{}.expand1x1.fifo", f.name), a, c1);
    let c = pixel_fifo(&format!("{}.expand3x3.fifo", f.name), c, c3);
    let concat = b.add(
        &format!("{}.concat", f.name),
        Node::Concat(Concat::new(cat, c1, c3)?),
        (pixels * (c1 + c3) / cat) as u64,
    );
    b.connect(
        a,
        End::Node {
            node: concat,
            port: 0,
        },
    );
    b.connect(
        c,
        End::Node {
            node: concat,
            port: 1,
        },
    );
    let cat_out = End::Node {
        node: concat,
        port: 0,
    };
    let Some(bp) = bypass else {
        return Ok(cat_out);
    };
    // Bypass: FIFO of 3W+4 input pixels, then the optional 1x1 conv, then the add.
    let depth_beats = fifo_pixels * f.input.c / src_lanes;
    let fifo = StreamFifo::new(src_lanes, depth_beats).with_raddr_reg(b.fifo_raddr_reg);
    let nf = b.add(
        &format!("{}.bypass_fifo", f.name),
        Node::Fifo(fifo),
        (in_bytes / src_lanes) as u64,
    );
    b.connect(bp, End::Node { node: nf, port: 0 });
    let mut bsrc = End::Node { node: nf, port: 0 };
    if let FireBypass::Conv(layer) = &f.bypass {
        let bf = fold.bypass.ok_or_else(|| {
            HwError::Folding(format!(
                "{}: a complex bypass needs a folding for {}",
                f.name, layer.name
            ))
        })?;
        bsrc = add_conv(b, layer, model, bf, 0, bsrc, in_lanes)?;
    }
    let bsrc = adapt(
        b,
        &format!("{}.bypass", f.name),
        bsrc,
        in_lanes,
        cat,
        f.output.len(),
    )?;
    let add = model.adds[&f.name].params;
    let na = b.add(
        &f.add_name(),
        Node::Add(BypassAdd::new(&f.add_name(), cat, add).with_mul_ecp5(b.mul_ecp5)),
        (f.output.len() / cat) as u64,
    );
    b.connect(cat_out, End::Node { node: na, port: 0 });
    b.connect(bsrc, End::Node { node: na, port: 1 });
    Ok(End::Node { node: na, port: 0 })
}

/// Pixels the bypass FIFO holds for a map `w` pixels wide (see the module documentation).
pub fn bypass_fifo_pixels(w: usize) -> usize {
    3 * w + 4
}

/// A Fire module on its own, as a block: `in_lanes` channels a beat in, `fold.cat_lanes` out.
pub fn fire_block(
    f: &FireLayer,
    model: &QuantModel,
    fold: &FireFold,
    in_lanes: usize,
) -> Result<Graph, HwError> {
    fire_block_sized(f, model, fold, in_lanes, bypass_fifo_pixels(f.input.w))
}

/// [`fire_block`] with a chosen bypass FIFO size in pixels.
pub fn fire_block_sized(
    f: &FireLayer,
    model: &QuantModel,
    fold: &FireFold,
    in_lanes: usize,
    fifo_pixels: usize,
) -> Result<Graph, HwError> {
    if in_lanes == 0 || !f.input.c.is_multiple_of(in_lanes) {
        return Err(HwError::Folding(format!(
            "{}: {in_lanes} input lanes do not divide {} channels",
            f.name, f.input.c
        )));
    }
    let mut b = GraphBuilder::default();
    b.dsp_pairs = true;
    let out = add_fire_sized(&mut b, f, model, fold, End::Outside, in_lanes, fifo_pixels)?;
    b.connect(out, End::Outside);
    Ok(b.build(in_lanes, fold.cat_lanes))
}

/// The geometry of each engine of a Fire module under a folding (for estimates and reports).
pub fn fire_geoms(f: &FireLayer, fold: &FireFold) -> Result<Vec<ConvGeom>, HwError> {
    let mut v = vec![
        ConvGeom::new(&f.squeeze, fold.squeeze.pe, fold.squeeze.simd, 0)?,
        ConvGeom::new(
            &f.expand1x1,
            fold.expand1x1.pe,
            fold.expand1x1.simd,
            EXPAND1X1_ROWS,
        )?,
        ConvGeom::new(&f.expand3x3, fold.expand3x3.pe, fold.expand3x3.simd, 0)?,
    ];
    if let (FireBypass::Conv(l), Some(bf)) = (&f.bypass, fold.bypass) {
        v.push(ConvGeom::new(l, bf.pe, bf.simd, 0)?);
    }
    Ok(v)
}
