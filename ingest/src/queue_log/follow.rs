//! Following a live `queue_log` like `tail -F`: complete lines only, through
//! rotation (the file renamed and a new one created) and truncation
//! (`copytruncate`), resuming from a checkpoint so that a restart neither
//! skips nor repeats lines. Polling rather than inotify: it behaves the same
//! on every file system (NFS included) and a `queue_log` grows by a few lines a
//! second.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use super::translate::{file_identity, TranslatorState};

/// Longest line kept; a longer one is reported and skipped.
pub const FOLLOW_MAX_LINE: usize = 64 * 1024;

/// How long a rotated file must stay unchanged before the follower moves to
/// the new one: logrotate runs `postrotate` (which makes Asterisk reopen its
/// log) right after creating the new file.
pub(super) const DEFAULT_ROTATION_GRACE: Duration = Duration::from_secs(2);

/// Why following a `queue_log` stopped.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The log file (or its directory) could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file that failed.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The checkpoint file is not a checkpoint (not its JSON).
    #[error("checkpoint {path}: {source}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// Why it does not parse.
        #[source]
        source: serde_json::Error,
    },
}

/// Where reading stopped, saved after everything before it was published.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// [`file_identity`] of the file being read; `None` until its first line.
    pub identity: Option<String>,
    /// Bytes consumed: the end of the last complete line handled.
    pub offset: u64,
    /// Lines consumed (blank ones included), i.e. the number of the last one.
    pub line: u64,
}

/// A follower's checkpoint: the position and what the translator knew then.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Where reading stopped.
    pub position: Position,
    /// The translator's open calls and members at that point.
    pub translator: TranslatorState,
}

impl Checkpoint {
    /// Reads a checkpoint; `None` when there is none yet.
    pub fn load(path: &Path) -> Result<Option<Self>, FollowError> {
        match fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|source| FollowError::Checkpoint {
                        path: path.to_owned(),
                        source,
                    })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(FollowError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Writes the checkpoint atomically (a crash leaves the old or the new
    /// one, never half of one).
    pub fn save(&self, path: &Path) -> Result<(), FollowError> {
        let io_err = |source| FollowError::Io {
            path: path.to_owned(),
            source,
        };
        let tmp = path.with_extension("tmp");
        let json = serde_json::to_vec_pretty(self).expect("checkpoints serialize");
        {
            use std::io::Write;
            let mut f = File::create(&tmp).map_err(io_err)?;
            f.write_all(&json).map_err(io_err)?;
            f.sync_all().map_err(io_err)?;
        }
        fs::rename(&tmp, path).map_err(io_err)
    }
}

/// What a poll of the file found.
#[derive(Debug, PartialEq, Eq)]
pub enum FollowedLine<'a> {
    /// A file starts (or resumes) here; its lines' events carry `identity`.
    File {
        /// [`file_identity`] of the file.
        identity: &'a str,
        /// Why the follower is at this file.
        why: Switch,
    },
    /// A complete, non-blank line (without its line end).
    Line {
        /// 1-based line number in the file.
        line: u64,
        /// The line's bytes.
        text: &'a [u8],
    },
    /// A line longer than [`FOLLOW_MAX_LINE`], skipped.
    TooLong {
        /// 1-based line number in the file.
        line: u64,
        /// Length of the line, bytes.
        size: usize,
    },
}

/// Why reading moved to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// The first file read.
    Opened,
    /// Resumed at the checkpoint.
    Resumed,
    /// The file was renamed away and a new one took its path.
    Rotated,
    /// The file became shorter than what was read: truncated and rewritten.
    Truncated,
}

/// Follows one `queue_log` path.
pub struct FileFollower {
    path: PathBuf,
    file: Option<File>,
    /// Device and inode of the open file: a different pair at the path
    /// means the file was rotated.
    id: (u64, u64),
    pos: Position,
    /// Read but not yet consumed: the start of an incomplete line.
    buf: Vec<u8>,
    /// Bytes of an overlong line being skipped, if one is.
    skipping: Option<usize>,
    /// The [`Switch`] to announce with the next identity.
    pending: Option<Switch>,
    /// Rotated copies to finish, oldest first, before `path`: found at
    /// start-up when the checkpointed file was rotated away meanwhile.
    rotated: VecDeque<PathBuf>,
    /// How long a file renamed away must stay unchanged before reading
    /// moves to the new one: Asterisk writes to the old file until it
    /// reopens its log (logrotate's `postrotate`).
    rotation_grace: Duration,
    /// Since when the path has held another file while the old one was
    /// quiet.
    rotated_since: Option<Instant>,
    chunk: Box<[u8]>,
}

