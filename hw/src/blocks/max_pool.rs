//! The 3x3 stride-2 max pool ([`MaxPool`]) and its geometry ([`PoolGeom`]).

use rust_hdl::prelude::*;

use super::{is, lanes_in, FIFO_DEPTH};
use crate::axis::{AxisIn, AxisOut};
use crate::fifo::OutFifo;
use crate::library::Instance;
use crate::HwError;

/// 3x3 stride-2 ceil-mode max pool, fully streaming: one input beat a cycle, at most one output
/// beat per input beat, at the FIFO head three cycles after the beat that completes it. Holds
/// a partial horizontal maximum per channel and a partial vertical maximum per output column
/// and channel (`wo * c` bytes).
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
    /// Outputs on their way to the FIFO: a beat's output is pushed two cycles after the beat
    /// is taken (the Verilog's data path stages 1 and 2); `pipe[1]` pushes at the next edge.
    pipe: [Option<(Vec<u8>, bool)>; 2],
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
        if layer.input.h < 3 || layer.input.w < 3 {
            return Err(HwError::Folding(format!(
                "{}: a {}x{} input is smaller than the 3x3 window",
                layer.name, layer.input.h, layer.input.w
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
            pipe: [None, None],
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
            st.pipe = [None, None];
            st.fifo.clear();
            return;
        }
        let ready = st.ready();
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
        let out = st.pipe[1].take();
        st.pipe[1] = st.pipe[0].take();
        st.pipe[0] = push;
        st.fifo.edge(out, pop);
    }
}

impl PoolState {
    /// Room in the output FIFO for a beat taken now, counting the outputs still on their way.
    fn ready(&self) -> bool {
        self.fifo.len() + self.pipe.iter().flatten().count() < FIFO_DEPTH
    }
}

impl Logic for MaxPool {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.edge();
        }
        self.s_axis.tready.next = self._st.ready();
        self._st.fifo.drive(&mut self.m_axis);
    }
    fn connect(&mut self) {
        self.s_axis.tready.connect();
        self.m_axis.connect_outputs();
    }
    /// Instantiates `sqf_max_pool` (hw/verilog/sqf_max_pool.v); `update()` above is an
    /// independent Rust model of it, checked against it by co-simulation.
    fn hdl(&self) -> Verilog {
        let g = &self._g;
        let i = Instance::new("sqf_max_pool", "u")
            .param("LANES", g.lanes)
            .param("H", g.h)
            .param("W", g.w)
            .param("CG", g.cg())
            .param("HO", g.ho)
            .param("WO", g.wo)
            .param("DEPTH", FIFO_DEPTH)
            .axis_in("s_axis", "s_", g.lanes)
            .axis_out("m_axis", "m_", g.lanes);
        Verilog::Custom(format!("// {}\n{}", g.name, i.verilog()))
    }
}
