//! The 3x3 stride-2 max pool ([`MaxPool`]) and its geometry ([`PoolGeom`]).

use rust_hdl::prelude::*;

use super::{is, lanes_in, FIFO_DEPTH, UNUSED_TLAST};
use crate::axis::{AxisIn, AxisNames, AxisOut};
use crate::fifo::{self, OutFifo};
use crate::leaf::abits;
use crate::HwError;

/// 3x3 stride-2 ceil-mode max pool, fully streaming: one input beat a cycle, at most one output
/// beat per input beat. Holds a partial horizontal maximum per channel and a partial vertical
/// maximum per output column and channel (`wo * c` bytes).
#[derive(LogicBlock)]
pub struct MaxPool {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub s_axis: AxisIn,
    pub m_axis: AxisOut,
    _g: PoolGeom,
    _st: Box<PoolState>,
}

/// Geometry of a max pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolGeom {
    pub name: String,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub ho: usize,
    pub wo: usize,
    pub lanes: usize,
}

impl PoolGeom {
    pub fn cg(&self) -> usize {
        self.c / self.lanes
    }
    /// One input beat a cycle.
    pub fn cycles_per_frame(&self) -> u64 {
        (self.h * self.w * self.cg()) as u64
    }
    pub fn memory_bits(&self) -> u64 {
        ((self.wo + 1) * self.c * 8 + FIFO_DEPTH * (self.lanes * 8 + 1)) as u64
    }
}

#[derive(Clone, Debug)]
struct PoolState {
    x: usize,
    y: usize,
    j: usize,
    hp: Vec<Vec<u8>>,
    vm: Vec<Vec<u8>>,
    fifo: OutFifo,
}

impl MaxPool {
    pub fn new(
        layer: &squeezeflow_model::network::PoolLayer,
        lanes: usize,
    ) -> Result<Self, HwError> {
        if layer.kernel != 3 || layer.stride != 2 {
            return Err(HwError::Folding(format!(
                "{}: only 3x3 stride-2 max pools are supported",
                layer.name
            )));
        }
        if lanes == 0 || !layer.input.c.is_multiple_of(lanes) {
            return Err(HwError::Folding(format!(
                "{}: {lanes} lanes do not divide {} channels",
                layer.name, layer.input.c
            )));
        }
        let g = PoolGeom {
            name: layer.name.clone(),
            h: layer.input.h,
            w: layer.input.w,
            c: layer.input.c,
            ho: layer.output.h,
            wo: layer.output.w,
            lanes,
        };
        let st = PoolState {
            x: 0,
            y: 0,
            j: 0,
            hp: vec![vec![0; lanes]; g.cg()],
            vm: vec![vec![0; lanes]; g.wo * g.cg()],
            fifo: OutFifo::new(FIFO_DEPTH),
        };
        Ok(MaxPool {
            clock: Default::default(),
            reset: Default::default(),
            s_axis: AxisIn::new(lanes),
            m_axis: AxisOut::new(lanes),
            _g: g,
            _st: Box::new(st),
        })
    }
    pub fn geom(&self) -> &PoolGeom {
        &self._g
    }
    fn edge(&mut self) {
        let g = &self._g;
        let st = &mut self._st;
        if is(&self.reset) {
            st.x = 0;
            st.y = 0;
            st.j = 0;
            st.fifo.clear();
            return;
        }
        let ready = st.fifo.len() < FIFO_DEPTH;
        let fire = ready && is(&self.s_axis.tvalid);
        let pop = st.fifo.pops(&self.m_axis);
        let mut push = None;
        if fire {
            let v = lanes_in(&self.s_axis);
            let (x, y, j) = (st.x, st.y, st.j);
            let xeven = x % 2 == 0;
            let h_emit = x != 0 && (xeven || x == g.w - 1);
            let hox = if xeven {
                (x / 2).wrapping_sub(1)
            } else {
                g.wo - 1
            };
            let hmax: Vec<u8> = st.hp[j].iter().zip(&v).map(|(a, b)| *a.max(b)).collect();
            st.hp[j] = if xeven { v.clone() } else { hmax.clone() };
            if h_emit {
                let yeven = y % 2 == 0;
                let v_emit = y != 0 && (yeven || y == g.h - 1);
                let voy = if yeven {
                    (y / 2).wrapping_sub(1)
                } else {
                    g.ho - 1
                };
                let a = hox * g.cg() + j;
                let vmax: Vec<u8> = st.vm[a].iter().zip(&hmax).map(|(p, q)| *p.max(q)).collect();
                st.vm[a] = if yeven { hmax.clone() } else { vmax.clone() };
                if v_emit {
                    let last = voy == g.ho - 1 && hox == g.wo - 1 && j == g.cg() - 1;
                    push = Some((vmax, last));
                }
            }
            st.j += 1;
            if st.j == g.cg() {
                st.j = 0;
                st.x += 1;
                if st.x == g.w {
                    st.x = 0;
                    st.y += 1;
                    if st.y == g.h {
                        st.y = 0;
                    }
                }
            }
        }
        st.fifo.edge(push, pop);
    }
}

