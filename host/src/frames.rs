//! Frame sources and preprocessing: images (PNG, JPEG), folders of images, YUV4MPEG2 video from a
//! file or a pipe, and a synthetic pattern. Every source yields `(label, rgb)` with `rgb` the
//! network's `N x N` input as raw `u8` RGB in HWC order.
//!
//! Preprocessing is torchvision's, bit for bit with Pillow: a frame not of the network's size is
//! resized (Pillow's BILINEAR, which antialiases when shrinking) so its shorter side is
//! `round(N * 256 / 224)` (256 for N = 224) and its longer side `round(long * short' / short)`,
//! then the centre `N x N` is cropped at `floor((w - N) / 2)`, `floor((h - N) / 2)`.
//!
//! The resize is Pillow's `libImaging/Resample.c` (horizontal pass first, into `u8`), checked byte
//! for byte against Pillow 12.3 on the shared photos and on random sizes. Pillow 13.0 sometimes
//! runs the vertical pass first, which can move a few pixels by one level.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use squeezeflow_model::float::synthetic_frame;
use squeezeflow_model::Shape;

/// An RGB8 image, HWC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl RgbImage {
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Self {
        assert_eq!(data.len(), width * height * 3, "RGB image size");
        RgbImage {
            width,
            height,
            data,
        }
    }
}

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

// ----- Images -----

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
    let img = image::ImageReader::open(path)
        .with_context(|| format!("opening image {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("reading image {}", path.display()))?
        .decode()
        .with_context(|| format!("decoding image {}", path.display()))?
        .to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    Ok(RgbImage::new(w, h, img.into_raw()))
}

/// File extensions read as images.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn stem(p: &Path) -> String {
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

// ----- YUV4MPEG2 -----

/// Chroma layouts of a Y4M stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chroma {
    /// 4:2:0 (`420jpeg`, `420`, `420mpeg2`, `420paldv`: the siting differs, but chroma is
    /// upsampled by repetition, so they read alike).
    C420,
    C422,
    C444,
    Mono,
}

/// A Y4M stream's header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Y4mHeader {
    pub width: usize,
    pub height: usize,
    pub chroma: Chroma,
    /// `XCOLORRANGE=FULL` (the default here) or `LIMITED`.
    pub full_range: bool,
}

impl Y4mHeader {
    fn chroma_size(&self) -> (usize, usize) {
        let (w, h) = (self.width, self.height);
        match self.chroma {
            Chroma::C420 => (w.div_ceil(2), h.div_ceil(2)),
            Chroma::C422 => (w.div_ceil(2), h),
            Chroma::C444 => (w, h),
            Chroma::Mono => (0, 0),
        }
    }

    /// Bytes of one frame's planes.
    pub fn frame_bytes(&self) -> usize {
        let (cw, ch) = self.chroma_size();
        self.width * self.height + 2 * cw * ch
    }

    /// Parses the header line (without its newline).
    pub fn parse(line: &str) -> Result<Self> {
        let mut it = line.split(' ');
        if it.next() != Some("YUV4MPEG2") {
            bail!("not a YUV4MPEG2 stream (the header does not start with 'YUV4MPEG2')");
        }
        let (mut w, mut h) = (None, None);
        let mut chroma = Chroma::C420;
        let mut full_range = true;
        for tok in it.filter(|t| !t.is_empty()) {
            let (k, v) = tok.split_at(1);
            match k {
                "W" | "H" => {
                    let n: usize = v
                        .parse()
                        .ok()
                        .filter(|&n| n > 0 && n <= 1 << 15)
                        .ok_or_else(|| anyhow!("bad Y4M header: {k}{v} is not a frame size"))?;
                    if k == "W" {
                        w = Some(n)
                    } else {
                        h = Some(n)
                    }
                }
                "C" => {
                    chroma = match v {
                        "420jpeg" | "420" | "420mpeg2" | "420paldv" => Chroma::C420,
                        "422" => Chroma::C422,
                        "444" => Chroma::C444,
                        "mono" => Chroma::Mono,
                        other => bail!(
                            "unsupported Y4M chroma 'C{other}' (supported: 420jpeg, 420, \
                             420mpeg2, 420paldv, 422, 444, mono; 8 bits per sample)"
                        ),
                    }
                }
                "X" => {
                    if let Some(r) = v.strip_prefix("COLORRANGE=") {
                        full_range = match r {
                            "FULL" => true,
                            "LIMITED" => false,
                            other => bail!("bad Y4M header: XCOLORRANGE={other}"),
                        }
                    }
                }
                "F" | "I" | "A" => {}
                _ => bail!("bad Y4M header: unknown parameter '{tok}'"),
            }
        }
        match (w, h) {
            (Some(width), Some(height)) => Ok(Y4mHeader {
                width,
                height,
                chroma,
                full_range,
            }),
            _ => bail!("bad Y4M header: it needs W and H"),
        }
    }

