//! An `ImportRecords` call's records on disk. Each record goes to an
//! unnamed temporary file as it arrives, so that a call holds one message in
//! memory rather than all of them (#29); the importer then reads the file as
//! a `Source`, once to check every record and once to write them in
//! batches, keeping its all-or-nothing check over the whole call.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use prost::Message;

use super::source::{Item, LineError, Source};
use crate::error::{Error, Result};
use crate::pb::diplomacy::v1 as pb;
use crate::records::Record;

/// Records written in arrival order, each length-delimited.
pub struct Spool {
    file: BufWriter<File>,
    count: usize,
}

fn spool_error(what: &str, e: std::io::Error) -> Error {
    Error::Unavailable(format!(
        "the import's temporary file could not be {what}: {e}"
    ))
}

impl Spool {
    /// A spool in `dir` (the data dir, sized for data): the file has no
    /// name, so that nothing is left behind when the process dies.
    pub fn new_in(dir: &Path) -> Result<Self> {
        let file = tempfile::tempfile_in(dir).map_err(|e| spool_error("created", e))?;
        Ok(Self {
            file: BufWriter::with_capacity(1 << 20, file),
            count: 0,
        })
    }

    pub fn push(&mut self, record: Record) -> Result<()> {
        let message = pb::Record { kind: Some(record) };
        self.file
            .write_all(&message.encode_length_delimited_to_vec())
            .map_err(|e| spool_error("written", e))?;
        self.count += 1;
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The records, to be read as often as the importer reads a source.
    pub fn finish(self) -> Result<Spooled> {
        let count = self.count;
        let file = self
            .file
            .into_inner()
            .map_err(|e| spool_error("written", e.into_error()))?;
        Ok(Spooled { file, count })
    }
}

/// A finished spool: a `Source` that reads the file from its start each time.
pub struct Spooled {
    file: File,
    count: usize,
}

/// Reads `file` from `offset` on without moving a shared position, so that
/// every reading of the spool has its own.
struct At<'a> {
    file: &'a File,
    offset: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

/// The next length-delimited record, `None` at the end of the file.
fn next_record(reader: &mut impl Read) -> std::io::Result<Option<Record>> {
    let mut length: u64 = 0;
    for shift in (0..64).step_by(7) {
        let mut byte = [0u8];
        if reader.read(&mut byte)? == 0 {
            return if shift == 0 {
                Ok(None)
            } else {
                Err(std::io::ErrorKind::UnexpectedEof.into())
            };
        }
        length |= u64::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            let mut message = vec![0u8; length as usize];
            reader.read_exact(&mut message)?;
            let record = pb::Record::decode(message.as_slice())
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            return record
                .kind
                .map(Some)
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no record"));
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "length too long",
    ))
}

impl Source for Spooled {
    fn read(&self) -> Result<Box<dyn Iterator<Item = Item<'_>> + Send + '_>> {
        let mut reader = BufReader::with_capacity(
            1 << 20,
            At {
                file: &self.file,
                offset: 0,
            },
        );
        let count = self.count;
        // Exactly the records pushed: a short or unreadable file is the
        // server's fault, reported as such (never taken as fewer records).
        let items = (0..count).map_while(move |i| {
            let failed = |e: std::io::Error| LineError {
                line: i + 1,
                error: spool_error("read back", e),
            };
            match next_record(&mut reader) {
                Ok(Some(record)) => Some(Ok(Cow::Owned(record))),
                Ok(None) => Some(Err(failed(std::io::ErrorKind::UnexpectedEof.into()))),
                Err(e) => Some(Err(failed(e))),
            }
        });
        Ok(Box::new(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(i: usize) -> Record {
        Record::Event(pb::Event {
            name: format!("events/e{i}"),
            title: "x".repeat(i % 300),
            ..Default::default()
        })
    }

    #[test]
    fn gives_back_every_record_in_order_each_time_it_is_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut spool = Spool::new_in(dir.path()).expect("spool");
        for i in 0..5_000 {
            spool.push(event(i)).expect("push");
        }
        assert_eq!(spool.len(), 5_000);
        let spooled = spool.finish().expect("finish");
        for _ in 0..2 {
            let read: Vec<Record> = spooled
                .read()
                .expect("read")
                .map(|item| item.expect("record").into_owned())
                .collect();
            assert_eq!(read, (0..5_000).map(event).collect::<Vec<_>>());
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("dir").count(),
            0,
            "the file has no name in the dir"
        );
    }

    #[test]
    fn a_file_shorter_than_what_was_pushed_is_an_error_not_fewer_records() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut spool = Spool::new_in(dir.path()).expect("spool");
        for i in 0..3 {
            spool.push(event(i)).expect("push");
        }
        let spooled = spool.finish().expect("finish");
        let length = spooled.file.metadata().expect("metadata").len();
        spooled.file.set_len(length - 2).expect("truncate");
        let items: Vec<_> = spooled.read().expect("read").collect();
        assert_eq!(items.len(), 3);
        assert!(items[..2].iter().all(Result::is_ok));
        let error = items[2].as_ref().expect_err("the cut record");
        assert!(matches!(error.error, Error::Unavailable(_)), "{error}");
    }
}
