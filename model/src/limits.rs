//! Bounds on what squeezeflow reads, as policy in one place (listed in docs/usage.md): input
//! past them is refused with an error naming the bound, before memory is spent on it.

use std::io::Read;
use std::path::Path;

use crate::error::ModelError;

/// A network description (TOML).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// A quantized model file (safetensors); SqueezeNet v1.1's is about 1.3 MB.
pub const MAX_MODEL_BYTES: u64 = 256 << 20;
/// An ONNX model; SqueezeNet v1.1's is about 5 MB.
pub const MAX_ONNX_BYTES: u64 = 1 << 30;
/// The network's input side (pixels): 224 for SqueezeNet.
pub const MAX_INPUT_SIZE: usize = 1024;
/// An image's or video frame's longer side, its pixels, and the ratio of its sides, checked
/// before it is decoded (the resize scales the shorter side to the network's, so the longer
/// side grows with the ratio).
pub const MAX_IMAGE_SIDE: usize = 16_384;
pub const MAX_IMAGE_PIXELS: usize = 64 << 20;
pub const MAX_ASPECT_RATIO: usize = 16;

/// Reads a whole file of at most `limit` bytes: a longer one (or an endless one such as
/// `/dev/zero`) is an error naming `what` and the bound, after reading at most `limit + 1`.
pub fn read_bounded(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, ModelError> {
    let f = std::fs::File::open(path)
        .map_err(|e| ModelError::io(format!("reading {what} {}", path.display()), e))?;
    let mut bytes = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ModelError::io(format!("reading {what} {}", path.display()), e))?;
    if bytes.len() as u64 > limit {
        return Err(ModelError::TooLarge(format!(
            "{what} {} is larger than {} MiB, the most squeezeflow reads",
            path.display(),
            limit >> 20
        )));
    }
    Ok(bytes)
}

/// Checks an image's size before decoding it (see [`MAX_IMAGE_SIDE`]).
pub fn check_image_size(w: usize, h: usize) -> Result<(), String> {
    let (long, short) = (w.max(h), w.min(h));
    if short == 0 {
        return Err(format!("{w}x{h} is empty"));
    }
    if long > MAX_IMAGE_SIDE || w.saturating_mul(h) > MAX_IMAGE_PIXELS {
        return Err(format!(
            "{w}x{h} is larger than squeezeflow reads (sides up to {MAX_IMAGE_SIDE}, {} megapixels)",
            MAX_IMAGE_PIXELS >> 20
        ));
    }
    if long > short * MAX_ASPECT_RATIO {
        return Err(format!(
            "{w}x{h} is too elongated (sides in a ratio above {MAX_ASPECT_RATIO}:1)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_file_is_refused_after_the_bound() {
        let e = read_bounded(Path::new("/dev/zero"), 4096, "config").unwrap_err();
        assert!(matches!(e, ModelError::TooLarge(_)), "{e}");
        assert!(e.to_string().contains("/dev/zero"), "{e}");
    }

    #[test]
    fn image_sizes_have_bounds() {
        assert!(check_image_size(640, 480).is_ok());
        assert!(check_image_size(100_000, 1).is_err());
        assert!(check_image_size(16_384, 16_384).is_err());
        assert!(check_image_size(4000, 200).is_err());
        assert!(check_image_size(0, 10).is_err());
    }
}
