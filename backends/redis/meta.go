package redis

import (
	"bytes"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Metadata never shows through the proxy: the replies of the commands
// that list or count keys leave it out.

// needsMetaCount reports whether b counts keys (DBSIZE), which then needs
// the number of metadata keys to leave out.
func needsMetaCount(b *backends.Batch) bool {
	for _, op := range b.Ops {
		if op.Reply == nil && op.Cmd.Is(command.Global) && op.Cmd.Merge == command.MergeSum {
			return true
		}
	}
	return false
}

// hideMeta rewrites, in place, the replies of b's key-listing commands
// without metadata keys. It returns false when RANDOMKEY drew a metadata
// key: the batch must run again.
func hideMeta(b *backends.Batch, replies [][]byte, metaCount int64) bool {
	i := 0
	for _, op := range b.Ops {
		if op.Reply != nil {
			continue
		}
		r := replies[i]
		switch {
		case op.Cmd.Merge == command.MergeConcat: // KEYS
			replies[i] = filtered(r, b.W.Proto, false)
		case op.Cmd.Merge == command.MergeScan: // SCAN
			replies[i] = filtered(r, b.W.Proto, true)
		case op.Cmd.Merge == command.MergeRandom: // RANDOMKEY
			if v, _, err := resp.Parse(r); err == nil && bytes.HasPrefix(v.Str, []byte(metaPrefix)) {
				return false
			}
		case op.Cmd.Is(command.Global) && op.Cmd.Merge == command.MergeSum: // DBSIZE
			if v, _, err := resp.Parse(r); err == nil && v.Kind == resp.KindInt {
				w := &resp.Writer{Proto: b.W.Proto}
				w.Int(v.Int - metaCount)
				replies[i] = w.B
			}
		}
		i++
	}
	return true
}

// filtered is a KEYS reply (or a SCAN reply, whose second element is the
// keys) without metadata keys; an error reply is returned as it is.
func filtered(r []byte, proto int, scan bool) []byte {
	v, _, err := resp.Parse(r)
	if err != nil || v.Kind == resp.KindError {
		return r
	}
	keys := v.Elems
	if scan {
		if len(v.Elems) != 2 {
			return r
		}
		keys = v.Elems[1].Elems
	}
	kept := keys[:0:0]
	for _, k := range keys {
		if !bytes.HasPrefix(k.Str, []byte(metaPrefix)) {
			kept = append(kept, k)
		}
	}
	if len(kept) == len(keys) {
		return r
	}
	w := &resp.Writer{Proto: proto}
	if scan {
		w.Array(2)
		w.Bulk(v.Elems[0].Str)
	}
	w.Array(len(kept))
	for _, k := range kept {
		w.Bulk(k.Str)
	}
	return w.B
}

// nullRandomKey answers RANDOMKEY's null in b's replies.
func nullRandomKey(b *backends.Batch, replies [][]byte) {
	i := 0
	for _, op := range b.Ops {
		if op.Reply != nil {
			continue
		}
		if op.Cmd.Merge == command.MergeRandom {
			w := &resp.Writer{Proto: b.W.Proto}
			w.Null()
			replies[i] = w.B
		}
		i++
	}
}
