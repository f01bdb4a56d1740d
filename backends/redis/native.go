package redis

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
	"github.com/schemaproxy/schemaproxy/proto/resp"
)

// Native transactions (backends.Native): each participant runs its own
// commands inside MULTI/EXEC, so its replies are Redis's own and no value
// travels through the proxy. A participant other than the primary is
// locked by Prepare; the primary's commit unit watches its keys, checks
// them, runs its commands and writes the record holding the others'
// stages, all in one EXEC; each other participant's apply unit checks its
// locks are still the transaction's, runs its stage and releases them.
// A resolver that finds the record committed applies a stage the same
// way, from the record.

var _ backends.Native = (*Shard)(nil)

// stagedOp is one command of a stage, in its database.
type stagedOp struct {
	db   int
	args [][]byte
}

// stage is what a participant runs at its commit or apply: its commands
// and the keys they may write (whose versions then move on).
type stage struct {
	ops     []stagedOp
	written []backends.KeyRef
}

// stageOf is ops' stage, leaving out those already answered (Op.Reply,
// refuseReserved's refusals among them).
func stageOf(ops []backends.Op) stage {
	var st stage
	var idx []int
	add := func(ref backends.KeyRef) {
		for _, w := range st.written {
			if w == ref {
				return
			}
		}
		st.written = append(st.written, ref)
	}
	for _, op := range ops {
		if op.Reply != nil {
			continue
		}
		st.ops = append(st.ops, stagedOp{db: op.DB, args: op.Args})
		if !op.Cmd.Is(command.Write) {
			continue
		}
		idx, _ = op.Cmd.KeyIndexes(idx[:0], op.Args)
		other, moves := op.Cmd.OtherDB(op.Args)
		for _, i := range idx {
			add(backends.KeyRef{DB: op.DB, Key: string(op.Args[i])})
			if moves {
				add(backends.KeyRef{DB: other, Key: string(op.Args[i])})
			}
		}
	}
	return st
}

// Stages kept in a primary's record start with a byte saying their kind:
// native (commands) or copies (encodeStaged's DUMP payloads).
const (
	stageNative = 'N'
	stageCopies = 'D'
)

// encodeNative is a participant's native stage as its primary's record
// keeps it: the protocol of its replies, the participant's locks, then
// the stage.
func encodeNative(proto int, locks []backends.KeyRef, st stage) []byte {
	b := []byte{stageNative, byte(proto)}
	putRefs := func(refs []backends.KeyRef) {
		b = binary.AppendUvarint(b, uint64(len(refs)))
		for _, k := range refs {
			b = binary.AppendUvarint(b, uint64(k.DB))
			b = binary.AppendUvarint(b, uint64(len(k.Key)))
			b = append(b, k.Key...)
		}
	}
	putRefs(locks)
	putRefs(st.written)
	b = binary.AppendUvarint(b, uint64(len(st.ops)))
	for _, op := range st.ops {
		b = binary.AppendUvarint(b, uint64(op.db))
		b = binary.AppendUvarint(b, uint64(len(op.args)))
		for _, a := range op.args {
			b = binary.AppendUvarint(b, uint64(len(a)))
			b = append(b, a...)
		}
	}
	return b
}

var errNativeStage = errors.New("backend: malformed native stage")

func decodeNative(b []byte) (proto int, locks []backends.KeyRef, st stage, err error) {
	if len(b) < 2 || b[0] != stageNative || (b[1] != 2 && b[1] != 3) {
		return 0, nil, st, errNativeStage
	}
	proto, b = int(b[1]), b[2:]
	bad := false
	next := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	str := func() []byte {
		n := next()
		if bad || n > uint64(len(b)) {
			bad = true
			return nil
		}
		s := b[:n:n]
		b = b[n:]
		return s
	}
	refs := func() []backends.KeyRef {
		var out []backends.KeyRef
		for i := next(); i > 0 && !bad; i-- {
			db := int(next())
			out = append(out, backends.KeyRef{DB: db, Key: string(str())})
		}
		return out
	}
	locks = refs()
	st.written = refs()
	for i := next(); i > 0 && !bad; i-- {
		op := stagedOp{db: int(next())}
		for j := next(); j > 0 && !bad; j-- {
			op.args = append(op.args, str())
		}
		st.ops = append(st.ops, op)
	}
	if bad || len(b) != 0 {
		return 0, nil, stage{}, errNativeStage
	}
	return proto, locks, st, nil
}