impl FileFollower {
    /// Starts following `path` at `from` (a checkpoint's position), or at
    /// the start of the file. When the checkpointed file has been rotated
    /// away meanwhile, its rest is read first from the rotated copy next to
    /// `path` (`queue_log.1`, `queue_log-20261125`, …).
    pub fn open(path: &Path, from: Option<Position>) -> Result<Self, FollowError> {
        let mut f = FileFollower {
            path: path.to_owned(),
            file: None,
            id: (0, 0),
            pos: Position::default(),
            buf: Vec::new(),
            skipping: None,
            pending: Some(Switch::Opened),
            rotated: VecDeque::new(),
            rotation_grace: DEFAULT_ROTATION_GRACE,
            rotated_since: None,
            chunk: vec![0; 1 << 16].into_boxed_slice(),
        };
        let Some(from) = from.filter(|p| p.identity.is_some()) else {
            return Ok(f);
        };
        let want = from.identity.as_deref();
        if first_line_identity(path)?.as_deref() == want {
            // Still the checkpointed file.
        } else if let Some(copies) = find_rotated(path, want)? {
            tracing::info!(
                "{} was rotated while stopped; finishing {} first",
                path.display(),
                copies
                    .iter()
                    .map(|c| c.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", then ")
            );
            f.rotated = copies;
        } else {
            tracing::warn!(
                "the file checkpointed at line {} of {} is gone; reading {} from its start",
                from.line,
                path.display(),
                path.display()
            );
            return Ok(f);
        }
        f.pos = from;
        f.pending = Some(Switch::Resumed);
        Ok(f)
    }

    /// How long a rotated file must stay unchanged before reading moves on
    /// to the new file (default 2 s).
    #[must_use]
    pub fn with_rotation_grace(mut self, grace: Duration) -> Self {
        self.rotation_grace = grace;
        self
    }

    /// The position after the last line handed out.
    #[must_use]
    pub fn position(&self) -> &Position {
        &self.pos
    }

