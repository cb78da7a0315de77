//! The YUV4MPEG2 reader: a stream's header and chroma layout, and frames one at a time from any
//! reader (a file, a pipe), converted to RGB.

use std::io::{BufRead, BufReader, Read};

use anyhow::{anyhow, bail, Context, Result};

use super::RgbImage;

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
        // A header written with a CRLF line end parses as with LF.
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut it = line.split(' ');
        if it.next() != Some("YUV4MPEG2") {
            bail!("not a YUV4MPEG2 stream (the header does not start with 'YUV4MPEG2')");
        }
        let (mut w, mut h) = (None, None);
        let mut chroma = Chroma::C420;
        let mut full_range = true;
        for tok in it.filter(|t| !t.is_empty()) {
            // The parameter letter, then its value (a non-ASCII first character is an unknown
            // parameter, not a split inside a character).
            let first = tok.chars().next().map_or(0, char::len_utf8);
            let (k, v) = tok.split_at(first);
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

#[cfg(test)]
mod tests {
    use super::Y4mHeader;

    #[test]
    fn a_non_ascii_parameter_is_an_error_not_a_panic() {
        let e = Y4mHeader::parse("YUV4MPEG2 W4 H4 \u{e9}x")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown parameter") && e.contains('\u{e9}'),
            "{e}"
        );
        let e = Y4mHeader::parse("YUV4MPEG2 W4 H4 \u{1F600}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown parameter"), "{e}");
    }

    #[test]
    fn a_crlf_header_parses_as_lf() {
        let h = Y4mHeader::parse("YUV4MPEG2 W6 H2 F25:1 XCOLORRANGE=FULL\r").unwrap();
        assert_eq!((h.width, h.height), (6, 2));
    }
}
