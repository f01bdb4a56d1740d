package memory

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/keyspace"
)

// Log record kinds. Every shard appends to the one log of the store, so
// the log's order is the order in which records ran, a serial order of
// every transaction, and any prefix of it (what a crash leaves) is a state
// some serial execution reached.
//
//   - An ops record is one atomic batch of commands on one shard, replayed
//     at the time it ran. Keys that expired while it ran come first, as
//     DEL commands, as Redis propagates expired keys.
//   - A tx record is a cross-shard transaction: the key states it installs
//     on each participant (Writes) and the commands it runs natively on
//     each (Ops, at time Now).
//   - A group record holds several records that must survive a crash
//     together: everything a request over the whole store logged.
//   - A meta record says how many shards and databases wrote the log, so a
//     restart with another --shards is refused rather than misplacing keys.
const (
	recOps   byte = 1
	recTx    byte = 2
	recGroup byte = 3
	recMeta  byte = 4
)

var errBadRecord = errors.New("memory: malformed log record")

func beginOps(b []byte, shard int, now int64) []byte {
	b = append(b, recOps)
	b = binary.AppendUvarint(b, uint64(shard))
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

func appendMeta(b []byte, shards, databases int) []byte {
	b = append(b, recMeta)
	b = binary.AppendUvarint(b, uint64(shards))
	return binary.AppendUvarint(b, uint64(databases))
}

// appendGroupPart adds one record to a group record being built in b
// (which starts with recGroup).
func appendGroupPart(b []byte, rec []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(rec)))
	return append(b, rec...)
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

func appendTx(b []byte, rec *backends.TxRecord) []byte {
	b = append(b, recTx)
	b = binary.AppendUvarint(b, uint64(rec.ID))
	b = binary.AppendVarint(b, rec.Now)
	b = binary.AppendUvarint(b, uint64(len(rec.Writes)))
	for shard, states := range rec.Writes {
		b = binary.AppendUvarint(b, uint64(shard))
		b = appendStates(b, states)
	}
	b = binary.AppendUvarint(b, uint64(len(rec.Ops)))
	for shard, ops := range rec.Ops {
		b = binary.AppendUvarint(b, uint64(shard))
		b = binary.AppendUvarint(b, uint64(len(ops)))
		for _, op := range ops {
			b = appendOp(b, op.DB, op.Args)
		}
	}
	return b
}

// logRecord is one decoded log record.
type logRecord struct {
	kind  byte
	shard int           // ops
	now   int64         // ops
	ops   []backends.Op // ops: arguments only, commands resolved at replay
	tx    *backends.TxRecord
	parts [][]byte // group: the raw records inside
	meta  [2]int   // meta: shards, databases
}

func decodeLogRecord(rec []byte) (*logRecord, error) {
	if len(rec) == 0 {
		return nil, errBadRecord
	}
	d := &decoder{b: rec[1:]}
	r := &logRecord{kind: rec[0]}
	switch r.kind {
	case recOps:
		r.shard = int(d.uvarint())
		r.now = d.varint()
		for len(d.b) > 0 && d.err == nil {
			db, args := d.op()
			r.ops = append(r.ops, backends.Op{DB: db, Args: args})
		}
	case recTx:
		r.tx = decodeTx(d)
	case recGroup:
		for len(d.b) > 0 && d.err == nil {
			r.parts = append(r.parts, d.bytes(d.uvarint()))
		}
	case recMeta:
		r.meta = [2]int{int(d.uvarint()), int(d.uvarint())}
	default:
		return nil, fmt.Errorf("%w: kind %d", errBadRecord, rec[0])
	}
	return r, d.err
}

// decodeTx reads what appendTx wrote (after the kind byte). Ops carry
// their arguments only; the caller resolves the commands.
func decodeTx(d *decoder) *backends.TxRecord {
	rec := &backends.TxRecord{ID: backends.TxID(d.uvarint()), Now: d.varint(), Writes: map[int][]backends.KeyState{}}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errBadRecord
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		shard := int(d.uvarint())
		rec.Writes[shard] = d.states()
	}
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
