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
//!
//! Files: `resize.rs` (Pillow's bilinear resize, torchvision's resize and centre crop),
//! `images.rs` (PNG and JPEG files, folders), `y4m.rs` (the YUV4MPEG2 reader); this module holds
//! the image type and the frame sources built on them.

mod images;
mod resize;
mod y4m;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use squeezeflow_model::float::synthetic_frame;
use squeezeflow_model::Shape;

use images::stem;
pub use images::{label_file_name, list_images, read_image, write_png, IMAGE_EXTENSIONS};
pub use resize::{center_crop, preprocess, resize_bilinear, resize_short_side, resized_size};
pub use y4m::{Chroma, Y4mHeader, Y4mReader};

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
        // `exists()` is false for a symlink loop too: say what the system says.
        if let Err(e) = std::fs::metadata(p) {
            if e.kind() == std::io::ErrorKind::NotFound {
                bail!("{arg}: no such file or folder");
            }
            bail!("{arg}: {e}");
        }
        Ok(Self::image(p, n))
    }

    /// Several sources, one after the other.
    pub fn open_all(args: &[String], n: usize) -> Result<FrameSource> {
        let stdin = args.iter().filter(|a| *a == "-").count();
        if stdin > 1 {
            bail!("`-` (Y4M on standard input) is given {stdin} times: standard input can be read once");
        }
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
