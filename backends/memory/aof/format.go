package aof

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
)

// MaxRecordSize is the largest record Append accepts. Redis caps a bulk
// string at 512 MB; a record holding such a value plus its key and framing
// must still fit. Load treats a larger length as corruption, which is what
// keeps a damaged length field from turning into a huge allocation.
const MaxRecordSize = 1 << 30

const (
	// Every file starts with an 8-byte magic and the generation in little
	// endian, so a file renamed by hand or a format change is caught.
	headerSize  = 16
	frameHeader = 8  // uint32 length + uint32 CRC-32C, little endian
	trailerSize = 16 // snapshot: uint64 payload length, uint32 CRC-32C, "SEND"

	logExt  = "log"
	snapExt = "snap"
	tmpExt  = ".tmp"
)

var (
	logMagic     = [8]byte{'S', 'P', 'X', 'L', 'O', 'G', 0, 1}
	snapMagic    = [8]byte{'S', 'P', 'X', 'S', 'N', 'P', 0, 2}
	trailerMagic = [4]byte{'S', 'E', 'N', 'D'}

	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// fileName is "<name>.<gen as 16 hex digits>.<ext>": fixed width so that
// the names sort by generation, and distinct from any other shard's prefix
// because the prefix is followed by a dot.
func fileName(name string, gen uint64, ext string) string {
	return fmt.Sprintf("%s.%016x.%s", name, gen, ext)
}

// parseFileName reports the generation and extension of a file of the log
// called name; ok is false for every other file, temp files included.
func parseFileName(name, file string) (gen uint64, ext string, ok bool) {
	rest, found := strings.CutPrefix(file, name+".")
	if !found || len(rest) < 17 || rest[16] != '.' {
		return 0, "", false
	}
	gen, err := strconv.ParseUint(rest[:16], 16, 64)
	if err != nil {
		return 0, "", false
	}
	switch ext = rest[17:]; ext {
	case logExt, snapExt:
		return gen, ext, true
	}
	return 0, "", false
}

func appendHeader(b []byte, magic [8]byte, gen uint64) []byte {
	b = append(b, magic[:]...)
	return binary.LittleEndian.AppendUint64(b, gen)
}

// checkHeader verifies a file header read from path.
func checkHeader(h []byte, magic [8]byte, gen uint64, path string) error {
	if [8]byte(h[:8]) != magic {
		return fmt.Errorf("aof: %s: bad magic %q: %w", path, h[:8], ErrCorrupt)
	}
	if g := binary.LittleEndian.Uint64(h[8:]); g != gen {
		return fmt.Errorf("aof: %s: header says generation %d, name says %d: %w", path, g, gen, ErrCorrupt)
	}
	return nil
}

// frameCRC covers the length as well as the payload, so that a damaged
// length cannot pass with a payload that happens to match, and a run of
// zeros (what some file systems leave after a crash) is not a valid frame.
func frameCRC(lenField []byte, rec []byte) uint32 {
	return crc32.Update(crc32.Update(0, castagnoli, lenField), castagnoli, rec)
}

// appendFrame appends rec framed; it does not allocate when b has room.
func appendFrame(b []byte, rec []byte) []byte {
	n := len(b)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(rec)))
	b = binary.LittleEndian.AppendUint32(b, frameCRC(b[n:n+4], rec))
	return append(b, rec...)
}

// errTorn and errBadFrame say why a frame could not be read; Load decides
// whether that is a torn tail or corruption from where it happened.
var (
	errTorn     = errors.New("frame cut short")
	errBadFrame = errors.New("bad frame")
)

// frameReader reads the frames of one log file after its header.
type frameReader struct {
	r      *bufio.Reader
	remain int64 // bytes left in the file: bounds every allocation
	buf    []byte
}

// next returns the next record, valid until the following call; io.EOF at
// a clean end of file.
func (fr *frameReader) next() ([]byte, error) {
	if fr.remain == 0 {
		return nil, io.EOF
	}
	if fr.remain < frameHeader {
		return nil, fmt.Errorf("%w: %d bytes left, frame header needs %d", errTorn, fr.remain, frameHeader)
	}
	var h [frameHeader]byte
	if _, err := io.ReadFull(fr.r, h[:]); err != nil {
		return nil, unexpected(err)
	}
	n := int64(binary.LittleEndian.Uint32(h[:4]))
	if n > MaxRecordSize {
		return nil, fmt.Errorf("%w: length %d above the %d limit", errBadFrame, n, MaxRecordSize)
	}
	if n > fr.remain-frameHeader {
		return nil, fmt.Errorf("%w: length %d, %d bytes left", errTorn, n, fr.remain-frameHeader)
	}
	if int64(cap(fr.buf)) < n {
		fr.buf = make([]byte, n)
	}
	rec := fr.buf[:n]
	if _, err := io.ReadFull(fr.r, rec); err != nil {
		return nil, unexpected(err)
	}
	if got, want := frameCRC(h[:4], rec), binary.LittleEndian.Uint32(h[4:]); got != want {
		return nil, fmt.Errorf("%w: CRC %08x, want %08x", errBadFrame, got, want)
	}
	fr.remain -= frameHeader + n
	return rec, nil
}

// unexpected turns an EOF inside a file whose size we checked into an error:
// the file shrank under us, which is not a torn tail we may repair.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
