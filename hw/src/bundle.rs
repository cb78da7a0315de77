//! Writing a block's Verilog to a directory: `top.v` (rust-hdl's output), the primitive library
//! `sqf_lib.v` and every `.mem` file, named relative to the directory so it can be moved.

use std::path::{Path, PathBuf};

use rust_hdl::prelude::*;

use crate::leaf::LIBRARY;
use crate::HwError;

/// Blocks whose Verilog reads `.mem` files.
pub trait MemFiles {
    /// (file name, `$readmemh` contents) of every memory the block's Verilog reads.
    fn mem_files(&self) -> Vec<(String, String)>;
}

/// The files of a written design: sources in the order a tool reads them.
#[derive(Clone, Debug)]
pub struct WrittenDesign {
    pub dir: PathBuf,
    pub sources: Vec<PathBuf>,
    pub top: PathBuf,
}

/// Generates the block's Verilog (rust-hdl's connection checks included) and writes it with
/// the library and the memory files.
pub fn write_block<B: Block + MemFiles>(
    block: &mut B,
    dir: &Path,
) -> Result<WrittenDesign, HwError> {
    block.connect_all();
    let verilog = generate_verilog(block);
    write_design(&verilog, &block.mem_files(), dir)
}

/// Writes already generated Verilog with the library and memory files.
pub fn write_design(
    verilog: &str,
    mems: &[(String, String)],
    dir: &Path,
) -> Result<WrittenDesign, HwError> {
    let io = |e: std::io::Error| HwError::Io(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let lib = dir.join("sqf_lib.v");
    std::fs::write(&lib, LIBRARY).map_err(io)?;
    let top = dir.join("top.v");
    std::fs::write(&top, verilog).map_err(io)?;
    for (name, text) in mems {
        std::fs::write(dir.join(name), text).map_err(io)?;
    }
    Ok(WrittenDesign {
        dir: dir.to_path_buf(),
        sources: vec![lib, top.clone()],
        top,
    })
}

impl MemFiles for crate::conv::ConvEngine {
    fn mem_files(&self) -> Vec<(String, String)> {
        crate::conv::ConvEngine::mem_files(self)
    }
}

macro_rules! no_mem_files {
    ($($t:ty),+) => {
        $(impl MemFiles for $t {
            fn mem_files(&self) -> Vec<(String, String)> {
                Vec::new()
            }
        })+
    };
}
no_mem_files!(
    crate::blocks::MaxPool,
    crate::blocks::AvgPool,
    crate::blocks::BypassAdd,
    crate::blocks::Concat,
    crate::blocks::Gearbox,
    crate::blocks::StreamFifo,
    crate::blocks::Broadcast
);
