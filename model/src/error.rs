//! Errors of the model crate. Each names what is wrong: the config key, the tensor, the file.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A configuration value that cannot describe a network; `key` is the TOML key.
    #[error("config key `{key}`: {message}")]
    Config { key: String, message: String },
    /// The TOML text itself did not parse (the message names the key and line).
    #[error("config: {0}")]
    Toml(String),
    /// A quantized model file that cannot be used as it is.
    #[error("model file: {0}")]
    ModelFile(String),
    /// An ONNX file that cannot be read, or a graph that is not a SqueezeNet-family network.
    #[error("ONNX: {0}")]
    Onnx(String),
    /// A file or value past one of the bounds of [`crate::limits`].
    #[error("{0}")]
    TooLarge(String),
    /// An input tensor or frame of the wrong size.
    #[error("shape: {0}")]
    Shape(String),
    // The messages below include their cause, so they name no `#[source]` (which would print
    // the cause twice in an error chain).
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{path}: {inner}")]
    InFile {
        path: String,
        inner: Box<ModelError>,
    },
}

impl ModelError {
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        ModelError::Config {
            key: key.into(),
            message: message.into(),
        }
    }

    pub fn model_file(message: impl Into<String>) -> Self {
        ModelError::ModelFile(message.into())
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        ModelError::Io {
            context: context.into(),
            source,
        }
    }

    /// Wraps an error with the file it came from.
    pub fn in_file(self, path: &Path) -> Self {
        ModelError::InFile {
            path: path.display().to_string(),
            inner: Box::new(self),
        }
    }
}