// unit is the commands of a native commit or apply: a prelude (WATCH and a
// check script, in database 0 after it), MULTI, the stage's commands,
// the versioning of what they wrote, a closing script, EXEC.
type unit struct {
	cmds    [][][]byte
	cur     int   // database selected at the end of cmds
	checkAt int   // index of the check script's reply
	queued  int   // replies inside EXEC are counted from here
	opAt    []int // each staged command's reply in EXEC's
}

func (u *unit) in(db int) {
	if db != u.cur {
		u.cmds, u.cur = append(u.cmds, selectCmd(db)), db
	}
}

// watch WATCHes keys, each in its database, then extra in database 0.
func (u *unit) watch(keys []backends.KeyRef, extra ...string) {
	for _, db := range dbsOf(keys, nil) {
		u.in(db)
		w := [][]byte{[]byte("WATCH")}
		for _, k := range keys {
			if k.DB == db {
				w = append(w, []byte(k.Key))
			}
		}
		u.cmds = append(u.cmds, w)
	}
	u.in(0)
	w := [][]byte{[]byte("WATCH")}
	for _, k := range extra {
		w = append(w, []byte(k))
	}
	u.cmds = append(u.cmds, w)
}

// body adds the check (run in database 0), MULTI, the stage, its
// versioning and the closing script, then EXEC.
func (u *unit) body(check [][]byte, st stage, closing [][]byte) {
	u.in(0)
	u.checkAt = len(u.cmds)
	u.cmds = append(u.cmds, check, [][]byte{[]byte("MULTI")})
	u.queued = len(u.cmds)
	for _, op := range st.ops {
		u.in(op.db)
		u.opAt = append(u.opAt, len(u.cmds)-u.queued)
		u.cmds = append(u.cmds, op.args)
	}
	for _, db := range dbsOf(st.written, nil) {
		var keys []string
		for _, k := range st.written {
			if k.DB == db {
				keys = append(keys, k.Key)
			}
		}
		u.in(db)
		u.cmds = append(u.cmds, evalArgs(scriptBump, keys))
	}
	u.in(0)
	u.cmds = append(u.cmds, closing, [][]byte{[]byte("EXEC")})
}

// run sends u on the shard's connection of proto. It returns the check
// script's reply and, when EXEC ran, the staged commands' replies (nil
// replies: EXEC ran nothing). An EXEC refused whole (EXECABORT: a command
// refused while queued, OOM among them) is not executed.
func (s *Shard) runUnit(ctx context.Context, proto int, u *unit) (check resp.Value, replies [][]byte, err error) {
	var raw [][]byte
	err = s.with(ctx, proto, 0, func(c *conn) error {
		var err error
		raw, err = c.do(ctx, u.cmds...)
		return err
	})
	if err != nil {
		return check, nil, err
	}
	check, err = parseValue(raw[u.checkAt])
	if err != nil || check.Kind == resp.KindError {
		return check, nil, fmt.Errorf("backend %s: check: %q", s.addr, raw[u.checkAt])
	}
	exec := raw[len(raw)-1]
	if isNull(exec) {
		return check, nil, nil
	}
	if exec[0] == '-' {
		return check, nil, fmt.Errorf("%w: backend %s: EXEC: %s", backends.ErrNotExecuted, s.addr, bytes.TrimSpace(exec))
	}
	parts, err := splitArray(exec)
	if err != nil {
		return check, nil, err
	}
	if want := len(u.cmds) - u.queued - 1; len(parts) != want {
		return check, nil, fmt.Errorf("backend %s: EXEC answered %d replies for %d commands", s.addr, len(parts), want)
	}
	replies = make([][]byte, len(u.opAt))
	for i, at := range u.opAt {
		replies[i] = parts[at]
	}
	return check, replies, nil
}

// checkWord is the first word of a check script's reply.
func checkWord(v resp.Value) string {
	if len(v.Elems) > 0 {
		return string(v.Elems[0].Str)
	}
	return string(v.Str)
}