impl Logic for MaxPool {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.edge();
        }
        let ready = !is(&self.reset) && self._st.fifo.len() < FIFO_DEPTH;
        self.s_axis.tready.next = ready;
        self._st.fifo.drive(&mut self.m_axis);
    }
    fn connect(&mut self) {
        self.s_axis.tready.connect();
        self.m_axis.connect_outputs();
    }
    fn hdl(&self) -> Verilog {
        let g = &self._g;
        let s = AxisNames::new("s_axis");
        let cg = g.cg();
        let mut v = format!(
            "// {name}: 3x3/2 ceil max pool, {h}x{w}x{c} -> {ho}x{wo}x{c}, {l} lanes\n{UNUSED_TLAST}\
reg [31:0] x, y, j;\n\
wire fire = {tv} && {tr};\n\
always @(*) {tr} = !reset && (f_count < {fd});\n\
wire xeven = !x[0];\n\
wire h_emit = (x != 0) && (xeven || (x == {wm1}));\n\
wire [31:0] hox = xeven ? (x >> 1) - 1 : {wom1};\n\
wire yeven = !y[0];\n\
wire v_emit = h_emit && (y != 0) && (yeven || (y == {hm1}));\n\
wire [31:0] voy = yeven ? (y >> 1) - 1 : {hom1};\n\
/* verilator lint_off UNUSEDSIGNAL */\nwire [31:0] va = {va_mul} + j;\n/* verilator lint_on UNUSEDSIGNAL */\n",
            name = g.name, h = g.h, w = g.w, c = g.c, ho = g.ho, wo = g.wo, l = g.lanes,
            tv = s.tvalid(), tr = s.tready(), fd = FIFO_DEPTH,
            wm1 = g.w - 1, wom1 = g.wo - 1, hm1 = g.h - 1, hom1 = g.ho - 1,
            va_mul = crate::leaf::const_mul("hox", cg),
        );
        let ab_h = abits(cg);
        let ab_v = abits(g.wo * cg);
        // The row buffers are written one cycle late from registers (`wpend`, `wa_d`, `wd`),
        // with a bypass for a read of the word being written: their write address is then a
        // register apart from the read address, so Yosys maps them as simple dual-port LUTRAM
        // (on UltraScale+, Yosys 0.23 cannot map these asynchronous-read single-port RAMs).
        // The behaviour is the same.
        v.push_str(&format!(
            "reg wpend;\nreg [{abvm}:0] wa_d;\nalways @(posedge clock) begin\n    wpend <= !reset && fire && h_emit;\n    wa_d <= va[{abvm}:0];\nend\n",
            abvm = ab_v - 1
        ));
        let mut data = Vec::new();
        for l in 0..g.lanes {
            v.push_str(&format!(
                "reg [7:0] hp{l} [0:{cgm}];\nreg [7:0] vm{l} [0:{vmm}];\n\
wire [7:0] in{l} = {d};\n\
wire [7:0] hpo{l} = hp{l}[j[{abhm}:0]];\n\
wire [7:0] hmax{l} = (hpo{l} > in{l}) ? hpo{l} : in{l};\n\
reg [7:0] wd{l};\n\
wire [7:0] vmo{l} = (wpend && (wa_d == va[{abvm}:0])) ? wd{l} : vm{l}[va[{abvm}:0]];\n\
wire [7:0] vmax{l} = (vmo{l} > hmax{l}) ? vmo{l} : hmax{l};\n\
always @(posedge clock) if (fire) hp{l}[j[{abhm}:0]] <= xeven ? in{l} : hmax{l};\n\
always @(posedge clock) begin\n    wd{l} <= yeven ? hmax{l} : vmax{l};\n    if (wpend) vm{l}[wa_d] <= wd{l};\nend\n",
                cgm = cg - 1,
                vmm = g.wo * cg - 1,
                d = s.tdata(l),
                abhm = ab_h - 1,
                abvm = ab_v - 1,
            ));
            data.push(format!("vmax{l}"));
        }
        v.push_str(&fifo::verilog(
            "f",
            "m_axis",
            g.lanes,
            FIFO_DEPTH,
            "fire && v_emit",
            &data,
            &format!(
                "(voy == {}) && (hox == {}) && (j == {})",
                g.ho - 1,
                g.wo - 1,
                cg - 1
            ),
        ));
        v.push_str(&format!(
            "always @(posedge clock) begin\n    if (reset) begin\n        x <= 0; y <= 0; j <= 0;\n    end else if (fire) begin\n        if (j == {cgm1}) begin\n            j <= 0;\n            if (x == {wm1}) begin\n                x <= 0;\n                y <= (y == {hm1}) ? 0 : y + 1;\n            end else x <= x + 1;\n        end else j <= j + 1;\n    end\nend\n",
            cgm1 = cg - 1,
            wm1 = g.w - 1,
            hm1 = g.h - 1
        ));
        Verilog::Custom(v)
    }
}
