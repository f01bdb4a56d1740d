package memory

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/keyspace"
)

// Log record kinds. An ops record is one atomic batch of commands, replayed
// with the time it ran at. A commit record carries the resulting key states
// of a cross-shard transaction on every participant: each participant logs
// the whole record, so whichever copies survive a crash, recovery installs
// the transaction everywhere (a copy exists only once the primary decided
// to commit). No fsync is needed between the primary and the others.
const (
	recOps    byte = 1
	recCommit byte = 2
)

var errBadRecord = errors.New("memory: malformed log record")

func beginOps(b []byte, now int64) []byte {
	b = append(b, recOps)
	return binary.AppendVarint(b, now)
}

func appendOp(b []byte, db int, args [][]byte) []byte {
	b = binary.AppendUvarint(b, uint64(db))
	b = binary.AppendUvarint(b, uint64(len(args)))
	for _, a := range args {
		b = binary.AppendUvarint(b, uint64(len(a)))
		b = append(b, a...)
	}
	return b
}

func appendStates(b []byte, states []backends.KeyState) []byte {
	b = binary.AppendUvarint(b, uint64(len(states)))
	for _, st := range states {
		b = binary.AppendUvarint(b, uint64(st.DB))
		b = binary.AppendUvarint(b, uint64(len(st.Key)))
		b = append(b, st.Key...)
		if st.Entry == nil {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendVarint(b, st.Entry.ExpireAt)
		start := len(b)
		b = append(b, 0, 0, 0, 0) // length of the value, filled below
		b = keyspace.EncodeValue(b, st.Entry)
		binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	}
	return b
}

func appendCommit(b []byte, rec *backends.TxRecord) []byte {
	b = append(b, recCommit)
	b = binary.AppendUvarint(b, uint64(rec.ID))
	b = binary.AppendUvarint(b, rec.Seq)
	b = binary.AppendUvarint(b, uint64(len(rec.Writes)))
	for shard, states := range rec.Writes {
		b = binary.AppendUvarint(b, uint64(shard))
		b = appendStates(b, states)
	}
	b = binary.AppendVarint(b, rec.Now)
	b = binary.AppendUvarint(b, uint64(len(rec.Ops)))
	for shard, ops := range rec.Ops {
		b = binary.AppendUvarint(b, uint64(shard))
		b = binary.AppendUvarint(b, uint64(len(ops)))
		for _, op := range ops {
			b = appendOp(b, op.DB, op.Args)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(rec.Prev)))
	for shard, prev := range rec.Prev {
		b = binary.AppendUvarint(b, uint64(shard))
		b = binary.AppendUvarint(b, prev)
	}
	return b
}

// encodedRecord returns the record's encoding, computed once for all the
// participants that log it.
func encodedRecord(rec *backends.TxRecord) []byte {
	if rec.Encoded == nil {
		rec.Encoded = appendCommit(nil, rec)
	}
	return rec.Encoded
}

// decodeCommit reads what appendCommit wrote (after the kind byte). Ops
// carry their arguments only; the caller resolves the commands.
func decodeCommit(d *decoder) *backends.TxRecord {
	rec := &backends.TxRecord{ID: backends.TxID(d.uvarint()), Seq: d.uvarint(), Writes: map[int][]backends.KeyState{}}
	n := d.uvarint()
	for i := uint64(0); i < n && d.err == nil; i++ {
		shard := int(d.uvarint())
		rec.Writes[shard] = d.states()
	}
	rec.Now = d.varint()
	n = d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errBadRecord
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		shard := int(d.uvarint())
		nops := d.uvarint()
		if nops > uint64(len(d.b)) {
			d.err = errBadRecord
			break
		}
		if rec.Ops == nil {
			rec.Ops = map[int][]backends.Op{}
		}
		for j := uint64(0); j < nops && d.err == nil; j++ {
			db, args := d.op()
			rec.Ops[shard] = append(rec.Ops[shard], backends.Op{DB: db, Args: args})
		}
	}
	n = d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errBadRecord
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		if rec.Prev == nil {
			rec.Prev = map[int]uint64{}
		}
		shard := int(d.uvarint())
		rec.Prev[shard] = d.uvarint()
	}
	return rec
}

// op reads what appendOp wrote, copying the arguments.
func (d *decoder) op() (int, [][]byte) {
	db := int(d.uvarint())
	argc := d.uvarint()
	if argc == 0 || argc > uint64(len(d.b))+1 {
		d.err = errBadRecord
		return 0, nil
	}
	args := make([][]byte, argc)
	for i := range args {
		args[i] = append([]byte(nil), d.bytes(d.uvarint())...)
	}
	return db, args
}

// decoder reads the fields of one record.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errBadRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errBadRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errBadRecord
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) states() []backends.KeyState {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errBadRecord
		return nil
	}
	out := make([]backends.KeyState, 0, n)
	for i := uint64(0); i < n && d.err == nil; i++ {
		var st backends.KeyState
		st.DB = int(d.uvarint())
		st.Key = string(d.bytes(d.uvarint()))
		flag := d.bytes(1)
		if d.err != nil {
			break
		}
		if flag[0] == 1 {
			expire := d.varint()
			lenb := d.bytes(4)
			if d.err != nil {
				break
			}
			val := d.bytes(uint64(binary.LittleEndian.Uint32(lenb)))
			if d.err != nil {
				break
			}
			e, err := keyspace.DecodeValue(val)
			if err != nil {
				d.err = fmt.Errorf("%w: %w", errBadRecord, err)
				break
			}
			e.ExpireAt = expire
			st.Entry = e
		}
		out = append(out, st)
	}
	return out
}
