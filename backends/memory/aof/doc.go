// Package aof is the persistence log of one shard of the embedded store: an
// append-only log of opaque records plus snapshots, in the manner of Redis's
// AOF with appendfsync. It knows nothing about what the records mean.
//
// # Files
//
// A Log named N keeps its files in Options.Dir, which several logs may share:
//
//	N.<gen>.log   log generation gen (16 hex digits, so names sort by gen)
//	N.<gen>.snap  snapshot: the state as of the start of generation gen
//	N.*.tmp       a file being made; never read, removed by Load
//
// Every file starts with a 16-byte header: an 8-byte magic ("SPXLOG" or
// "SPXSNP", then a format version) and gen as a little-endian uint64. A log
// then holds frames: a uint32 length, a uint32 CRC-32C over the length and
// the record, the record. A snapshot holds the caller's bytes, then a
// trailer: uint64 length, uint32 CRC-32C, "SEND".
//
// The state is the newest snapshot (or nothing) followed by the records of
// every log generation from the snapshot's generation (or from 1) up to the
// last, which is the one appended to.
//
// # Writing
//
// Append frames a record into a memory buffer and returns its end position
// in the stream. Wait(pos) returns once the record is written to the file
// with write(2) — it then survives kill -9 of the process, the point where
// Redis replies — and, under Always, fsynced. Waiters commit as a group:
// the first to find no flush in progress writes the whole buffer (and
// fsyncs), the others wait for that round, and appends made meanwhile go
// to a second buffer that forms the next round. Under EverySec a goroutine
// owned by the Log fsyncs once a second; under No nothing but Rotate and
// Close fsyncs. Sync fsyncs whatever the policy. A failed write or fsync
// is sticky: the log never acknowledges anything again.
//
// # Snapshots and crash safety
//
// Rotate writes and fsyncs the current generation, then creates the next
// one (header fsynced under a temp name, renamed, directory fsynced) and
// sends appends there. The caller captures its state under its own lock,
// taken across Rotate, and WriteSnapshot writes it to a temp file, fsyncs,
// renames it over N.<gen>.snap, fsyncs the directory, and only then removes
// the older snapshots and log generations. So, at every step:
//
//   - before the snapshot's rename is durable, the old snapshot and every
//     log generation after it are still there, complete: each finished
//     generation was fsynced before the next one existed;
//   - after it, the new snapshot is complete (fsynced before its rename)
//     and so are the generations from its own on; files older than it are
//     ignored and removed by Load;
//   - temp files are never read.
//
// Load replays what it finds and accepts damage in one place only: the tail
// of the last log file, where a crash mid-write leaves a short frame and a
// power loss may leave unsynced garbage. That tail is cut, with a warning,
// and appends continue after it. Anywhere else damage may hide records that
// were acknowledged, so Load fails with ErrCorrupt instead. A frame's length
// is checked against MaxRecordSize and the bytes left in the file before
// anything is allocated.
//
// The names of the steps above, as the tests' crash points see them:
// "rotate: old log synced", "rotate: new log synced", "rotate: new log
// renamed", "rotate: directory synced", "snapshot: temp synced",
// "snapshot: renamed", "snapshot: directory synced", "snapshot: removed
// obsolete".
package aof
