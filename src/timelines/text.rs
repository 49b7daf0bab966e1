//! Opening text exports: BOM sniffing, GBK/GB18030 detection, streaming decode to UTF-8,
//! CRLF folded to LF, and a reader that knows which line it is on (for `file:line`
//! messages).

use std::fs::File;
use std::io::{BufRead, Read};
use std::path::Path;

use encoding_rs::{Encoding, GB18030, UTF_16BE, UTF_16LE, UTF_8};
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};

use super::TimelineError;

/// A streaming UTF-8 view of a text file that counts the lines consumed so far.
pub struct TextReader {
    src: DecodeReaderBytes<Box<dyn Read>, Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
    /// A `\r` at the end of the last chunk, not yet known to start a CRLF.
    pending_cr: bool,
    eof: bool,
    newlines: u64,
    /// The detected encoding ("UTF-8", "GB18030", "UTF-16LE", …).
    pub encoding: &'static str,
}

impl std::fmt::Debug for TextReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextReader")
            .field("encoding", &self.encoding)
            .field("line", &self.line())
            .finish()
    }
}

impl TextReader {
    /// Open `path`, sniffing its encoding from a BOM or, failing that, from whether its
    /// first 64 KiB are valid UTF-8 (Chinese Windows exports are GBK; GB18030 is a superset).
    pub fn open(path: &Path) -> Result<Self, TimelineError> {
        let file = File::open(path).map_err(|source| TimelineError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::new(file).map_err(|source| TimelineError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Text from bytes in memory (tests, fuzzing).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        // Reading from memory cannot fail.
        Self::new(std::io::Cursor::new(bytes)).unwrap_or_else(|_| Self::empty())
    }

    /// Text from any byte source; the encoding is sniffed from its first 64 KiB.
    pub fn new(mut source: impl Read + 'static) -> std::io::Result<Self> {
        let mut head = vec![0u8; CHUNK];
        let mut filled = 0;
        while filled < head.len() {
            let n = source.read(&mut head[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        head.truncate(filled);
        let encoding = sniff(&head);
        let source: Box<dyn Read> = Box::new(std::io::Cursor::new(head).chain(source));
        let decoder = DecodeReaderBytesBuilder::new()
            .encoding(Some(encoding))
            .bom_override(true)
            .strip_bom(true)
            .build(source);
        Ok(Self {
            src: decoder,
            buf: Vec::with_capacity(CHUNK),
            pos: 0,
            pending_cr: false,
            eof: false,
            newlines: 0,
            encoding: encoding.name(),
        })
    }

    fn empty() -> Self {
        let source: Box<dyn Read> = Box::new(std::io::empty());
        Self {
            src: DecodeReaderBytesBuilder::new().build(source),
            buf: Vec::new(),
            pos: 0,
            pending_cr: false,
            eof: true,
            newlines: 0,
            encoding: UTF_8.name(),
        }
    }

    /// 1-based number of the line the next byte belongs to.
    pub fn line(&self) -> u64 {
        self.newlines + 1
    }

    /// The first non-whitespace byte, without consuming anything past leading whitespace.
    pub fn peek_first_byte(&mut self) -> std::io::Result<Option<u8>> {
        loop {
            let buf = self.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => {
                    let b = buf[i];
                    self.consume(i);
                    return Ok(Some(b));
                }
                None => {
                    let n = buf.len();
                    self.consume(n);
                }
            }
        }
    }
}

const CHUNK: usize = 64 * 1024;

fn sniff(head: &[u8]) -> &'static Encoding {
    if let Some((enc, _)) = Encoding::for_bom(head) {
        return enc;
    }
    match std::str::from_utf8(head) {
        Ok(_) => UTF_8,
        // Cut in the middle of a character at the end of the sample: still UTF-8.
        Err(e) if e.error_len().is_none() => UTF_8,
        Err(_) => {
            // UTF-16 without a BOM shows up as many NULs.
            let nuls = head.iter().filter(|&&b| b == 0).count();
            if nuls > head.len() / 4 {
                if head.first() == Some(&0) {
                    UTF_16BE
                } else {
                    UTF_16LE
                }
            } else {
                GB18030
            }
        }
    }
}

impl Read for TextReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for TextReader {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let mut raw = [0u8; CHUNK];
        while self.pos >= self.buf.len() && !self.eof {
            self.buf.clear();
            self.pos = 0;
            let n = self.src.read(&mut raw)?;
            if n == 0 {
                self.eof = true;
                if self.pending_cr {
                    self.buf.push(b'\r');
                    self.pending_cr = false;
                }
                break;
            }
            for &b in &raw[..n] {
                if self.pending_cr && b != b'\n' {
                    self.buf.push(b'\r');
                }
                self.pending_cr = b == b'\r';
                if !self.pending_cr {
                    self.buf.push(b);
                }
            }
        }
        Ok(&self.buf[self.pos.min(self.buf.len())..])
    }

    fn consume(&mut self, amt: usize) {
        let end = (self.pos + amt).min(self.buf.len());
        self.newlines += self.buf[self.pos..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.pos = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    fn read_all(r: &mut TextReader) -> String {
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn utf8_with_bom_and_crlf() {
        let f = file("\u{feff}时间,内容\r\n1,好\r\n".as_bytes());
        let mut r = TextReader::open(f.path()).unwrap();
        assert_eq!(r.encoding, "UTF-8");
        assert_eq!(r.peek_first_byte().unwrap(), Some("时".as_bytes()[0]));
        assert_eq!(read_all(&mut r), "时间,内容\n1,好\n");
        assert_eq!(r.line(), 3);
    }

    #[test]
    fn gbk_is_detected_and_decoded() {
        let (gbk, _, _) = GB18030.encode("支付时间,实付金额\n2024-09-03 19:13:00,99\n");
        let f = file(&gbk);
        let mut r = TextReader::open(f.path()).unwrap();
        assert_eq!(r.encoding, "gb18030");
        assert_eq!(
            read_all(&mut r),
            "支付时间,实付金额\n2024-09-03 19:13:00,99\n"
        );
    }

    #[test]
    fn utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "t,text\n1,哈\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let f = file(&bytes);
        let mut r = TextReader::open(f.path()).unwrap();
        assert_eq!(read_all(&mut r), "t,text\n1,哈\n");
    }

    #[test]
    fn empty_file() {
        let f = file(b"");
        let mut r = TextReader::open(f.path()).unwrap();
        assert_eq!(r.peek_first_byte().unwrap(), None);
    }
}
