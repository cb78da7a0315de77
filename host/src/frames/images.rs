//! Image files: PNG and JPEG decoding, PNG writing, the images of a folder, and file names for
//! frame labels.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use super::RgbImage;

/// Writes an RGB8 image (HWC) as a PNG file.
pub fn write_png(path: &Path, width: usize, height: usize, rgb: &[u8]) -> Result<()> {
    let img = image::RgbImage::from_raw(width as u32, height as u32, rgb.to_vec())
        .ok_or_else(|| anyhow!("{} bytes are not a {width}x{height} RGB image", rgb.len()))?;
    img.save_with_format(path, image::ImageFormat::Png)
        .with_context(|| format!("writing {}", path.display()))
}

/// A file name for a frame label: `astronaut_pan[3]` becomes `astronaut_pan_3`.
pub fn label_file_name(label: &str) -> String {
    label
        .chars()
        .filter(|&c| c != ']')
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Decodes a PNG or JPEG file to RGB8.
pub fn read_image(path: &Path) -> Result<RgbImage> {
    let reader = || {
        image::ImageReader::open(path)
            .with_context(|| format!("opening image {}", path.display()))?
            .with_guessed_format()
            .with_context(|| format!("reading image {}", path.display()))
    };
    // The size from the header first: a tiny file may claim an enormous image.
    let (w, h) = reader()?
        .into_dimensions()
        .with_context(|| format!("reading image {}", path.display()))?;
    squeezeflow_model::limits::check_image_size(w as usize, h as usize)
        .map_err(|e| anyhow::anyhow!("image {}: {e}", path.display()))?;
    let r = reader()?;
    if r.format() == Some(image::ImageFormat::Jpeg) {
        check_jpeg_end(path)?;
    }
    let img = r
        .decode()
        .with_context(|| format!("decoding image {}", path.display()))?
        .to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    Ok(RgbImage::new(w, h, img.into_raw()))
}

/// A JPEG cut short decodes without an error (the rest comes out grey), so its end is checked:
/// the end-of-image marker (FF D9) must be in the file's last KiB. Entropy-coded data never holds
/// FF D9 (an FF there is followed by 00), so a cut file does not have it there.
fn check_jpeg_end(path: &Path) -> Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f =
        std::fs::File::open(path).with_context(|| format!("opening image {}", path.display()))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let tail = len.min(1024);
    f.seek(SeekFrom::Start(len - tail))
        .and_then(|_| {
            let mut b = Vec::new();
            f.take(tail).read_to_end(&mut b).map(|_| b)
        })
        .with_context(|| format!("reading image {}", path.display()))
        .and_then(|b| {
            if b.windows(2).any(|w| w == [0xff, 0xd9]) {
                Ok(())
            } else {
                Err(anyhow::anyhow!(
                    "image {}: the JPEG has no end-of-image marker (cut short?)",
                    path.display()
                ))
            }
        })
}

/// File extensions read as images.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

pub(super) fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// The images of a folder (PNG, JPEG), sorted by name.
pub fn list_images(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("reading folder {}", dir.display()))? {
        let p = e
            .with_context(|| format!("reading folder {}", dir.display()))?
            .path();
        if p.is_file() && is_image(&p) {
            v.push(p);
        }
    }
    v.sort();
    if v.is_empty() {
        bail!(
            "folder {} holds no images ({})",
            dir.display(),
            IMAGE_EXTENSIONS.join(", ")
        );
    }
    Ok(v)
}