    /// Reads what is available and hands out each complete line; returns
    /// whether anything was read. With `at_end` (importing a finished file)
    /// a last line without a line end is handed out too.
    pub fn poll(
        &mut self,
        at_end: bool,
        on: &mut dyn FnMut(FollowedLine<'_>),
    ) -> Result<bool, FollowError> {
        if self.file.is_none() && !self.open_current()? {
            return Ok(false);
        }
        if self.drain(on)? {
            if self.rotated_since.is_some() {
                // The renamed file still grows: not done with it yet.
                self.rotated_since = Some(Instant::now());
            }
            return Ok(true);
        }
        // At the end of the open file: has it been rotated or truncated?
        if let Some(old) = self.rotated.pop_front() {
            // A rotated copy is finished; on to the next, or the live file.
            self.finish_file(on);
            tracing::info!("finished the rotated copy {}", old.display());
            self.switch(Switch::Rotated);
            return Ok(true);
        }
        let meta = match fs::metadata(&self.path) {
            Ok(m) => m,
            // Renamed away and not recreated yet: keep reading the old one.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if at_end {
                    self.finish_file(on);
                }
                return Ok(false);
            }
            Err(source) => return Err(self.io(source)),
        };
        if (meta.dev(), meta.ino()) != self.id {
            // Asterisk writes to the old file until it reopens its log: go
            // on reading it until it has been quiet for the grace period.
            let since = *self.rotated_since.get_or_insert_with(Instant::now);
            if since.elapsed() < self.rotation_grace && !at_end {
                return Ok(false);
            }
            self.rotated_since = None;
            self.drain(on)?;
            self.finish_file(on);
            tracing::info!(
                "{} was rotated; following the new file",
                self.path.display()
            );
            self.switch(Switch::Rotated);
            return Ok(true);
        }
        let read = self.pos.offset + (self.buf.len() + self.skipping.unwrap_or(0)) as u64;
        if meta.len() < read {
            tracing::warn!(
                "{} was truncated (now {} bytes, {read} read); reading it from the start",
                self.path.display(),
                meta.len(),
            );
            self.switch(Switch::Truncated);
            return Ok(true);
        }
        if at_end {
            self.finish_file(on);
        }
        Ok(false)
    }

    /// Opens the file to read (the rotated copy first, if any); false when
    /// there is no file at the path yet.
    fn open_current(&mut self) -> Result<bool, FollowError> {
        let (path, mut file) = loop {
            let path = self.rotated.front().unwrap_or(&self.path).clone();
            match File::open(&path) {
                Ok(f) => break (path, f),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if self.rotated.pop_front().is_none() {
                        return Ok(false);
                    }
                    // Compressed or deleted since it was found.
                    tracing::error!(
                        "{} is gone: its lines after line {} are lost",
                        path.display(),
                        self.pos.line
                    );
                    self.switch(Switch::Rotated);
                }
                Err(source) => return Err(self.io(source)),
            }
        };
        let meta = file.metadata().map_err(|e| self.io(e))?;
        if meta.len() < self.pos.offset {
            tracing::warn!(
                "{} is shorter than its checkpoint ({} < {} bytes); reading it from the start",
                path.display(),
                meta.len(),
                self.pos.offset
            );
            self.pos = Position::default();
            self.pending = Some(Switch::Truncated);
        }
        file.seek(SeekFrom::Start(self.pos.offset))
            .map_err(|e| self.io(e))?;
        self.id = (meta.dev(), meta.ino());
        self.file = Some(file);
        Ok(true)
    }

    /// Reads to the current end of the open file, handing out complete lines.
    fn drain(&mut self, on: &mut dyn FnMut(FollowedLine<'_>)) -> Result<bool, FollowError> {
        let mut progress = false;
        loop {
            let file = self.file.as_mut().expect("drain needs an open file");
            let n = match file.read(&mut self.chunk) {
                Ok(0) => return Ok(progress),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(self.io(source)),
            };
            progress = true;
            let mut rest = 0..n;
            while !rest.is_empty() {
                let data = &self.chunk[rest.clone()];
                if let Some(i) = memchr::memchr(b'\n', data) {
                    let take = i + 1;
                    if let Some(skipped) = self.skipping.take() {
                        self.pos.line += 1;
                        self.pos.offset += (skipped + take) as u64;
                        on(FollowedLine::TooLong {
                            line: self.pos.line,
                            size: skipped + i,
                        });
                    } else {
                        self.buf.extend_from_slice(&data[..take]);
                        self.consume_line(on);
                    }
                    rest.start += take;
                } else {
                    if let Some(skipped) = &mut self.skipping {
                        *skipped += data.len();
                    } else {
                        self.buf.extend_from_slice(data);
                        if self.buf.len() > FOLLOW_MAX_LINE {
                            self.skipping = Some(self.buf.len());
                            self.buf.clear();
                        }
                    }
                    rest.start = rest.end;
                }
            }
        }
    }

    /// Hands out the line in `buf` (with or without its line end) and
    /// moves the position past it.
    fn consume_line(&mut self, on: &mut dyn FnMut(FollowedLine<'_>)) {
        let raw = std::mem::take(&mut self.buf);
        self.pos.line += 1;
        self.pos.offset += raw.len() as u64;
        let mut text = &raw[..];
        while let [rest @ .., b'\n' | b'\r'] = text {
            text = rest;
        }
        if text.len() > FOLLOW_MAX_LINE {
            on(FollowedLine::TooLong {
                line: self.pos.line,
                size: text.len(),
            });
        } else if !text.iter().all(u8::is_ascii_whitespace) {
            if self.pos.identity.is_none() {
                let identity = file_identity(text);
                let why = self.pending.take().unwrap_or(Switch::Opened);
                on(FollowedLine::File {
                    identity: &identity,
                    why,
                });
                self.pos.identity = Some(identity);
            } else if let Some(why) = self.pending.take() {
                let identity = self.pos.identity.as_deref().unwrap_or_default();
                on(FollowedLine::File { identity, why });
            }
            on(FollowedLine::Line {
                line: self.pos.line,
                text,
            });
        }
        self.buf = raw;
        self.buf.clear();
    }

    /// The file is done: a last line without a line end counts as a line.
    fn finish_file(&mut self, on: &mut dyn FnMut(FollowedLine<'_>)) {
        if let Some(skipped) = self.skipping.take() {
            self.pos.line += 1;
            self.pos.offset += skipped as u64;
            on(FollowedLine::TooLong {
                line: self.pos.line,
                size: skipped,
            });
        } else if !self.buf.is_empty() {
            self.consume_line(on);
        }
    }

    /// Starts over at the start of the file at the path.
    fn switch(&mut self, why: Switch) {
        self.file = None;
        self.buf.clear();
        self.skipping = None;
        self.pos = Position::default();
        self.pending = Some(why);
    }

    fn io(&self, source: io::Error) -> FollowError {
        FollowError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

/// The identity of the file at `path`, if it has a complete first line.
fn first_line_identity(path: &Path) -> Result<Option<String>, FollowError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(FollowError::Io {
                path: path.to_owned(),
                source,
            })
        }
    };
    let mut head = Vec::new();
    file.take(FOLLOW_MAX_LINE as u64 + 1)
        .read_to_end(&mut head)
        .map_err(|source| FollowError::Io {
            path: path.to_owned(),
            source,
        })?;
    // The first non-blank complete line, as the follower sees it.
    let mut start = 0;
    while let Some(i) = memchr::memchr(b'\n', &head[start..]) {
        let line = &head[start..start + i];
        if !line.iter().all(u8::is_ascii_whitespace) {
            let mut text = line;
            while let [rest @ .., b'\r'] = text {
                text = rest;
            }
            return Ok(Some(file_identity(text)));
        }
        start += i + 1;
    }
    Ok(None)
}

/// Whether `candidate` names a rotated copy of `name`: a suffix like `.1`,
/// `-20261125` or `.2026-11-25` (logrotate's numbered and dated styles),
/// not compressed. Other siblings (a checkpoint next to the log) are not.
fn is_rotated_name(candidate: &str, name: &str) -> bool {
    let Some(suffix) = candidate.strip_prefix(name) else {
        return false;
    };
    let mut chars = suffix.chars();
    matches!(chars.next(), Some('.' | '-'))
        && chars.next().is_some_and(|c| c.is_ascii_digit())
        && ![".gz", ".bz2", ".xz", ".zst"]
            .iter()
            .any(|z| suffix.ends_with(z))
}

/// The rotated copy of `path` (a sibling whose name starts with its name,
/// not compressed) whose first line has `identity`, followed by the copies
/// rotated after it (several rotations while stopped), oldest first.
fn find_rotated(
    path: &Path,
    identity: Option<&str>,
) -> Result<Option<VecDeque<PathBuf>>, FollowError> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(None);
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let name = name.to_string_lossy();
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(None);
    };
    let mut candidates: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| is_rotated_name(&n.to_string_lossy(), &name))
        })
        .collect();
    // Oldest first: a rotated file is not written to any more.
    let modified = |p: &Path| {
        fs::metadata(p)
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH)
    };
    candidates.sort_by_key(|p| (modified(p), p.clone()));
    for (i, c) in candidates.iter().enumerate() {
        if first_line_identity(c)?.as_deref() == identity {
            return Ok(Some(candidates.drain(i..).collect()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A fresh directory for one test.
    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("wb-follow-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn append(path: &Path, text: &str) {
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// What one poll hands out, as text.
    fn poll(f: &mut FileFollower, at_end: bool) -> Vec<String> {
        poll_progress(f, at_end).1
    }

    fn poll_progress(f: &mut FileFollower, at_end: bool) -> (bool, Vec<String>) {
        let mut got = Vec::new();
        let progress = f
            .poll(at_end, &mut |l| {
                got.push(match l {
                    FollowedLine::File { why, .. } => format!("{why:?}"),
                    FollowedLine::Line { line, text } => {
                        format!("{line}:{}", String::from_utf8_lossy(text))
                    }
                    FollowedLine::TooLong { line, size } => format!("{line}:too long {size}"),
                });
            })
            .unwrap();
        (progress, got)
    }

    /// Polls until there is no progress (as the follower's loop does).
    fn drain(f: &mut FileFollower) -> Vec<String> {
        let mut all = Vec::new();
        loop {
            let (progress, got) = poll_progress(f, false);
            all.extend(got);
            if !progress {
                return all;
            }
        }
    }

    #[test]
    fn hands_out_complete_lines_only() {
        let d = dir("lines");
        let p = d.join("queue_log");
        let mut f = FileFollower::open(&p, None).unwrap();
        assert!(poll(&mut f, false).is_empty(), "no file yet");
        append(&p, "1|a|q|NONE|ENTERQUEUE||1|1\r\n\n2|a|q|NO");
        assert_eq!(drain(&mut f), ["Opened", "1:1|a|q|NONE|ENTERQUEUE||1|1"]);
        assert_eq!(f.position().line, 2, "the blank line counts");
        append(&p, "NE|ABANDON|1|1|1\n");
        assert_eq!(drain(&mut f), ["3:2|a|q|NONE|ABANDON|1|1|1"]);
        append(&p, "3|partial");
        assert!(drain(&mut f).is_empty());
        assert_eq!(poll(&mut f, true), ["4:3|partial"], "an import takes it");
    }

    #[test]
    fn follows_a_rotation_reading_the_old_file_to_its_end() {
        let d = dir("rotate");
        let p = d.join("queue_log");
        append(&p, "1|first\n");
        let mut f = FileFollower::open(&p, None)
            .unwrap()
            .with_rotation_grace(Duration::ZERO);
        assert_eq!(drain(&mut f), ["Opened", "1:1|first"]);
        let first = f.position().identity.clone();
        fs::rename(&p, d.join("queue_log.1")).unwrap();
        // Asterisk writes to the old file until it reopens its log.
        append(&d.join("queue_log.1"), "2|late\n");
        assert_eq!(drain(&mut f), ["2:2|late"]);
        append(&p, "3|new\n");
        assert_eq!(drain(&mut f), ["Rotated", "1:3|new"]);
        assert_ne!(f.position().identity, first, "new ids for the new file");
    }

    #[test]
    fn keeps_reading_a_rotated_file_until_asterisk_reopens_its_log() {
        let d = dir("grace");
        let p = d.join("queue_log");
        append(&p, "1|first\n");
        // A grace longer than the test: it never switches by itself.
        let mut f = FileFollower::open(&p, None)
            .unwrap()
            .with_rotation_grace(Duration::from_secs(3600));
        assert_eq!(drain(&mut f), ["Opened", "1:1|first"]);
        fs::rename(&p, d.join("queue_log.1")).unwrap();
        append(&p, "3|new\n");
        assert!(drain(&mut f).is_empty(), "the new file waits");
        // Until `logger reload`, Asterisk still writes to the old file.
        append(&d.join("queue_log.1"), "2|late\n");
        assert_eq!(drain(&mut f), ["2:2|late"]);
        // An import does not wait.
        assert_eq!(poll(&mut f, true), Vec::<String>::new());
        assert_eq!(drain(&mut f), ["Rotated", "1:3|new"]);
    }

    #[test]
    fn finishes_every_copy_rotated_while_stopped_oldest_first() {
        let d = dir("two-rotations");
        let p = d.join("queue_log");
        append(&p, "1|one\n");
        let mut f = FileFollower::open(&p, None).unwrap();
        drain(&mut f);
        let saved = f.position().clone();
        drop(f);
        append(&p, "2|two\n");
        let old = std::time::SystemTime::now() - Duration::from_secs(60);
        fs::rename(&p, d.join("queue_log.2")).unwrap();
        fs::File::options()
            .write(true)
            .open(d.join("queue_log.2"))
            .unwrap()
            .set_modified(old)
            .unwrap();
        append(&d.join("queue_log.1"), "3|three\n");
        append(&p, "4|four\n");
        // Not rotated copies: the checkpoint and a compressed one.
        append(&d.join("queue_log.ckpt"), "{}\n");
        append(&d.join("queue_log.3.gz"), "x\n");
        let mut f = FileFollower::open(&p, Some(saved)).unwrap();
        assert_eq!(
            drain(&mut f),
            [
                "Resumed",
                "2:2|two",
                "Rotated",
                "1:3|three",
                "Rotated",
                "1:4|four"
            ]
        );
    }

    #[test]
    fn starts_over_after_a_truncation() {
        let d = dir("truncate");
        let p = d.join("queue_log");
        append(&p, "1|one\n2|two\n");
        let mut f = FileFollower::open(&p, None).unwrap();
        assert_eq!(drain(&mut f), ["Opened", "1:1|one", "2:2|two"]);
        let first = f.position().identity.clone();
        // copytruncate: the content is copied away and the file emptied.
        fs::File::create(&p).unwrap();
        append(&p, "3|x\n");
        assert_eq!(drain(&mut f), ["Truncated", "1:3|x"]);
        assert_ne!(f.position().identity, first);
    }

    #[test]
    fn resumes_at_the_checkpoint_without_repeating_or_skipping() {
        let d = dir("resume");
        let p = d.join("queue_log");
        append(&p, "1|one\n2|two\n");
        let mut f = FileFollower::open(&p, None).unwrap();
        drain(&mut f);
        let saved = f.position().clone();
        drop(f);
        append(&p, "3|three\n");
        let mut f = FileFollower::open(&p, Some(saved)).unwrap();
        assert_eq!(drain(&mut f), ["Resumed", "3:3|three"]);
    }

    #[test]
    fn finishes_a_file_rotated_while_stopped() {
        let d = dir("rotated-while-stopped");
        let p = d.join("queue_log");
        append(&p, "1|one\n");
        let mut f = FileFollower::open(&p, None).unwrap();
        drain(&mut f);
        let saved = f.position().clone();
        drop(f);
        append(&p, "2|two\n");
        fs::rename(&p, d.join("queue_log-20261125")).unwrap();
        append(&p, "3|three\n");
        let mut f = FileFollower::open(&p, Some(saved)).unwrap();
        assert_eq!(
            drain(&mut f),
            ["Resumed", "2:2|two", "Rotated", "1:3|three"]
        );
    }

    #[test]
    fn a_checkpointed_file_gone_for_good_is_read_from_the_new_start() {
        let d = dir("gone");
        let p = d.join("queue_log");
        let saved = Position {
            identity: Some(file_identity(b"0|gone")),
            offset: 7,
            line: 1,
        };
        append(&p, "1|one\n");
        let mut f = FileFollower::open(&p, Some(saved)).unwrap();
        assert_eq!(drain(&mut f), ["Opened", "1:1|one"]);
    }

    #[test]
    fn skips_an_overlong_line_and_goes_on() {
        let d = dir("long");
        let p = d.join("queue_log");
        let long = "x".repeat(FOLLOW_MAX_LINE * 3);
        append(&p, &format!("1|a\n{long}\n2|b\n"));
        let mut f = FileFollower::open(&p, None).unwrap();
        assert_eq!(
            drain(&mut f),
            [
                "Opened".to_owned(),
                "1:1|a".to_owned(),
                format!("2:too long {}", long.len()),
                "3:2|b".to_owned()
            ]
        );
        assert_eq!(f.position().offset, fs::metadata(&p).unwrap().len());
    }

    #[test]
    fn checkpoints_round_trip_atomically() {
        let d = dir("checkpoint");
        let c = Checkpoint {
            position: Position {
                identity: Some("ql-1".into()),
                offset: 10,
                line: 2,
            },
            translator: TranslatorState::default(),
        };
        let path = d.join("ckpt.json");
        assert_eq!(Checkpoint::load(&path).unwrap(), None);
        c.save(&path).unwrap();
        assert_eq!(Checkpoint::load(&path).unwrap(), Some(c));
        fs::write(&path, "{not json").unwrap();
        let err = Checkpoint::load(&path).unwrap_err().to_string();
        assert!(err.contains("ckpt.json"), "{err}");
    }
}
