//! The network's input framing ([`FrameGuard`]): whole frames to the engines whatever `tlast`
//! says, bad frames flagged on the way out.

use std::collections::VecDeque;

use rust_hdl::prelude::*;

use super::is;
use crate::axis::{AxisIn, AxisOut};
use crate::library::Instance;

/// Frames in flight the guard keeps a flag for (the queue between the input and the output).
pub const GUARD_FLAGS: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Pass,
    Pad,
    Drop,
}

struct GuardState {
    pixels: usize,
    flags_depth: usize,
    phase: Phase,
    cnt: usize,
    flags: VecDeque<bool>,
    error: bool,
    errors: u16,
}

/// What the guard drives this cycle, from its state and inputs.
struct Comb {
    s_tready: bool,
    m_tvalid: bool,
    pad: bool,
    m_tlast: bool,
    refuse: bool,
}

impl GuardState {
    fn comb(&self, reset: bool, enable: bool, s_tvalid: bool, m_tready: bool) -> Comb {
        let start = self.cnt == 0;
        let full = self.flags.len() == self.flags_depth;
        let refuse = self.phase == Phase::Pass && start && !enable;
        let hold = self.phase == Phase::Pass && start && enable && full;
        let pass = self.phase == Phase::Pass && !refuse && !hold;
        Comb {
            s_tready: !reset && ((pass && m_tready) || refuse || self.phase == Phase::Drop),
            m_tvalid: (pass && s_tvalid) || self.phase == Phase::Pad,
            pad: self.phase == Phase::Pad,
            m_tlast: self.cnt == self.pixels - 1,
            refuse,
        }
    }
}

/// The frame guard (`sqf_frame_guard.v` has the rules): `enable` (the weights are loaded),
/// `done` (a frame's last logit accepted), `bad` (the oldest output frame is bad), `error`
/// (sticky) and `errors` (bad and refused frames, saturating).
#[derive(LogicBlock)]
pub struct FrameGuard {
    pub clock: Signal<In, Clock>,
    pub reset: Signal<In, Bit>,
    pub enable: Signal<In, Bit>,
    pub s_axis: AxisIn,
    pub m_axis: AxisOut,
    pub done: Signal<In, Bit>,
    pub bad: Signal<Out, Bit>,
    pub error: Signal<Out, Bit>,
    pub errors: Signal<Out, Bits<16>>,
    _st: Box<GuardState>,
}

impl FrameGuard {
    /// A guard for frames of `pixels` beats of `lanes` bytes.
    pub fn new(lanes: usize, pixels: usize) -> Self {
        assert!(pixels >= 2, "a frame of {pixels} pixels");
        FrameGuard {
            clock: Default::default(),
            reset: Default::default(),
            enable: Default::default(),
            s_axis: AxisIn::new(lanes),
            m_axis: AxisOut::new(lanes),
            done: Default::default(),
            bad: Default::default(),
            error: Default::default(),
            errors: Default::default(),
            _st: Box::new(GuardState {
                pixels,
                flags_depth: GUARD_FLAGS,
                phase: Phase::Pass,
                cnt: 0,
                flags: VecDeque::new(),
                error: false,
                errors: 0,
            }),
        }
    }
    /// Counter bits the frame length needs.
    fn cb(&self) -> usize {
        (usize::BITS - (self._st.pixels - 1).leading_zeros()).max(1) as usize
    }
}

impl Logic for FrameGuard {
    fn update(&mut self) {
        let (reset, enable) = (is(&self.reset), is(&self.enable));
        let (s_tvalid, s_tlast) = (is(&self.s_axis.tvalid), is(&self.s_axis.tlast));
        let m_tready = self.m_axis.tready.val();
        if self.clock.pos_edge() {
            let st = &mut self._st;
            if reset {
                st.phase = Phase::Pass;
                st.cnt = 0;
                st.flags.clear();
                st.error = false;
                st.errors = 0;
            } else {
                let c = st.comb(reset, enable, s_tvalid, m_tready);
                let s_fire = s_tvalid && c.s_tready;
                let m_fire = c.m_tvalid && m_tready;
                let push = m_fire && c.m_tlast;
                let push_bad = c.pad || !s_tlast;
                let pop = is(&self.done) && !st.flags.is_empty();
                if pop {
                    st.flags.pop_front();
                }
                if push {
                    st.flags.push_back(push_bad);
                }
                if (push && push_bad) || (c.refuse && s_fire) {
                    st.error = true;
                    st.errors = st.errors.saturating_add(1);
                }
                let last = st.pixels - 1;
                match st.phase {
                    Phase::Pass if c.refuse => {
                        if s_fire && !s_tlast {
                            st.phase = Phase::Drop;
                        }
                    }
                    Phase::Pass if m_fire => {
                        if st.cnt == last {
                            st.cnt = 0;
                            if !s_tlast {
                                st.phase = Phase::Drop;
                            }
                        } else {
                            st.cnt += 1;
                            if s_tlast {
                                st.phase = Phase::Pad;
                            }
                        }
                    }
                    Phase::Pass => {}
                    Phase::Pad => {
                        if m_fire {
                            if st.cnt == last {
                                st.cnt = 0;
                                st.phase = Phase::Pass;
                            } else {
                                st.cnt += 1;
                            }
                        }
                    }
                    Phase::Drop => {
                        if s_fire && s_tlast {
                            st.phase = Phase::Pass;
                        }
                    }
                }
            }
        }
        let st = &self._st;
        let c = st.comb(reset, enable, s_tvalid, m_tready);
        self.s_axis.tready.next = c.s_tready;
        self.m_axis.tvalid.next = c.m_tvalid;
        self.m_axis.tlast.next = c.m_tlast;
        for (o, i) in self.m_axis.tdata.iter_mut().zip(&self.s_axis.tdata) {
            o.next = if c.pad { 0.into() } else { i.val() };
        }
        self.bad.next = st.flags.front().copied().unwrap_or(false);
        self.error.next = st.error;
        self.errors.next = (st.errors as u64).into();
    }
    fn connect(&mut self) {
        self.s_axis.tready.connect();
        self.m_axis.connect_outputs();
        self.bad.connect();
        self.error.connect();
        self.errors.connect();
    }
    /// Instantiates `sqf_frame_guard` (hw/verilog/sqf_frame_guard.v); `update()` above is an
    /// independent Rust model of it, checked against it by co-simulation.
    fn hdl(&self) -> Verilog {
        let lanes = self.s_axis.lanes();
        let i = Instance::new("sqf_frame_guard", "u")
            .param("W", 8 * lanes)
            .param("PIXELS", self._st.pixels)
            .param("CB", self.cb())
            .param("FLAGS", self._st.flags_depth)
            .port("enable", "enable")
            .axis_in("s_axis", "s_", lanes)
            .axis_out("m_axis", "m_", lanes)
            .port("done", "done")
            .port("bad", "u_bad")
            .port("error", "u_error")
            .port("errors", "u_errors");
        Verilog::Custom(format!(
            "wire u_bad, u_error;\nwire [15:0] u_errors;\n{}always @(*) bad = u_bad;\n\
             always @(*) error = u_error;\nalways @(*) errors = u_errors;\n",
            i.verilog()
        ))
    }
}