// Prepare implements backends.Native.
func (s *Shard) Prepare(ctx context.Context, tx backends.TxMeta, keys []backends.KeyRef, guards []backends.Guard) (int64, error) {
	var earliest int64
	err := s.lockEach(ctx, tx, keys, guards, scriptPrepare, func(i, j int, v resp.Value) error {
		at, _ := strconv.ParseInt(string(v.Elems[1+j].Str), 10, 64)
		if at > 0 && (earliest == 0 || at < earliest) {
			earliest = at
		}
		return nil
	})
	return earliest, err
}

// CommitNative implements backends.Native.
func (s *Shard) CommitNative(ctx context.Context, tx backends.TxMeta, keys []backends.KeyRef, guards []backends.Guard,
	ops []backends.Op, stages map[int][]backends.Op, w *resp.Writer) error {
	if s.staleGuard(guards) {
		return backends.ErrGuard
	}
	b := &backends.Batch{Ops: ops, W: w}
	refuseReserved(b)
	st := stageOf(ops)
	mine := s.lockedKeys(tx.ID)
	own := owner(tx)

	watched := make([]backends.KeyRef, 0, len(keys)+len(guards)+1)
	check := []string{own, strconv.FormatInt(tx.Deadline, 10), txID(tx.ID), b01(len(mine.keys) > 0), strconv.Itoa(len(keys))}
	for _, k := range keys {
		watched = append(watched, backends.KeyRef{DB: k.DB, Key: lockKey(k.Key)})
		check = append(check, strconv.Itoa(k.DB), k.Key)
	}
	for _, db := range dbsOf(keys, nil) {
		watched = append(watched, backends.KeyRef{DB: db, Key: fenceKey})
	}
	check = append(check, strconv.Itoa(len(guards)))
	for _, g := range guards {
		watched = append(watched, backends.KeyRef{DB: g.DB, Key: g.Key})
		check = append(check, strconv.Itoa(g.DB), g.Key, strconv.FormatUint(g.Version, 10), b01(g.Live))
	}
	var fields []string // the record: the other participants' stages
	if writes(ops) || anyWrites(stages) {
		for _, p := range tx.Participants {
			if p != s.index {
				// What the participant will refuse must not run from
				// the record either.
				refuseReserved(&backends.Batch{Ops: stages[p]})
				fields = append(fields, "p"+strconv.Itoa(p), string(encodeNative(w.Proto, s.siblings[p].lockedKeys(tx.ID).keys, stageOf(stages[p]))))
			}
		}
	}
	if cmd, modes, ok := commitRunCmd(check, st, mine.keys, fields, b.Ops); ok {
		return s.commitRun(ctx, tx, cmd, modes, b)
	}
	closing := append(append([]string{own, txID(tx.ID)}, lockArgs(mine.keys)...), fields...)
	u := &unit{}
	u.watch(watched, abortKey, "__sp:aborted")
	u.body(evalArgs(scriptCommitCheck, nil, check...), st, evalArgs(scriptCommitRecord, nil, closing...))
	v, replies, err := s.runUnit(ctx, w.Proto, u)
	if err != nil {
		if errors.Is(err, backends.ErrNotExecuted) {
			return err
		}
		// Unknown outcome: the locks stay for a resolver; this proxy
		// will not release them, so it need not remember them.
		s.forget(tx.ID)
		return fmt.Errorf("backend %s: commit: %w", s.addr, err)
	}
	if replies == nil {
		switch checkWord(v) {
		case "G":
			return backends.ErrGuard
		case "L":
			return fmt.Errorf("%w: %w", backends.ErrNotExecuted, backends.ErrLockBusy)
		case "D", "A":
			return fmt.Errorf("%w: transaction %d is past its deadline or aborted", backends.ErrNotExecuted, tx.ID)
		}
		// A watched key changed between the check and EXEC.
		return fmt.Errorf("%w: a key changed under the commit of transaction %d", backends.ErrNotExecuted, tx.ID)
	}
	s.forget(tx.ID)
	writeReplies(b, replies)
	return nil
}

func writes(ops []backends.Op) bool {
	for _, op := range ops {
		if op.Reply == nil && op.Cmd.Is(command.Write) {
			return true
		}
	}
	return false
}

func anyWrites(stages map[int][]backends.Op) bool {
	for _, ops := range stages {
		if writes(ops) {
			return true
		}
	}
	return false
}