    /// Converts one frame's planes to RGB: BT.601 YCbCr (full range, or limited range expanded
    /// first), chroma upsampled by repetition, rounded and clamped.
    pub fn to_rgb(&self, planes: &[u8]) -> RgbImage {
        let (w, h) = (self.width, self.height);
        let (cw, ch) = self.chroma_size();
        let (yp, rest) = planes.split_at(w * h);
        let (up, vp) = rest.split_at(cw * ch);
        let mut data = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let (cb, cr) = match self.chroma {
                    Chroma::Mono => (128.0, 128.0),
                    _ => {
                        let (sx, sy) = (x * cw / w, y * ch / h);
                        (up[sy * cw + sx] as f64, vp[sy * cw + sx] as f64)
                    }
                };
                let mut l = yp[y * w + x] as f64;
                let (mut u, mut v) = (cb - 128.0, cr - 128.0);
                if !self.full_range {
                    l = (l - 16.0) * 255.0 / 219.0;
                    u *= 255.0 / 224.0;
                    v *= 255.0 / 224.0;
                }
                let r = l + 1.402 * v;
                let g = l - 0.344136 * u - 0.714136 * v;
                let b = l + 1.772 * u;
                for c in [r, g, b] {
                    data.push(c.round().clamp(0.0, 255.0) as u8);
                }
            }
        }
        RgbImage::new(w, h, data)
    }
}

/// Longest header or FRAME line accepted.
const MAX_LINE: usize = 4096;

/// Reads one `\n`-terminated line; `None` at a clean end of stream.
fn read_line(r: &mut impl BufRead, what: &str) -> Result<Option<String>> {
    let mut buf = Vec::new();
    let n = r
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut buf)
        .with_context(|| format!("reading the Y4M {what}"))?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        if buf.len() > MAX_LINE {
            bail!("bad Y4M {what}: longer than {MAX_LINE} bytes");
        }
        bail!("the Y4M {what} is truncated (no end of line)");
    }
    buf.pop();
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| anyhow!("bad Y4M {what}: not text"))
}

/// A YUV4MPEG2 reader: reads one frame at a time from any reader (a file, a pipe).
pub struct Y4mReader<R: Read> {
    reader: BufReader<R>,
    pub header: Y4mHeader,
    frame: usize,
    done: bool,
}

impl<R: Read> Y4mReader<R> {
    /// Reads and checks the stream header.
    pub fn new(reader: R) -> Result<Self> {
        let mut reader = BufReader::new(reader);
        let line = read_line(&mut reader, "header")?
            .ok_or_else(|| anyhow!("empty input: expected a YUV4MPEG2 stream"))?;
        let header = Y4mHeader::parse(&line)?;
        Ok(Y4mReader {
            reader,
            header,
            frame: 0,
            done: false,
        })
    }

    /// The next frame as RGB, or `None` at the end of the stream.
    pub fn next_frame(&mut self) -> Result<Option<RgbImage>> {
        if self.done {
            return Ok(None);
        }
        let i = self.frame;
        let Some(line) = read_line(&mut self.reader, &format!("frame {i} header"))? else {
            self.done = true;
            return Ok(None);
        };
        if line != "FRAME" && !line.starts_with("FRAME ") {
            self.done = true;
            bail!("bad Y4M stream: frame {i} starts with '{line:.20}', not FRAME");
        }
        let need = self.header.frame_bytes();
        let mut buf = vec![0u8; need];
        let mut got = 0;
        while got < need {
            match self.reader.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    return Err(e).with_context(|| format!("reading Y4M frame {i}"));
                }
            }
        }
        if got < need {
            self.done = true;
            bail!("frame {i} is truncated: {got} of {need} bytes");
        }
        self.frame += 1;
        Ok(Some(self.header.to_rgb(&buf)))
    }
}

// ----- Frame sources -----

/// One frame: a label (`chelsea`, `astronaut_pan[3]`, `synthetic[0]`) and the network's input,
/// raw RGB, HWC.
pub type Frame = (String, Vec<u8>);

type FrameIter = Box<dyn Iterator<Item = Result<Frame>>>;

/// A stream of preprocessed frames. Iterate it: each item is a frame or the error that ended it.
pub struct FrameSource {
    inner: FrameIter,
}

