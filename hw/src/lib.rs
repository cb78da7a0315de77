//! squeezeflow-hw: the dataflow engine's blocks in rust-hdl, their Verilog, and their cycle and
//! resource estimates. Depends on `squeezeflow-model` only (never on Verilator).
//!
//! Every block streams AXI4-Stream style (`tdata` byte lanes, `tvalid`, `tready`, `tlast`),
//! activations pixel-major, channel-minor, and tolerates any stall pattern on its streams.
//! Each block's behaviour is a parameterized Verilog module under `hw/verilog/`; the Rust side
//! computes its parameters, instantiates it, and keeps an independent cycle model of it.
//!
//! - blocks: [`library`] (the Verilog modules, instances, what a bundle carries), [`axis`]
//!   (stream ports), [`leaf`] (MAC, requantizer, memories), [`fifo`] (the output FIFO's
//!   model), [`conv`] (the convolution engine), [`blocks`] (pools, add, concat, broadcast,
//!   width converter, FIFO), [`load`] (the weight-load port);
//! - composition: [`layers`] (each layer kind's hardware), [`graph`] (wiring-only parents),
//!   [`fire`] (a Fire module), [`network`] (the whole network and its estimate);
//! - targets: [`folding`] (lanes over layers), [`device`] (device table, resources, fit),
//!   [`synth`] (Yosys and nextpnr runs);
//! - output: [`bundle`] (Verilog, memories, manifest), [`shell`] (the board shell),
//!   [`harness`] (stream drivers shared with `squeezeflow-sim`).

pub mod axis;
pub mod blocks;
pub mod bundle;
pub mod conv;
pub mod device;
pub mod ecp5;
pub mod ecp5_outreg;
pub mod fifo;
pub mod fire;
pub mod folding;
pub mod graph;
pub mod harness;
pub mod ip;
pub mod layers;
pub mod leaf;
pub mod library;
pub mod load;
pub mod network;
pub mod shell;
pub mod synth;
pub mod verify;

pub use squeezeflow_model as model;

/// Finds a program on PATH.
pub fn which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Errors of the hardware crate.
#[derive(Debug, thiserror::Error)]
pub enum HwError {
    /// A folding (pe, simd) that does not fit a layer.
    #[error("folding: {0}")]
    Folding(String),
    /// A device or board name that is not in the device table.
    #[error("unknown device '{name}'; known devices: {known}")]
    UnknownDevice { name: String, known: String },
    /// A simulation that went wrong (deadlock, protocol error).
    #[error("simulation: {0}")]
    Sim(String),
    /// A file that could not be read or written; the message includes the cause, which is
    /// also kept as the error's source.
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// A bundle that cannot be used as it is (missing files, a manifest of another format).
    #[error("bundle: {0}")]
    Bundle(String),
    /// A board shell that cannot be built from its configuration.
    #[error("shell: {0}")]
    Shell(String),
    /// A missing or failing external tool (yosys).
    #[error("{0}")]
    Tool(String),
    /// An external tool stopped at the time limit it was given.
    #[error("{0}")]
    Stopped(String),
    #[error(transparent)]
    Model(#[from] squeezeflow_model::ModelError),
}

impl HwError {
    /// An I/O error with what was being done (usually a path).
    pub fn io(context: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> HwError {
        let context = context.to_string();
        move |source| HwError::Io { context, source }
    }
}

macro_rules! stream_block {
    ($t:ty, [$($inp:ident),+], $out:ident, $wl:ident) => {
        stream_block!($t, [$($inp),+], $out, {
            fn load_mut(&mut self) -> Option<&mut crate::load::WeightLoad> {
                Some(&mut self.$wl)
            }
        });
    };
    ($t:ty, [$($inp:ident),+], $out:ident) => {
        stream_block!($t, [$($inp),+], $out, {});
    };
    ($t:ty, [$($inp:ident),+], $out:ident, { $($extra:tt)* }) => {
        impl crate::harness::StreamBlock for $t {
            fn clock_mut(&mut self) -> &mut rust_hdl::prelude::Signal<rust_hdl::prelude::In, rust_hdl::prelude::Clock> {
                &mut self.clock
            }
            fn reset_mut(&mut self) -> &mut rust_hdl::prelude::Signal<rust_hdl::prelude::In, rust_hdl::prelude::Bit> {
                &mut self.reset
            }
            fn inputs_mut(&mut self) -> Vec<&mut crate::axis::AxisIn> {
                vec![$(&mut self.$inp),+]
            }
            fn output_mut(&mut self) -> &mut crate::axis::AxisOut {
                &mut self.$out
            }
            $($extra)*
        }
        impl crate::harness::StreamView for $t {
            fn in_ports(&self) -> Vec<&crate::axis::AxisIn> {
                vec![$(&self.$inp),+]
            }
            fn out_port(&self) -> &crate::axis::AxisOut {
                &self.$out
            }
        }
    };
}

stream_block!(conv::ConvEngine, [s_axis], m_axis, wl);
stream_block!(blocks::MaxPool, [s_axis], m_axis);
stream_block!(blocks::AvgPool, [s_axis], m_axis);
stream_block!(blocks::BypassAdd, [s_axis, s_axis_b], m_axis);
stream_block!(blocks::Concat, [s_axis, s_axis_b], m_axis);
stream_block!(blocks::Gearbox, [s_axis], m_axis);
stream_block!(blocks::StreamFifo, [s_axis], m_axis);
