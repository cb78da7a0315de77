//! The command line's pieces beside `main.rs`: shared options, the model commands, `regress`.

pub(crate) mod args;
pub(crate) mod model_cmds;
pub(crate) mod regress;