impl Iterator for FrameSource {
    type Item = Result<Frame>;
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }
}

impl FrameSource {
    /// One image file.
    pub fn image(path: &Path, n: usize) -> FrameSource {
        let path = path.to_path_buf();
        FrameSource {
            inner: Box::new(std::iter::once_with(move || {
                let img = read_image(&path)?;
                let rgb = preprocess(&img, n).with_context(|| path.display().to_string())?;
                Ok((stem(&path), rgb))
            })),
        }
    }

    /// The images of a folder, sorted by name.
    pub fn folder(dir: &Path, n: usize) -> Result<FrameSource> {
        let files = list_images(dir)?;
        Ok(FrameSource {
            inner: Box::new(files.into_iter().flat_map(move |p| Self::image(&p, n))),
        })
    }

    /// A Y4M stream, read frame by frame; labels are `label[i]`.
    pub fn y4m<R: Read + 'static>(reader: R, label: &str, n: usize) -> Result<FrameSource> {
        let mut r = Y4mReader::new(reader).with_context(|| label.to_string())?;
        let label = label.to_string();
        let mut i = 0usize;
        let mut failed = false;
        Ok(FrameSource {
            inner: Box::new(std::iter::from_fn(move || {
                if failed {
                    return None;
                }
                let item = match r.next_frame() {
                    Ok(None) => return None,
                    Ok(Some(img)) => preprocess(&img, n).map(|rgb| (format!("{label}[{i}]"), rgb)),
                    Err(e) => Err(e),
                };
                i += 1;
                if item.is_err() {
                    failed = true;
                }
                Some(item.with_context(|| label.clone()))
            })),
        })
    }

    /// `count` synthetic pattern frames (see `squeezeflow_model::float::synthetic_frame`).
    pub fn synthetic(n: usize, count: usize, seed: u64) -> FrameSource {
        FrameSource {
            inner: Box::new((0..count).map(move |i| {
                Ok((
                    format!("synthetic[{i}]"),
                    synthetic_frame(Shape::new(n, n, 3), seed + i as u64),
                ))
            })),
        }
    }

    /// A source named on the command line: `-` (Y4M on standard input), a `.y4m` file, a folder
    /// of images, an image file, or `synthetic` / `synthetic:COUNT`.
    pub fn open(arg: &str, n: usize) -> Result<FrameSource> {
        if arg == "-" {
            return Self::y4m(std::io::stdin(), "stdin", n);
        }
        if arg == "synthetic" {
            return Ok(Self::synthetic(n, 1, 1));
        }
        if let Some(c) = arg.strip_prefix("synthetic:") {
            let count: usize = c
                .parse()
                .map_err(|_| anyhow!("'{arg}': expected synthetic:COUNT"))?;
            return Ok(Self::synthetic(n, count, 1));
        }
        let p = Path::new(arg);
        if p.is_dir() {
            return Self::folder(p, n);
        }
        let is_y4m = p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("y4m"));
        if is_y4m {
            let f = File::open(p).with_context(|| format!("opening video {}", p.display()))?;
            return Self::y4m(f, &stem(p), n);
        }
        if !p.exists() {
            bail!("{arg}: no such file or folder");
        }
        Ok(Self::image(p, n))
    }

    /// Several sources, one after the other.
    pub fn open_all(args: &[String], n: usize) -> Result<FrameSource> {
        let mut sources = Vec::new();
        for a in args {
            sources.push(Self::open(a, n)?);
        }
        Ok(FrameSource {
            inner: Box::new(sources.into_iter().flatten()),
        })
    }

    /// Reads every frame (stops at the first error).
    pub fn collect_all(self) -> Result<Vec<Frame>> {
        self.collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(w: usize, h: usize, f: impl Fn(usize, usize, usize) -> u8) -> RgbImage {
        let mut d = Vec::new();
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    d.push(f(x, y, c));
                }
            }
        }
        RgbImage::new(w, h, d)
    }

    #[test]
    fn resize_to_the_same_size_is_identity() {
        let a = img(7, 5, |x, y, c| (x * 31 + y * 17 + c * 5) as u8);
        assert_eq!(resize_bilinear(&a, 7, 5).unwrap(), a);
    }

    #[test]
    fn a_constant_image_stays_constant() {
        let a = img(451, 300, |_, _, c| [200, 7, 255][c]);
        let r = resize_bilinear(&a, 385, 256).unwrap();
        assert!(r.data.chunks(3).all(|p| p == [200, 7, 255]));
        let r = resize_bilinear(&a, 1000, 17).unwrap();
        assert!(r.data.chunks(3).all(|p| p == [200, 7, 255]));
    }

    #[test]
    fn halving_averages_pairs_like_pillow() {
        // 4 -> 2: scale 2, support 2; output 0 has center 1.0, xmin 0, xmax 3, weights
        // tri((x - 0.5) / 2) = 0.75, 0.75, 0.25 over pixels 0, 1, 2 -> normalised 3/7, 3/7, 1/7.
        let a = img(4, 1, |x, _, _| [0, 70, 140, 210][x]);
        let r = resize_bilinear(&a, 2, 1).unwrap();
        // (0*3 + 70*3 + 140) / 7 = 50; output 1: center 3, xmin 1, xmax 4 -> pixels 1,2,3 with
        // weights 0.25, 0.75, 0.75 -> (70 + 140*3 + 210*3) / 7 = 160.
        assert_eq!(&r.data[..3], &[50, 50, 50]);
        assert_eq!(&r.data[3..], &[160, 160, 160]);
    }

    #[test]
    fn upscaling_interpolates() {
        // 2 -> 4: scale 0.5, support 1; output 1 has center 0.75: xmin 0, xmax 2, weights
        // tri(-0.25)=0.75 and tri(0.75)=0.25 -> 0.75*0 + 0.25*100 = 25.
        let a = img(2, 1, |x, _, _| [0, 100][x]);
        let r = resize_bilinear(&a, 4, 1).unwrap();
        let row: Vec<u8> = r.data.chunks(3).map(|p| p[0]).collect();
        assert_eq!(row, vec![0, 25, 75, 100]);
    }

    #[test]
    fn the_long_side_is_rounded() {
        assert_eq!(resized_size(451, 300, 256), (385, 256)); // 384.85 -> 385
        assert_eq!(resized_size(600, 400, 256), (384, 256));
        assert_eq!(resized_size(300, 451, 256), (256, 385));
        assert_eq!(resized_size(512, 512, 256), (256, 256));
        assert_eq!(resize_short_side(224), 256);
        assert_eq!(resize_short_side(227), 259);
    }

    #[test]
    fn preprocess_crops_the_centre() {
        let a = img(300, 260, |x, y, _| ((x + y) % 256) as u8);
        let out = preprocess(&a, 224).unwrap();
        assert_eq!(out.len(), 224 * 224 * 3);
        let same = img(224, 224, |x, _, _| x as u8);
        assert_eq!(preprocess(&same, 224).unwrap(), same.data);
        // A crop of an exactly 256-high image: offsets floor((w - n) / 2).
        let b = img(5, 4, |x, y, _| (10 * y + x) as u8);
        let c = center_crop(&b, 2).unwrap();
        assert_eq!(
            c.chunks(3).map(|p| p[0]).collect::<Vec<_>>(),
            vec![11, 12, 21, 22]
        );
    }

    fn y4m_bytes(header: &str, frames: &[Vec<u8>]) -> Vec<u8> {
        let mut v = format!("{header}\n").into_bytes();
        for f in frames {
            v.extend_from_slice(b"FRAME\n");
            v.extend_from_slice(f);
        }
        v
    }

    #[test]
    fn y4m_reads_frames_and_converts_colour() {
        // 2x2 4:2:0: Y 4 bytes, Cb 1, Cr 1.
        let grey = vec![128, 128, 128, 128, 128, 128];
        let red = vec![77, 77, 77, 77, 85, 255]; // about BT.601 full-range red
        let data = y4m_bytes(
            "YUV4MPEG2 W2 H2 F30:1 Ip A1:1 C420jpeg XCOLORRANGE=FULL",
            &[grey, red],
        );
        let mut r = Y4mReader::new(std::io::Cursor::new(data)).unwrap();
        let a = r.next_frame().unwrap().unwrap();
        assert!(a.data.iter().all(|&v| v == 128));
        let b = r.next_frame().unwrap().unwrap();
        // R = 77 + 1.402 * 127, G = 77 + 0.344136 * 43 - 0.714136 * 127, B = 77 - 1.772 * 43
        assert_eq!(&b.data[..3], &[255, 1, 1]);
        assert!(r.next_frame().unwrap().is_none());
    }

    #[test]
    fn y4m_limited_range_mono_and_444() {
        let data = y4m_bytes("YUV4MPEG2 W1 H1 Cmono XCOLORRANGE=LIMITED", &[vec![235]]);
        let mut r = Y4mReader::new(std::io::Cursor::new(data)).unwrap();
        assert_eq!(r.next_frame().unwrap().unwrap().data, vec![255, 255, 255]);
        let data = y4m_bytes("YUV4MPEG2 W1 H1 C444", &[vec![16, 128, 128]]);
        let mut r = Y4mReader::new(std::io::Cursor::new(data)).unwrap();
        assert_eq!(r.next_frame().unwrap().unwrap().data, vec![16, 16, 16]);
    }

    #[test]
    fn y4m_frames_with_parameters_and_resizing() {
        let mut data = b"YUV4MPEG2 W4 H2 C444\n".to_vec();
        data.extend_from_slice(b"FRAME Ixyz\n");
        data.extend_from_slice(&[100u8; 8]);
        data.extend_from_slice(&[128u8; 16]);
        let src = FrameSource::y4m(std::io::Cursor::new(data), "clip", 2).unwrap();
        let frames = src.collect_all().unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].0, "clip[0]");
        assert_eq!(frames[0].1, vec![100u8; 12]);
    }

    fn y4m_err(data: Vec<u8>) -> String {
        let r = Y4mReader::new(std::io::Cursor::new(data));
        let mut r = match r {
            Err(e) => return format!("{e:#}"),
            Ok(r) => r,
        };
        loop {
            match r.next_frame() {
                Err(e) => return format!("{e:#}"),
                Ok(None) => panic!("no error"),
                Ok(Some(_)) => {}
            }
        }
    }

    #[test]
    fn y4m_errors_are_clear() {
        let f = vec![0u8; 6];
        let mut data = y4m_bytes(
            "YUV4MPEG2 W2 H2 C420jpeg",
            &[f.clone(), f.clone(), f.clone()],
        );
        data.extend_from_slice(b"FRAME\n");
        data.extend_from_slice(&[0u8; 4]);
        assert_eq!(y4m_err(data), "frame 3 is truncated: 4 of 6 bytes");
        let e = y4m_err(y4m_bytes("YUV4MPEG2 W2 H2 C420p10", &[]));
        assert!(e.contains("unsupported Y4M chroma 'C420p10'"), "{e}");
        let e = y4m_err(b"P6\n2 2\n255\n".to_vec());
        assert!(e.contains("not a YUV4MPEG2 stream"), "{e}");
        let e = y4m_err(y4m_bytes("YUV4MPEG2 W2 C420", &[]));
        assert!(e.contains("needs W and H"), "{e}");
        let e = y4m_err(y4m_bytes("YUV4MPEG2 Wx H2", &[]));
        assert!(e.contains("Wx"), "{e}");
        let e = y4m_err(b"".to_vec());
        assert!(e.contains("empty input"), "{e}");
        let mut data = y4m_bytes("YUV4MPEG2 W2 H2", &[f]);
        data.extend_from_slice(b"FRAMX\n");
        let e = y4m_err(data);
        assert!(e.contains("frame 1 starts with 'FRAMX'"), "{e}");
        let e = y4m_err(b"YUV4MPEG2 W2 H2".to_vec());
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn an_unreadable_image_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("sqf-frames-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("broken.png");
        std::fs::write(&p, b"\x89PNG\r\n\x1a\nnot really").unwrap();
        let e = FrameSource::open(p.to_str().unwrap(), 224)
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("broken.png"), "{msg}");
        let e = FrameSource::open(dir.join("missing.png").to_str().unwrap(), 224)
            .err()
            .unwrap();
        assert!(format!("{e:#}").contains("no such file"), "{e:#}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn png_round_trip_through_a_folder() {
        let dir = std::env::temp_dir().join(format!("sqf-folder-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, v) in [("b.png", 20u8), ("a.png", 10u8)] {
            image::RgbImage::from_pixel(4, 4, image::Rgb([v, v, v]))
                .save(dir.join(name))
                .unwrap();
        }
        std::fs::write(dir.join("notes.txt"), "x").unwrap();
        let frames = FrameSource::open(dir.to_str().unwrap(), 4)
            .unwrap()
            .collect_all()
            .unwrap();
        let labels: Vec<&str> = frames.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(labels, vec!["a", "b"]);
        assert_eq!(frames[0].1, vec![10u8; 48]);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn synthetic_frames_have_the_input_size() {
        let f = FrameSource::open("synthetic:3", 32)
            .unwrap()
            .collect_all()
            .unwrap();
        assert_eq!(f.len(), 3);
        assert!(f.iter().all(|(_, rgb)| rgb.len() == 32 * 32 * 3));
        assert!(FrameSource::open("synthetic:x", 32).is_err());
    }
}
