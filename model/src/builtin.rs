//! The built-in default model: SqueezeNet v1.1 with its real ImageNet-trained weights, quantized
//! to the int8 contract, and the ImageNet class names.
//!
//! SqueezeNet v1.1 weights: DeepScale, BSD 2-Clause License (see `model/assets/NOTICE`).
//!
//! The asset is regenerated with (docs/models.md, "The built-in default model"):
//!
//! ```sh
//! squeezeflow import ../shared/models/squeezenet1_1.onnx \
//!     --calibrate ../shared/frames/calibration -o model/assets/squeezenet1_1.safetensors
//! ```
//!
//! and a test checks that the shipped file equals a fresh import byte for byte.

use crate::qmodel::QuantModel;

/// The quantized SqueezeNet v1.1 model file, as shipped.
pub const DEFAULT_MODEL_BYTES: &[u8] = include_bytes!("../assets/squeezenet1_1.safetensors");

/// The ImageNet class names, one a line, in logit order.
pub const IMAGENET_CLASSES: &str = include_str!("../assets/imagenet_classes.txt");

/// The built-in default model: SqueezeNet v1.1 (ImageNet weights), 224x224, int8.
pub fn default_model() -> QuantModel {
    crate::file::from_bytes(DEFAULT_MODEL_BYTES)
        .expect("the shipped model asset is valid (checked by the model crate's tests)")
}

/// The 1000 ImageNet class names in logit order (index 285 is "Egyptian cat").
pub fn imagenet_classes() -> Vec<&'static str> {
    IMAGENET_CLASSES.lines().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_model_loads_and_has_labels() {
        let m = default_model();
        assert_eq!(m.config().name, "squeezenet1_1");
        assert_eq!(m.config().num_classes, 1000);
        let c = imagenet_classes();
        assert_eq!(c.len(), 1000);
        assert_eq!(c[285], "Egyptian cat");
        assert_eq!(c[967], "espresso");
    }

    #[test]
    fn the_default_model_is_decisive_on_a_synthetic_frame() {
        let m = default_model();
        let frame = crate::float::synthetic_frame(m.network.input_shape(), 7);
        let t = crate::reference::Prepared::new(&m).run(&frame).unwrap();
        assert_eq!(t.logits.len(), 1000);
        assert!(t.logits.iter().any(|&l| l > 0));
    }
}
