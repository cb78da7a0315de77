//! Preprocessing as torchvision does it, bit for bit with Pillow: Pillow's bilinear resampling
//! (`libImaging/Resample.c`, 8 bits per channel), the resized size, and the centre crop.

use anyhow::{bail, Result};

use super::RgbImage;

// ----- Pillow's resampling (libImaging/Resample.c), bilinear filter, 8 bits per channel -----

/// Fixed-point precision of Pillow's 8-bit resampling coefficients.
const PRECISION_BITS: u32 = 32 - 8 - 2;

fn bilinear(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        1.0 - x
    } else {
        0.0
    }
}

/// Per output pixel: the first input pixel and the fixed-point coefficients (Pillow's
/// `precompute_coeffs` + `normalize_coeffs_8bpc`).
fn coefficients(in_size: usize, out_size: usize) -> Vec<(usize, Vec<i32>)> {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = 1.0 * filterscale; // the bilinear filter's support is 1
    let ss = 1.0 / filterscale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            // (int) casts truncate toward zero, as in C.
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let n = xmax.saturating_sub(xmin);
            let w: Vec<f64> = (0..n)
                .map(|x| bilinear((x as f64 + xmin as f64 - center + 0.5) * ss))
                .collect();
            let sum: f64 = w.iter().sum();
            let k = w
                .iter()
                .map(|&v| {
                    let v = if sum != 0.0 { v / sum } else { v };
                    let f = v * (1u32 << PRECISION_BITS) as f64;
                    if v < 0.0 {
                        (-0.5 + f) as i32
                    } else {
                        (0.5 + f) as i32
                    }
                })
                .collect();
            (xmin, k)
        })
        .collect()
}

fn clip8(acc: i32) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

fn resample_horizontal(img: &RgbImage, out_w: usize) -> RgbImage {
    let coeffs = coefficients(img.width, out_w);
    let mut data = vec![0u8; out_w * img.height * 3];
    for y in 0..img.height {
        let row = &img.data[y * img.width * 3..][..img.width * 3];
        for (xx, (xmin, k)) in coeffs.iter().enumerate() {
            for c in 0..3 {
                let mut acc: i32 = 1 << (PRECISION_BITS - 1);
                for (i, &kv) in k.iter().enumerate() {
                    acc = acc.wrapping_add(row[(xmin + i) * 3 + c] as i32 * kv);
                }
                data[(y * out_w + xx) * 3 + c] = clip8(acc);
            }
        }
    }
    RgbImage::new(out_w, img.height, data)
}

fn resample_vertical(img: &RgbImage, out_h: usize) -> RgbImage {
    let coeffs = coefficients(img.height, out_h);
    let stride = img.width * 3;
    let mut data = vec![0u8; img.width * out_h * 3];
    for (yy, (ymin, k)) in coeffs.iter().enumerate() {
        for x in 0..stride {
            let mut acc: i32 = 1 << (PRECISION_BITS - 1);
            for (i, &kv) in k.iter().enumerate() {
                acc = acc.wrapping_add(img.data[(ymin + i) * stride + x] as i32 * kv);
            }
            data[yy * stride + x] = clip8(acc);
        }
    }
    RgbImage::new(img.width, out_h, data)
}

/// Pillow's `Image.resize((w, h), Image.BILINEAR)` on an RGB image, bit for bit: the horizontal
/// pass first (to `u8`), then the vertical; a pass runs only if that dimension changes.
pub fn resize_bilinear(img: &RgbImage, out_w: usize, out_h: usize) -> Result<RgbImage> {
    if out_w == 0 || out_h == 0 || img.width == 0 || img.height == 0 {
        bail!(
            "cannot resize a {}x{} image to {out_w}x{out_h}",
            img.width,
            img.height
        );
    }
    let mut cur = std::borrow::Cow::Borrowed(img);
    if out_w != img.width {
        cur = std::borrow::Cow::Owned(resample_horizontal(&cur, out_w));
    }
    if out_h != img.height {
        cur = std::borrow::Cow::Owned(resample_vertical(&cur, out_h));
    }
    Ok(cur.into_owned())
}

/// The size torchvision's `Resize(short)` gives, with the long side rounded (as
/// `../shared/README.md` states): `(w, h)`.
pub fn resized_size(w: usize, h: usize, short: usize) -> (usize, usize) {
    let scale = |long: usize, s: usize| ((long as f64) * short as f64 / s as f64).round() as usize;
    if w <= h {
        (short, scale(h, w))
    } else {
        (scale(w, h), short)
    }
}

/// The shorter side an `n x n` network input is cropped from: `round(n * 256 / 224)`.
pub fn resize_short_side(n: usize) -> usize {
    ((n as f64) * 256.0 / 224.0).round() as usize
}

/// torchvision's `Resize(round(n * 256 / 224))` + `CenterCrop(n)`; a frame already `n x n` is
/// returned as it is.
pub fn preprocess(img: &RgbImage, n: usize) -> Result<Vec<u8>> {
    if img.width == n && img.height == n {
        return Ok(img.data.clone());
    }
    let (w, h) = resized_size(img.width, img.height, resize_short_side(n));
    let r = resize_bilinear(img, w, h)?;
    center_crop(&r, n)
}

/// The `n x n` crop at `floor((w - n) / 2)`, `floor((h - n) / 2)`.
pub fn center_crop(img: &RgbImage, n: usize) -> Result<Vec<u8>> {
    if img.width < n || img.height < n {
        bail!(
            "a {}x{} image is smaller than the {n}x{n} crop",
            img.width,
            img.height
        );
    }
    let (x0, y0) = ((img.width - n) / 2, (img.height - n) / 2);
    let mut out = Vec::with_capacity(n * n * 3);
    for y in y0..y0 + n {
        out.extend_from_slice(&img.data[(y * img.width + x0) * 3..][..n * 3]);
    }
    Ok(out)
}