// ApplyNative implements backends.Native.
func (s *Shard) ApplyNative(ctx context.Context, tx backends.TxMeta, ops []backends.Op, w *resp.Writer) error {
	mine := s.lockedKeys(tx.ID)
	// Applied or not, the locks are this proxy's to release no more: a
	// failed apply is an unknown outcome, left to a resolver.
	s.forget(tx.ID)
	b := &backends.Batch{Ops: ops, W: w}
	refuseReserved(b)
	st := stageOf(ops)
	var replies [][]byte
	var applied bool
	var err error
	if cmd, modes, ok := applyRunCmd(owner(tx), mine.keys, st, b.Ops); ok {
		replies, applied, err = s.applyRun(ctx, w.Proto, cmd, modes)
	} else {
		replies, applied, err = s.applyNative(ctx, w.Proto, owner(tx), mine.keys, st)
	}
	if err != nil {
		return err
	}
	if !applied {
		// A resolver applied the stage: it stashes the replies on the
		// primary (and forgets the stage) once its EXEC returns.
		if replies, err = s.siblings[tx.Primary].unstash(ctx, tx.ID, s.index); err != nil {
			return err
		}
		writeReplies(b, replies)
		return nil
	}
	writeReplies(b, replies)
	return nil
}

// stashWait bounds how long a coordinator waits for the replies of a
// stage a resolver applied: the resolver stashes them right after.
const stashWait = time.Second

// unstash takes back, on this primary, the replies a resolver stashed for
// participant's stage of tx.
func (s *Shard) unstash(ctx context.Context, tx backends.TxID, participant int) ([][]byte, error) {
	field := txID(tx) + ":p" + strconv.Itoa(participant)
	giveUp := time.Now().Add(stashWait)
	for {
		var r []byte
		err := s.with(ctx, 2, 0, func(c *conn) error {
			rs, err := c.do(ctx, evalArgs(scriptUnstash, nil, field, txID(tx)))
			if err == nil {
				r = rs[0]
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("backend %s: unstash: %w", s.addr, err)
		}
		if !isNull(r) {
			v, err := parseValue(r)
			if err != nil || v.Kind == resp.KindError {
				return nil, fmt.Errorf("backend %s: unstash: %q", s.addr, r)
			}
			if v.Kind == resp.KindArray {
				return nil, fmt.Errorf("%w: transaction %d wrote nothing and was dropped past its deadline", backends.ErrNotExecuted, tx)
			}
			var replies [][]byte
			for b := v.Str; len(b) > 0; {
				n, err := resp.Skip(b)
				if err != nil {
					return nil, fmt.Errorf("backend %s: stashed replies: %w", s.addr, err)
				}
				replies = append(replies, b[:n])
				b = b[n:]
			}
			return replies, nil
		}
		if time.Now().After(giveUp) {
			return nil, backends.ErrRepliesLost
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// applyNative runs st if locks are still own's, releasing them; applied
// is false when they are not (someone applied it already).
func (s *Shard) applyNative(ctx context.Context, proto int, own string, locks []backends.KeyRef, st stage) (replies [][]byte, applied bool, err error) {
	pairs := []string{own}
	watched := make([]backends.KeyRef, 0, len(locks))
	for _, k := range locks {
		pairs = append(pairs, strconv.Itoa(k.DB), k.Key)
		watched = append(watched, backends.KeyRef{DB: k.DB, Key: lockKey(k.Key)})
	}
	for {
		u := &unit{}
		u.watch(watched, abortKey)
		u.body(evalArgs(scriptOwned, nil, pairs...), st, evalArgs(scriptUnlock, nil, pairs...))
		v, replies, err := s.runUnit(ctx, proto, u)
		if err != nil {
			return nil, false, fmt.Errorf("backend %s: apply: %w", s.addr, err)
		}
		if replies != nil {
			return replies, true, nil
		}
		if checkWord(v) == "X" {
			return nil, false, nil
		}
		// Another unit's failed check wrote the abort key we watch: again.
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
	}
}

// resolveNative applies a committed transaction's native stage found in
// its primary's record, stashes its replies there for the transaction's
// coordinator and forgets the stage.
func (s *Shard) resolveNative(ctx context.Context, tx backends.TxID, primary int, own string, staged []byte) error {
	proto, locks, st, err := decodeNative(staged)
	if err != nil {
		return fmt.Errorf("backend %s: %w", s.addr, err)
	}
	replies, applied, err := s.applyNative(ctx, proto, own, locks, st)
	if err != nil {
		return err
	}
	p := s.siblings[primary]
	if applied {
		field := txID(tx) + ":p" + strconv.Itoa(s.index)
		err := p.with(ctx, 2, 0, func(c *conn) error {
			_, err := c.do(ctx, evalArgs(scriptStash, nil, field, string(bytes.Join(replies, nil))))
			return err
		})
		if err != nil {
			return fmt.Errorf("backend %s: stash: %w", p.addr, err)
		}
	}
	return p.forgetStaged(ctx, tx, s.index)
}

// Forget implements backends.Native, on the primary.
func (s *Shard) Forget(tx backends.TxMeta, participants []int) {
	args := []string{txID(tx.ID)}
	for _, p := range participants {
		args = append(args, "p"+strconv.Itoa(p))
	}
	c := &conn{m: s.mux(2)}
	c.post(evalArgs(scriptForget, nil, args...))
}

// isStageNative says which kind a stage in a primary's record is.
func isStageNative(staged []byte) bool { return len(staged) > 0 && staged[0] == stageNative }

// The one-script forms of a native commit and apply (scriptCommitRun,
// scriptApplyRun), for stages whose every reply Lua carries back: one
// script call where the MULTI unit takes eight commands.

// runOpsArgs appends ops as luaRunOps reads them, or returns false when
// a reply would not survive Lua (or the arguments would not fit its
// stack).
func runOpsArgs(dst [][]byte, ops []backends.Op) ([][]byte, []runMode, bool) {
	var modes []runMode
	n := len(dst)
	for _, op := range ops {
		if op.Reply != nil {
			continue
		}
		m, ok := opRunMode(op)
		if !ok {
			return nil, nil, false
		}
		if n += len(op.Args) + 3; n > maxRunArgs {
			return nil, nil, false
		}
		modes = append(modes, m)
		dst = append(dst, strconv.AppendInt(nil, int64(op.DB), 10), runModeArg[m], strconv.AppendInt(nil, int64(len(op.Args)), 10))
		dst = append(dst, op.Args...)
	}
	return dst, modes, true
}

// refArgs appends the count and (db, key) pairs of refs.
func refArgs(dst [][]byte, refs []backends.KeyRef) [][]byte {
	dst = append(dst, strconv.AppendInt(nil, int64(len(refs)), 10))
	for _, k := range refs {
		dst = append(dst, strconv.AppendInt(nil, int64(k.DB), 10), []byte(k.Key))
	}
	return dst
}

func strArgs(dst [][]byte, ss []string) [][]byte {
	for _, s := range ss {
		dst = append(dst, []byte(s))
	}
	return dst
}

// commitRunCmd is scriptCommitRun's call: check holds scriptCommitCheck's
// arguments (owner, deadline, id, held, keys, guards).
func commitRunCmd(check []string, st stage, release []backends.KeyRef, fields []string, ops []backends.Op) ([][]byte, []runMode, bool) {
	cmd := [][]byte{evalSHA, []byte(scriptSHA(scriptCommitRun)), []byte("0")}
	cmd = strArgs(cmd, check)
	cmd = refArgs(cmd, st.written)
	cmd = refArgs(cmd, release)
	cmd = append(cmd, strconv.AppendInt(nil, int64(len(fields)/2), 10))
	cmd = strArgs(cmd, fields)
	return runOpsArgs(cmd, ops)
}

// applyRunCmd is scriptApplyRun's call.
func applyRunCmd(own string, locks []backends.KeyRef, st stage, ops []backends.Op) ([][]byte, []runMode, bool) {
	cmd := [][]byte{evalSHA, []byte(scriptSHA(scriptApplyRun)), []byte("0"), []byte(own)}
	cmd = refArgs(cmd, locks)
	cmd = refArgs(cmd, st.written)
	return runOpsArgs(cmd, ops)
}

// callRun sends a one-script commit or apply and splits its answer: the
// first word, and the replies after an 'R' (integers past 2^53, read
// back as strings, made integers again).
func (s *Shard) callRun(ctx context.Context, proto int, cmd [][]byte, modes []runMode) (word string, rest [][]byte, err error) {
	var r []byte
	err = s.with(ctx, proto, 0, func(c *conn) error {
		rs, err := c.do(ctx, cmd)
		if err == nil {
			r = rs[0]
		}
		return err
	})
	if err != nil {
		return "", nil, err
	}
	if r[0] == '-' {
		return "", nil, fmt.Errorf("backend %s: %s", s.addr, bytes.TrimSpace(r))
	}
	parts, err := splitArray(r)
	if err != nil || len(parts) == 0 {
		return "", nil, fmt.Errorf("backend %s: %q", s.addr, r)
	}
	first, err := parseValue(parts[0])
	if err != nil {
		return "", nil, err
	}
	word, rest = string(first.Str), parts[1:]
	if word != "R" {
		return word, rest, nil
	}
	if len(rest) != len(modes) {
		return "", nil, fmt.Errorf("backend %s: %d replies for %d commands", s.addr, len(rest), len(modes))
	}
	for i, m := range modes {
		if (m == runInt || m == runHashInt) && rest[i][0] == '$' {
			v, err := parseValue(rest[i])
			if err != nil {
				return "", nil, err
			}
			rest[i] = append(append([]byte{':'}, v.Str...), '\r', '\n')
		}
	}
	return word, rest, nil
}

func (s *Shard) commitRun(ctx context.Context, tx backends.TxMeta, cmd [][]byte, modes []runMode, b *backends.Batch) error {
	word, rest, err := s.callRun(ctx, b.W.Proto, cmd, modes)
	if err != nil {
		// Unknown outcome (a script that failed may have written part):
		// the locks stay for a resolver.
		s.forget(tx.ID)
		return fmt.Errorf("backend %s: commit: %w", s.addr, err)
	}
	switch word {
	case "R":
		s.forget(tx.ID)
		writeReplies(b, rest)
		return nil
	case "G":
		return backends.ErrGuard
	case "L":
		return fmt.Errorf("%w: %w", backends.ErrNotExecuted, backends.ErrLockBusy)
	case "D", "A":
		return fmt.Errorf("%w: transaction %d is past its deadline or aborted", backends.ErrNotExecuted, tx.ID)
	}
	s.forget(tx.ID)
	return fmt.Errorf("backend %s: commit answered %q", s.addr, word)
}

func (s *Shard) applyRun(ctx context.Context, proto int, cmd [][]byte, modes []runMode) (replies [][]byte, applied bool, err error) {
	word, rest, err := s.callRun(ctx, proto, cmd, modes)
	switch {
	case err != nil:
		return nil, false, fmt.Errorf("backend %s: apply: %w", s.addr, err)
	case word == "R":
		return rest, true, nil
	case word == "X":
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("backend %s: apply answered %q", s.addr, word)
}

var _ backends.GuardedReader = (*Shard)(nil)

// ReadGuarded implements backends.GuardedReader: one script, resolving
// the locks it meets.
func (s *Shard) ReadGuarded(ctx context.Context, db int, key []byte) (backends.Guard, []byte, int64, error) {
	g := backends.Guard{DB: db, Key: string(key)}
	if bytes.HasPrefix(key, []byte(metaPrefix)) {
		return g, nil, 0, errors.New(strings.TrimSpace(errReserved[1:]))
	}
	for {
		g.Epoch = s.Epoch()
		var v resp.Value
		err := s.with(ctx, 2, db, func(c *conn) error {
			r, err := c.do(ctx, evalArgs(scriptReadGuarded, []string{string(key), lockKey(string(key))}))
			if err == nil {
				v, err = parseValue(r[0])
			}
			return err
		})
		if err != nil {
			return g, nil, 0, err
		}
		if v.Kind == resp.KindError || len(v.Elems) < 2 {
			return g, nil, 0, fmt.Errorf("backend %s: guarded read: %v", s.addr, v)
		}
		if string(v.Elems[0].Str) == "L" {
			if err := s.resolve(ctx, db, string(v.Elems[1].Str)); err != nil {
				return g, nil, 0, err
			}
			continue
		}
		if s.Epoch() != g.Epoch {
			continue // the server restarted around the read
		}
		g.Version, _ = strconv.ParseUint(string(v.Elems[1].Str), 10, 64)
		if v.Elems[0].Int == 0 {
			return g, nil, 0, nil
		}
		if len(v.Elems) != 4 {
			return g, nil, 0, fmt.Errorf("backend %s: guarded read: %v", s.addr, v)
		}
		g.Live = true
		at, _ := strconv.ParseInt(string(v.Elems[3].Str), 10, 64)
		return g, v.Elems[2].Str, max(at, 0), nil
	}
}
