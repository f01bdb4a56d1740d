package keyspace

import "math"

// The stream commands, with Redis 7.0.15's parsing order, errors and
// replies. Times (delivery, seen) are the command's Ctx.Now, so a logged
// XREADGROUP or XCLAIM replays to the same state.
//
// BLOCK: the store never blocks. XREAD and XREADGROUP answer at once when
// entries are ready and with a null array otherwise, as Redis does where a
// client may not block (MULTI, scripts); the proxy blocks and runs the
// command again when a stream it waits on is written (proxy/blocking.go).
var streamCommands = map[string]Handler{
	"xadd":       xaddCmd,
	"xrange":     func(c *Ctx) { xrangeGeneric(c, false) },
	"xrevrange":  func(c *Ctx) { xrangeGeneric(c, true) },
	"xlen":       xlenCmd,
	"xdel":       xdelCmd,
	"xtrim":      xtrimCmd,
	"xread":      xreadCmd,
	"xreadgroup": xreadCmd,
	"xgroup":     xgroupCmd,
	"xsetid":     xsetidCmd,
	"xack":       xackCmd,
	"xpending":   xpendingCmd,
	"xclaim":     xclaimCmd,
	"xautoclaim": xautoclaimCmd,
	"xinfo":      xinfoCmd,
}

// string2ull is Redis's: string2ll for what it takes (not negative),
// else strtoull's: leading space, a sign ('-' negates), digits, nothing
// after them, no overflow.
func string2ull(b []byte) (uint64, bool) {
	if v, ok := ParseInt(b); ok {
		return uint64(v), v >= 0
	}
	if len(b) == 0 {
		return 0, false
	}
	i := 0
	for i < len(b) && cIsSpace(b[i]) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		ch := b[i]
		if !isDigit(ch) {
			return 0, false
		}
		d := uint64(ch - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseStreamID is streamGenericParseIDOrReply: "-" and "+" unless
// strict, ms[-seq] (seq missingSeq when absent), and with autoSeq the
// ms-* form (seqGiven false). It writes the error itself unless quiet.
func (c *Ctx) parseStreamID(arg []byte, missingSeq uint64, strict, autoSeq, quiet bool) (id streamID, seqGiven, ok bool) {
	fail := func() (streamID, bool, bool) {
		if !quiet {
			c.W.Error(ErrStreamID)
		}
		return streamID{}, false, false
	}
	if len(arg) > 127 {
		return fail()
	}
	b := cstr(arg)
	if strict && len(b) == 1 && (b[0] == '-' || b[0] == '+') {
		return fail()
	}
	switch string(b) {
	case "-":
		return streamID{}, true, true
	case "+":
		return maxStreamID, true, true
	}
	msPart, seqPart, dot := b, []byte(nil), false
	for i, ch := range b {
		if ch == '-' {
			msPart, seqPart, dot = b[:i], b[i+1:], true
			break
		}
	}
	ms, ok := string2ull(msPart)
	if !ok {
		return fail()
	}
	seq, seqGiven := missingSeq, true
	if dot {
		if autoSeq && len(seqPart) == 1 && seqPart[0] == '*' {
			seq, seqGiven = 0, false
		} else if seq, ok = string2ull(seqPart); !ok {
			return fail()
		}
	}
	return streamID{ms, seq}, seqGiven, true
}

// parseIntervalID is streamParseIntervalIDOrReply with the exclusive
// "(" form, which XRANGE, XPENDING and XAUTOCLAIM turn into the next (or
// previous) ID.
func (c *Ctx) parseIntervalID(arg []byte, missingSeq uint64) (id streamID, exclude, ok bool) {
	if len(arg) > 1 && arg[0] == '(' {
		id, _, ok = c.parseStreamID(arg[1:], missingSeq, true, false, false)
		return id, true, ok
	}
	id, _, ok = c.parseStreamID(arg, missingSeq, false, false, false)
	return id, false, ok
}

func (c *Ctx) parseRangeStart(arg []byte) (streamID, bool) {
	id, ex, ok := c.parseIntervalID(arg, 0)
	if ok && ex {
		if id, ok = id.incr(); !ok {
			c.W.Error(ErrStreamStartID)
		}
	}
	return id, ok
}

func (c *Ctx) parseRangeEnd(arg []byte) (streamID, bool) {
	id, ex, ok := c.parseIntervalID(arg, math.MaxUint64)
	if ok && ex {
		if id, ok = id.decr(); !ok {
			c.W.Error(ErrStreamEndID)
		}
	}
	return id, ok
}

// lookupStream returns the stream at key; wrong is set (and the error
// written) when key holds another type.
func (c *Ctx) lookupStream(key []byte) (e *Entry, s *Stream, wrong bool) {
	e, wrong = c.lookup(key, KindStream)
	if e == nil {
		return nil, nil, wrong
	}
	return e, e.Coll.(*Stream), false
}

func (c *Ctx) writeStreamID(id streamID) {
	var buf [48]byte
	c.W.Bulk(id.appendTo(buf[:0]))
}

// writeEntry writes one entry: [id, [field, value, ...]].
func (c *Ctx) writeEntry(n *streamNode, e *streamEntry) {
	c.W.Array(2)
	c.writeStreamID(e.id)
	c.W.Array(int(2 * e.pairs))
	n.eachPair(e, func(f, v []byte) {
		c.W.Bulk(f)
		c.W.Bulk(v)
	})
}

// writeEntryByID writes the live entry id and reports whether it exists.
func (c *Ctx) writeEntryByID(s *Stream, id streamID) bool {
	n, e := s.find(id)
	if e == nil {
		return false
	}
	c.writeEntry(n, e)
	return true
}

type entryRef struct {
	n *streamNode
	e *streamEntry
}

// collectRange gathers up to count (0: all) live entries from start to
// end, descending when rev.
func (s *Stream) collectRange(start, end streamID, count int64, rev bool) []entryRef {
	var out []entryRef
	fn := func(n *streamNode, e *streamEntry) bool {
		out = append(out, entryRef{n, e})
		return count == 0 || int64(len(out)) < count
	}
	if rev {
		s.descend(start, end, fn)
	} else {
		s.ascend(start, end, fn)
	}
	return out
}

func (c *Ctx) writeEntries(refs []entryRef) {
	c.W.Array(len(refs))
	for _, r := range refs {
		c.writeEntry(r.n, r.e)
	}
}

// xaddArgs are XADD's options; idPos is the position of the ID argument
// (len(Args) when there is none).
type xaddArgs struct {
	trimArgs
	id                streamID
	idGiven, seqGiven bool
	noMkstream        bool
	idPos             int
}

// parseTrimArgs is streamParseAddOrTrimArgsOrReply, for XADD and XTRIM.
func (c *Ctx) parseTrimArgs(xadd bool) (a xaddArgs, ok bool) {
	limitGiven := false
	i := 2
	for ; i < len(c.Args); i++ {
		more := len(c.Args) - 1 - i
		opt := c.Args[i]
		switch {
		case xadd && string(cstr(opt)) == "*":
			goto done
		case optIs(opt, "maxlen") && more > 0, optIs(opt, "minid") && more > 0:
			if a.strategy != trimNone {
				c.W.Error(ErrStreamMaxLenMinID)
				return a, false
			}
			a.approx = false
			next := cstr(c.Args[i+1])
			if more >= 2 && string(next) == "~" {
				a.approx = true
				i++
			} else if more >= 2 && string(next) == "=" {
				i++
			}
			if optIs(opt, "maxlen") {
				n, ok := c.intArg(i + 1)
				if !ok {
					return a, false
				}
				if n < 0 {
					c.W.Error(ErrStreamMaxLenNeg)
					return a, false
				}
				a.maxlen, a.strategy = n, trimMaxLen
			} else {
				id, _, ok := c.parseStreamID(c.Args[i+1], 0, true, false, false)
				if !ok {
					return a, false
				}
				a.minid, a.strategy = id, trimMinID
			}
			i++
			a.argIdx = i
		case optIs(opt, "limit") && more > 0:
			n, ok := c.intArg(i + 1)
			if !ok {
				return a, false
			}
			if n < 0 {
				c.W.Error(ErrStreamLimitNeg)
				return a, false
			}
			a.limit, limitGiven = n, true
			i++
		case xadd && optIs(opt, "nomkstream"):
			a.noMkstream = true
		case xadd:
			id, seqGiven, ok := c.parseStreamID(opt, 0, true, true, false)
			if !ok {
				return a, false
			}
			a.id, a.seqGiven, a.idGiven = id, seqGiven, true
			goto done
		default:
			c.W.Error(ErrSyntax)
			return a, false
		}
	}
done:
	a.idPos = i
	if a.limit != 0 && a.strategy == trimNone {
		c.W.Error(ErrStreamLimitNoTrim)
		return a, false
	}
	if !xadd && a.strategy == trimNone {
		c.W.Error(ErrStreamXTrimNoTrim)
		return a, false
	}
	if limitGiven {
		if !a.approx {
			c.W.Error(ErrStreamLimitNoApprox)
			return a, false
		}
	} else if a.approx {
		a.limit = streamTrimDefaultLimit
	} else {
		a.limit = 0
	}
	return a, true
}

// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
func xaddCmd(c *Ctx) {
	a, ok := c.parseTrimArgs(true)
	if !ok {
		return
	}
	fieldPos := a.idPos + 1
	if n := len(c.Args) - fieldPos; n < 2 || n%2 == 1 {
		c.W.Error(ErrArity("xadd"))
		return
	}
	if a.idGiven && a.seqGiven && a.id.isZero() {
		c.W.Error(ErrStreamIDZero)
		return
	}
	key := c.Key(1)
	e, s, wrong := c.lookupStream(key)
	if wrong {
		return
	}
	if s == nil {
		if a.noMkstream {
			c.W.Null()
			return
		}
		s = NewStream()
	}
	if s.lastID == maxStreamID {
		c.W.Error(ErrStreamExhausted)
		return
	}
	var id streamID
	switch {
	case !a.idGiven:
		if ms := uint64(max(c.Now, 0)); ms > s.lastID.ms {
			id = streamID{ms, 0}
		} else {
			id, _ = s.lastID.incr()
		}
	case a.seqGiven:
		id = a.id
	case s.lastID.ms == a.id.ms:
		if s.lastID.seq == math.MaxUint64 {
			c.W.Error(ErrStreamIDSmall)
			return
		}
		id = streamID{a.id.ms, s.lastID.seq + 1}
	default:
		id = a.id
	}
	if id.cmp(s.lastID) <= 0 {
		c.W.Error(ErrStreamIDSmall)
		return
	}
	total := 0
	for _, x := range c.Args[fieldPos:] {
		total += len(x)
	}
	if total > streamListpackMaxSize {
		c.W.Error(ErrStreamTooLarge)
		return
	}
	s.appendEntry(id, c.Args[fieldPos:])
	c.writeStreamID(id)
	s.trim(&a.trimArgs)
	if e == nil {
		c.Put(key, &Entry{Kind: KindStream, Coll: s}, false)
	} else {
		c.Modified(e)
	}
}

// XRANGE key start end [COUNT count], XREVRANGE key end start [COUNT count]
func xrangeGeneric(c *Ctx, rev bool) {
	startArg, endArg := c.Args[2], c.Args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, ok := c.parseRangeStart(startArg)
	if !ok {
		return
	}
	end, ok := c.parseRangeEnd(endArg)
	if !ok {
		return
	}
	count := int64(-1)
	for j := 4; j < len(c.Args); j++ {
		if optIs(c.Args[j], "count") && j+1 < len(c.Args) {
			n, ok := c.intArg(j + 1)
			if !ok {
				return
			}
			count = max(n, 0)
			j++
			continue
		}
		c.W.Error(ErrSyntax)
		return
	}
	_, s, wrong := c.lookupStream(c.Key(1))
	switch {
	case wrong:
	case s == nil:
		c.W.Array(0)
	case count == 0:
		c.W.NullArray()
	default:
		c.writeEntries(s.collectRange(start, end, max(count, 0), rev))
	}
}

func xlenCmd(c *Ctx) {
	_, s, wrong := c.lookupStream(c.Key(1))
	switch {
	case wrong:
	case s == nil:
		c.W.Int(0)
	default:
		c.W.Int(int64(s.length))
	}
}

// XDEL key id [id ...]
func xdelCmd(c *Ctx) {
	e, s, wrong := c.lookupStream(c.Key(1))
	switch {
	case wrong:
		return
	case s == nil:
		c.W.Int(0)
		return
	}
	ids := make([]streamID, 0, len(c.Args)-2)
	for _, a := range c.Args[2:] {
		id, _, ok := c.parseStreamID(a, 0, true, false, false)
		if !ok {
			return
		}
		ids = append(ids, id)
	}
	n := s.xdel(ids)
	if n > 0 {
		c.Modified(e)
	}
	c.W.Int(int64(n))
}

// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
func xtrimCmd(c *Ctx) {
	a, ok := c.parseTrimArgs(false)
	if !ok {
		return
	}
	e, s, wrong := c.lookupStream(c.Key(1))
	switch {
	case wrong:
		return
	case s == nil:
		c.W.Int(0)
		return
	}
	n := s.trim(&a.trimArgs)
	if n > 0 {
		c.Modified(e)
	}
	c.W.Int(n)
}

// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]
// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...]
func xreadCmd(c *Ctx) {
	group := len(c.Args[0]) == 10
	var count int64
	streamsArg, nStreams := 0, 0
	noack := false
	var groupName, consumerName []byte
	for i := 1; i < len(c.Args); i++ {
		more := len(c.Args) - i - 1
		o := c.Args[i]
		switch {
		case optIs(o, "block") && more > 0:
			i++
			if _, msg := ParseTimeout(c.Args[i], false); msg != "" {
				c.W.Error(msg)
				return
			}
		case optIs(o, "count") && more > 0:
			i++
			n, ok := c.intArg(i)
			if !ok {
				return
			}
			count = max(n, 0)
		case optIs(o, "streams") && more > 0:
			streamsArg = i + 1
			nStreams = len(c.Args) - streamsArg
			if nStreams%2 != 0 {
				c.W.Error(ErrXReadUnbalanced)
				return
			}
			nStreams /= 2
			i = len(c.Args)
		case optIs(o, "group") && more >= 2:
			if !group {
				c.W.Error(ErrXReadGroupOption)
				return
			}
			groupName, consumerName = c.Args[i+1], c.Args[i+2]
			i += 2
		case optIs(o, "noack"):
			if !group {
				c.W.Error(ErrXReadNoAckOption)
				return
			}
			noack = true
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	if streamsArg == 0 {
		c.W.Error(ErrSyntax)
		return
	}
	if group && groupName == nil {
		c.W.Error(ErrXReadGroupMissing)
		return
	}
	keys := c.Args[streamsArg : streamsArg+nStreams]
	ids := make([]streamID, nStreams)
	groups := make([]*streamGroup, nStreams)
	for i, arg := range c.Args[streamsArg+nStreams:] {
		_, s, wrong := c.lookupStream(keys[i])
		if wrong {
			return
		}
		if groupName != nil {
			var g *streamGroup
			if s != nil {
				g = s.group(groupName)
			}
			if g == nil {
				c.W.Error(ErrXReadGroupNoGroup(keys[i], groupName))
				return
			}
			groups[i] = g
		}
		switch string(arg) {
		case "$":
			if group {
				c.W.Error(ErrXReadGroupDollar)
				return
			}
			if s != nil {
				ids[i] = s.lastID
			}
			continue
		case ">":
			if !group {
				c.W.Error(ErrXReadGT)
				return
			}
			ids[i] = maxStreamID
			continue
		}
		id, _, ok := c.parseStreamID(arg, 0, true, false, false)
		if !ok {
			return
		}
		ids[i] = id
	}
	// Which streams are served, then the reply.
	type served struct {
		i       int
		s       *Stream
		e       *Entry
		history bool
	}
	var serve []served
	for i, key := range keys {
		e, s, _ := c.lookupStream(key)
		if s == nil {
			continue
		}
		gt := ids[i]
		if group {
			if gt != maxStreamID {
				serve = append(serve, served{i, s, e, true})
			} else if s.length > 0 {
				if last, _ := s.lastLive(); last.cmp(groups[i].lastID) > 0 {
					ids[i] = groups[i].lastID
					serve = append(serve, served{i, s, e, false})
				}
			}
		} else if s.length > 0 {
			if last, _ := s.lastLive(); last.cmp(gt) > 0 {
				serve = append(serve, served{i, s, e, false})
			}
		}
	}
	if len(serve) == 0 {
		c.W.NullArray()
		return
	}
	if c.W.Resp3() {
		c.W.Map(len(serve))
	} else {
		c.W.Array(len(serve))
	}
	for _, sv := range serve {
		i := sv.i
		start, _ := ids[i].incr()
		if !c.W.Resp3() {
			c.W.Array(2)
		}
		c.W.Bulk(keys[i])
		if !group {
			c.writeEntries(sv.s.collectRange(start, maxStreamID, count, false))
			continue
		}
		g := groups[i]
		cons := g.consumer(consumerName, true, c.Now)
		if cons == nil {
			cons = g.createConsumer(consumerName, c.Now)
		}
		if sv.history {
			c.serveHistory(sv.s, cons, start, count)
		} else {
			c.serveGroup(sv.s, g, cons, start, count, noack)
		}
		c.Modified(sv.e)
	}
}

// serveHistory replies with a consumer's own pending entries from start
// on (streamReplyWithRangeFromConsumerPEL): an entry gone from the stream
// is its ID with a null.
func (c *Ctx) serveHistory(s *Stream, cons *streamConsumer, start streamID, count int64) {
	i, _ := pelSearch(cons.pel, start)
	pel := cons.pel[i:]
	if count > 0 && int64(len(pel)) > count {
		pel = pel[:count]
	}
	c.W.Array(len(pel))
	for _, p := range pel {
		if c.writeEntryByID(s, p.id) {
			p.deliveryTime = c.Now
			p.deliveryCount++
			continue
		}
		c.W.Array(2)
		c.writeStreamID(p.id)
		c.W.NullArray()
	}
}

// serveGroup delivers new entries to a consumer (streamReplyWithRange
// with a group): the group's last ID and read counter move, and each
// entry enters the PELs unless NOACK.
func (c *Ctx) serveGroup(s *Stream, g *streamGroup, cons *streamConsumer, start streamID, count int64, noack bool) {
	refs := s.collectRange(start, maxStreamID, count, false)
	for _, r := range refs {
		id := r.e.id
		if id.cmp(g.lastID) > 0 {
			if g.entriesRead != entriesReadInvalid && !s.rangeHasTombstones(id) {
				g.entriesRead++
			} else if s.entriesAdded != 0 {
				g.entriesRead = s.estimateDistance(id)
			}
			g.lastID = id
		}
		if noack {
			continue
		}
		if p := g.pending(id); p != nil {
			g.assign(p, cons)
			p.deliveryTime, p.deliveryCount = c.Now, 1
		} else {
			p := &pendingEntry{id: id, consumer: cons, deliveryTime: c.Now, deliveryCount: 1}
			g.pel = pelInsert(g.pel, p)
			cons.pel = pelInsert(cons.pel, p)
		}
	}
	c.writeEntries(refs)
}

var xgroupHelp = []string{
	"XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CREATE <key> <groupname> <id|$> [option]",
	"    Create a new consumer group. Options are:",
	"    * MKSTREAM",
	"      Create the empty stream if it does not exist.",
	"    * ENTRIESREAD entries_read",
	"      Set the group's entries_read counter (internal use).",
	"CREATECONSUMER <key> <groupname> <consumer>",
	"    Create a new consumer in the specified group.",
	"DELCONSUMER <key> <groupname> <consumer>",
	"    Remove the specified consumer.",
	"DESTROY <key> <groupname>",
	"    Remove the specified group.",
	"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
	"    Set the current group ID and entries_read counter.",
	"HELP",
	"    Prints this help.",
}

var xinfoHelp = []string{
	"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CONSUMERS <key> <groupname>",
	"    Show consumers of <groupname>.",
	"GROUPS <key>",
	"    Show the stream consumer groups.",
	"STREAM <key> [FULL [COUNT <count>]",
	"    Show information about the stream.",
	"HELP",
	"    Prints this help.",
}

func (c *Ctx) writeHelp(lines []string) {
	c.W.Array(len(lines))
	for _, l := range lines {
		c.W.Status(l)
	}
}

// XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP
func xgroupCmd(c *Ctx) {
	opt := c.Args[1]
	mkstream := false
	entriesRead := int64(entriesReadInvalid)
	var e *Entry
	var s *Stream
	var g *streamGroup
	subErr := func() { c.W.Error(ErrSubcommandSyntax(opt, "XGROUP")) }
	if len(c.Args) >= 4 {
		create, setid := optIs(opt, "create"), optIs(opt, "setid")
		for i := 5; i < len(c.Args); {
			switch {
			case create && optIs(c.Args[i], "mkstream"):
				mkstream = true
				i++
			case (create || setid) && optIs(c.Args[i], "entriesread") && i+1 < len(c.Args):
				n, ok := c.intArg(i + 1)
				if !ok {
					return
				}
				if n < 0 && n != entriesReadInvalid {
					c.W.Error(ErrEntriesReadRange)
					return
				}
				entriesRead = n
				i += 2
			default:
				subErr()
				return
			}
		}
		var wrong bool
		if e, s, wrong = c.lookupStream(c.Key(2)); wrong {
			return
		}
	}
	if len(c.Args) >= 4 && !mkstream {
		if s == nil {
			c.W.Error(ErrXGroupKeyMissing)
			return
		}
		if g = s.group(c.Args[3]); g == nil &&
			(optIs(opt, "setid") || optIs(opt, "createconsumer") || optIs(opt, "delconsumer")) {
			c.W.Error(ErrNoGroupForKey(c.Args[3], c.Args[2]))
			return
		}
	}
	n := len(c.Args)
	switch {
	case n == 2 && optIs(opt, "help"):
		c.writeHelp(xgroupHelp)
	case optIs(opt, "create") && n >= 5 && n <= 8:
		var id streamID
		if string(c.Args[4]) == "$" {
			if s != nil {
				id = s.lastID
			}
		} else {
			var ok bool
			if id, _, ok = c.parseStreamID(c.Args[4], 0, true, false, false); !ok {
				return
			}
		}
		if s == nil {
			s = NewStream()
			e = c.Put(c.Key(2), &Entry{Kind: KindStream, Coll: s}, false)
		}
		if s.createGroup(c.Args[3], id, entriesRead) == nil {
			c.W.Error(ErrBusyGroup)
			return
		}
		c.Modified(e)
		c.W.OK()
	case optIs(opt, "setid") && (n == 5 || n == 7):
		var id streamID
		if string(c.Args[4]) == "$" {
			id = s.lastID
		} else {
			var ok bool
			if id, _, ok = c.parseStreamID(c.Args[4], 0, false, false, false); !ok {
				return
			}
		}
		g.lastID, g.entriesRead = id, entriesRead
		c.Modified(e)
		c.W.OK()
	case optIs(opt, "destroy") && n == 4:
		if g == nil {
			c.W.Int(0)
			return
		}
		s.destroyGroup(c.Args[3])
		c.Modified(e)
		c.W.Int(1)
	case optIs(opt, "createconsumer") && n == 5:
		if g.createConsumer(c.Args[4], c.Now) == nil {
			c.W.Int(0)
			return
		}
		c.Modified(e)
		c.W.Int(1)
	case optIs(opt, "delconsumer") && n == 5:
		cons := g.consumer(c.Args[4], false, c.Now)
		if cons == nil {
			c.W.Int(0)
			return
		}
		pending := len(cons.pel)
		g.deleteConsumer(cons)
		c.Modified(e)
		c.W.Int(int64(pending))
	default:
		subErr()
	}
}

// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
func xsetidCmd(c *Ctx) {
	id, _, ok := c.parseStreamID(c.Args[2], 0, true, false, false)
	if !ok {
		return
	}
	entriesAdded := int64(-1)
	var maxDel streamID
	for i := 3; i < len(c.Args); i += 2 {
		more := len(c.Args) - 1 - i
		switch opt := c.Args[i]; {
		case optIs(opt, "entriesadded") && more > 0:
			n, ok := c.intArg(i + 1)
			if !ok {
				return
			}
			if n < 0 {
				c.W.Error(ErrEntriesAddedNeg)
				return
			}
			entriesAdded = n
		case optIs(opt, "maxdeletedid") && more > 0:
			if maxDel, _, ok = c.parseStreamID(c.Args[i+1], 0, true, false, false); !ok {
				return
			}
			if id.cmp(maxDel) < 0 {
				c.W.Error(ErrXSetIDMaxDeleted)
				return
			}
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	e, s, wrong := c.lookupStream(c.Key(1))
	switch {
	case wrong:
		return
	case s == nil:
		c.W.Error(ErrNoSuchKey)
		return
	}
	if s.length > 0 {
		if last, _ := s.lastLive(); id.cmp(last) < 0 {
			c.W.Error(ErrXSetIDSmall)
			return
		}
		if entriesAdded != -1 && s.length > uint64(entriesAdded) {
			c.W.Error(ErrXSetIDEntriesAdded)
			return
		}
	}
	s.lastID = id
	if entriesAdded != -1 {
		s.entriesAdded = uint64(entriesAdded)
	}
	if !maxDel.isZero() {
		s.maxDeleted = maxDel
	}
	c.Modified(e)
	c.W.OK()
}

// lookupGroup finds key's stream and group for XACK and XCLAIM (a wrong
// type has been answered when wrong).
func (c *Ctx) lookupGroup(key, name []byte) (e *Entry, s *Stream, g *streamGroup, wrong bool) {
	e, s, wrong = c.lookupStream(key)
	if s != nil {
		g = s.group(name)
	}
	return e, s, g, wrong
}

// XACK key group id [id ...]
func xackCmd(c *Ctx) {
	e, _, g, wrong := c.lookupGroup(c.Key(1), c.Args[2])
	if wrong {
		return
	}
	if g == nil {
		c.W.Int(0)
		return
	}
	ids := make([]streamID, 0, len(c.Args)-3)
	for _, a := range c.Args[3:] {
		id, _, ok := c.parseStreamID(a, 0, true, false, false)
		if !ok {
			return
		}
		ids = append(ids, id)
	}
	n := 0
	for _, id := range ids {
		if p := g.pending(id); p != nil {
			g.dropPending(p)
			n++
		}
	}
	if n > 0 {
		c.Modified(e)
	}
	c.W.Int(int64(n))
}

// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
func xpendingCmd(c *Ctx) {
	n := len(c.Args)
	if n != 3 && (n < 6 || n > 9) {
		c.W.Error(ErrSyntax)
		return
	}
	var start, end streamID
	var count, minIdle int64
	var consumerName []byte
	if n >= 6 {
		si := 3
		if optIs(c.Args[3], "idle") {
			v, ok := c.intArg(4)
			if !ok {
				return
			}
			minIdle = v
			if n < 8 {
				c.W.Error(ErrSyntax)
				return
			}
			si += 2
		}
		v, ok := c.intArg(si + 2)
		if !ok {
			return
		}
		count = max(v, 0)
		if start, ok = c.parseRangeStart(c.Args[si]); !ok {
			return
		}
		if end, ok = c.parseRangeEnd(c.Args[si+1]); !ok {
			return
		}
		if si+3 < n {
			consumerName = c.Args[si+3]
		}
	}
	_, _, g, wrong := c.lookupGroup(c.Key(1), c.Args[2])
	if wrong {
		return
	}
	if g == nil {
		c.W.Error(ErrNoKeyOrGroup(c.Args[1], c.Args[2]))
		return
	}
	if n == 3 {
		c.W.Array(4)
		c.W.Int(int64(len(g.pel)))
		if len(g.pel) == 0 {
			c.W.Null()
			c.W.Null()
			c.W.NullArray()
			return
		}
		c.writeStreamID(g.pel[0].id)
		c.writeStreamID(g.pel[len(g.pel)-1].id)
		k := 0
		for _, cs := range g.consumers {
			if len(cs.pel) > 0 {
				k++
			}
		}
		c.W.Array(k)
		for _, cs := range g.consumers {
			if len(cs.pel) > 0 {
				c.W.Array(2)
				c.W.BulkString(cs.name)
				c.W.BulkInt(int64(len(cs.pel)))
			}
		}
		return
	}
	pel := g.pel
	if consumerName != nil {
		cs := g.consumer(consumerName, false, c.Now)
		if cs == nil {
			c.W.Array(0)
			return
		}
		pel = cs.pel
	}
	i, _ := pelSearch(pel, start)
	var out []*pendingEntry
	for ; count > 0 && i < len(pel) && pel[i].id.cmp(end) <= 0; i++ {
		p := pel[i]
		if minIdle != 0 && c.Now-p.deliveryTime < minIdle {
			continue
		}
		out = append(out, p)
		count--
	}
	c.W.Array(len(out))
	for _, p := range out {
		c.W.Array(4)
		c.writeStreamID(p.id)
		c.W.BulkString(p.consumer.name)
		c.W.Int(max(c.Now-p.deliveryTime, 0))
		c.W.Int(int64(p.deliveryCount))
	}
}

// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
func xclaimCmd(c *Ctx) {
	e, s, g, wrong := c.lookupGroup(c.Key(1), c.Args[2])
	if wrong {
		return
	}
	if g == nil {
		c.W.Error(ErrNoKeyOrGroup(c.Args[1], c.Args[2]))
		return
	}
	minIdle, ok := ParseInt(c.Args[4])
	if !ok {
		c.W.Error(ErrXClaimMinIdle)
		return
	}
	minIdle = max(minIdle, 0)
	var ids []streamID
	j := 5
	for ; j < len(c.Args); j++ {
		id, _, ok := c.parseStreamID(c.Args[j], 0, true, false, true)
		if !ok {
			break
		}
		ids = append(ids, id)
	}
	now := c.Now
	retry, delivery := int64(-1), int64(-1)
	force, justID := false, false
	var lastID streamID
	for ; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		opt := c.Args[j]
		switch {
		case optIs(opt, "force"):
			force = true
		case optIs(opt, "justid"):
			justID = true
		case optIs(opt, "idle") && more > 0:
			j++
			v, ok := ParseInt(c.Args[j])
			if !ok {
				c.W.Error(ErrXClaimIdle)
				return
			}
			delivery = now - v
		case optIs(opt, "time") && more > 0:
			j++
			v, ok := ParseInt(c.Args[j])
			if !ok {
				c.W.Error(ErrXClaimTime)
				return
			}
			delivery = v
		case optIs(opt, "retrycount") && more > 0:
			j++
			v, ok := ParseInt(c.Args[j])
			if !ok {
				c.W.Error(ErrXClaimRetryCount)
				return
			}
			retry = v
		case optIs(opt, "lastid") && more > 0:
			j++
			if lastID, _, ok = c.parseStreamID(c.Args[j], 0, true, false, false); !ok {
				return
			}
		default:
			c.W.Error(ErrXClaimOption(opt))
			return
		}
	}
	changed := false
	if lastID.cmp(g.lastID) > 0 {
		g.lastID = lastID
		changed = true
	}
	if delivery != -1 {
		if delivery < 0 || delivery > now {
			delivery = now
		}
	} else {
		delivery = now
	}
	var cons *streamConsumer
	var claimed []streamID
	for _, id := range ids {
		p := g.pending(id)
		if _, en := s.find(id); en == nil {
			if p != nil {
				g.dropPending(p)
				changed = true
			}
			continue
		}
		if force && p == nil {
			p = &pendingEntry{id: id, deliveryTime: now, deliveryCount: 1}
			g.pel = pelInsert(g.pel, p)
		}
		if p == nil {
			continue
		}
		if p.consumer != nil && minIdle != 0 && now-p.deliveryTime < minIdle {
			continue
		}
		if cons == nil {
			if cons = g.consumer(c.Args[3], true, now); cons == nil {
				cons = g.createConsumer(c.Args[3], now)
			}
		}
		p.deliveryTime = delivery
		if retry >= 0 {
			p.deliveryCount = uint64(retry)
		} else if !justID {
			p.deliveryCount++
		}
		g.assign(p, cons)
		claimed = append(claimed, id)
		changed = true
	}
	c.W.Array(len(claimed))
	for _, id := range claimed {
		if justID {
			c.writeStreamID(id)
		} else {
			c.writeEntryByID(s, id)
		}
	}
	if changed || cons != nil {
		c.Modified(e)
	}
}

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
func xautoclaimCmd(c *Ctx) {
	minIdle, ok := ParseInt(c.Args[4])
	if !ok {
		c.W.Error(ErrXAutoClaimMinIdle)
		return
	}
	minIdle = max(minIdle, 0)
	start, ok := c.parseRangeStart(c.Args[5])
	if !ok {
		return
	}
	count := int64(100)
	justID := false
	const attemptsFactor = 10
	for j := 6; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		switch opt := c.Args[j]; {
		case optIs(opt, "count") && more > 0:
			v, ok := ParseInt(c.Args[j+1])
			if !ok || v < 1 || v > math.MaxInt64/16 {
				c.W.Error(ErrXAutoClaimCount)
				return
			}
			count = v
			j++
		case optIs(opt, "justid"):
			justID = true
		default:
			c.W.Error(ErrSyntax)
			return
		}
	}
	e, s, g, wrong := c.lookupGroup(c.Key(1), c.Args[2])
	if wrong {
		return
	}
	if g == nil {
		c.W.Error(ErrNoKeyOrGroup(c.Args[1], c.Args[2]))
		return
	}
	now := c.Now
	attempts := count * attemptsFactor
	var cons *streamConsumer
	var claimed, deleted []streamID
	i, _ := pelSearch(g.pel, start)
	changed := false
	for ; attempts > 0 && count > 0 && i < len(g.pel); attempts-- {
		p := g.pel[i]
		id := p.id
		if _, en := s.find(id); en == nil {
			g.dropPending(p)
			deleted = append(deleted, id)
			count--
			changed = true
			continue // the next entry is now at i
		}
		i++
		if minIdle != 0 && now-p.deliveryTime < minIdle {
			continue
		}
		if cons == nil {
			if cons = g.consumer(c.Args[3], true, now); cons == nil {
				cons = g.createConsumer(c.Args[3], now)
			}
		}
		p.deliveryTime = now
		if !justID {
			p.deliveryCount++
		}
		g.assign(p, cons)
		claimed = append(claimed, id)
		count--
		changed = true
	}
	var next streamID
	if i < len(g.pel) {
		next = g.pel[i].id
	}
	c.W.Array(3)
	c.writeStreamID(next)
	c.W.Array(len(claimed))
	for _, id := range claimed {
		if justID {
			c.writeStreamID(id)
		} else {
			c.writeEntryByID(s, id)
		}
	}
	c.W.Array(len(deleted))
	for _, id := range deleted {
		c.writeStreamID(id)
	}
	if changed || cons != nil {
		c.Modified(e)
	}
}

// XINFO STREAM|GROUPS|CONSUMERS|HELP
func xinfoCmd(c *Ctx) {
	opt := c.Args[1]
	if optIs(opt, "help") {
		if len(c.Args) != 2 {
			c.W.Error(ErrSubcommandSyntax(opt, "XINFO"))
			return
		}
		c.writeHelp(xinfoHelp)
		return
	}
	if len(c.Args) < 3 {
		c.W.Error(ErrSubcommandSyntax(opt, "XINFO"))
		return
	}
	_, s, wrong := c.lookupStream(c.Key(2))
	switch {
	case wrong:
		return
	case s == nil:
		c.W.Error(ErrNoSuchKey)
		return
	}
	switch {
	case optIs(opt, "consumers") && len(c.Args) == 4:
		g := s.group(c.Args[3])
		if g == nil {
			c.W.Error(ErrNoGroupForKey(c.Args[3], c.Args[2]))
			return
		}
		c.W.Array(len(g.consumers))
		for _, cs := range g.consumers {
			c.W.Map(3)
			c.W.BulkString("name")
			c.W.BulkString(cs.name)
			c.W.BulkString("pending")
			c.W.Int(int64(len(cs.pel)))
			c.W.BulkString("idle")
			c.W.Int(max(c.Now-cs.seenTime, 0))
		}
	case optIs(opt, "groups") && len(c.Args) == 3:
		c.W.Array(len(s.groups))
		for _, g := range s.groups {
			c.W.Map(6)
			c.W.BulkString("name")
			c.W.BulkString(g.name)
			c.W.BulkString("consumers")
			c.W.Int(int64(len(g.consumers)))
			c.W.BulkString("pending")
			c.W.Int(int64(len(g.pel)))
			c.W.BulkString("last-delivered-id")
			c.writeStreamID(g.lastID)
			c.writeGroupCounters(s, g)
		}
	case optIs(opt, "stream"):
		c.xinfoStream(s)
	default:
		c.W.Error(ErrSubcommandSyntax(opt, "XINFO"))
	}
}

// writeGroupCounters writes entries-read and lag.
func (c *Ctx) writeGroupCounters(s *Stream, g *streamGroup) {
	c.W.BulkString("entries-read")
	if g.entriesRead != entriesReadInvalid {
		c.W.Int(g.entriesRead)
	} else {
		c.W.Null()
	}
	c.W.BulkString("lag")
	if lag, ok := s.lag(g); ok {
		c.W.Int(lag)
	} else {
		c.W.Null()
	}
}

func (c *Ctx) xinfoStream(s *Stream) {
	opts := c.Args[3:]
	full := len(opts) > 0
	count := int64(10)
	if full {
		if len(opts) != 1 && len(opts) != 3 || !optIs(opts[0], "full") {
			c.W.Error(ErrSubcommandSyntax(c.Args[1], "XINFO"))
			return
		}
		if len(opts) == 3 {
			if !optIs(opts[1], "count") {
				c.W.Error(ErrSubcommandSyntax(c.Args[1], "XINFO"))
				return
			}
			n, ok := c.intArg(5)
			if !ok {
				return
			}
			if n < 0 {
				n = 10
			}
			count = n
		}
	}
	if full {
		c.W.Map(9)
	} else {
		c.W.Map(10)
	}
	c.W.BulkString("length")
	c.W.Int(int64(s.length))
	c.W.BulkString("radix-tree-keys")
	c.W.Int(int64(len(s.nodes)))
	c.W.BulkString("radix-tree-nodes")
	c.W.Int(int64(s.raxNodes()))
	c.W.BulkString("last-generated-id")
	c.writeStreamID(s.lastID)
	c.W.BulkString("max-deleted-entry-id")
	c.writeStreamID(s.maxDeleted)
	c.W.BulkString("entries-added")
	c.W.Int(int64(s.entriesAdded))
	c.W.BulkString("recorded-first-entry-id")
	c.writeStreamID(s.firstID)
	if !full {
		c.W.BulkString("groups")
		c.W.Int(int64(len(s.groups)))
		c.W.BulkString("first-entry")
		if refs := s.collectRange(streamID{}, maxStreamID, 1, false); len(refs) > 0 {
			c.writeEntry(refs[0].n, refs[0].e)
		} else {
			c.W.Null()
		}
		c.W.BulkString("last-entry")
		if refs := s.collectRange(streamID{}, maxStreamID, 1, true); len(refs) > 0 {
			c.writeEntry(refs[0].n, refs[0].e)
		} else {
			c.W.Null()
		}
		return
	}
	c.W.BulkString("entries")
	c.writeEntries(s.collectRange(streamID{}, maxStreamID, count, false))
	c.W.BulkString("groups")
	c.W.Array(len(s.groups))
	limit := func(n int) int {
		if count != 0 && int64(n) > count {
			return int(count)
		}
		return n
	}
	for _, g := range s.groups {
		c.W.Map(7)
		c.W.BulkString("name")
		c.W.BulkString(g.name)
		c.W.BulkString("last-delivered-id")
		c.writeStreamID(g.lastID)
		c.writeGroupCounters(s, g)
		c.W.BulkString("pel-count")
		c.W.Int(int64(len(g.pel)))
		c.W.BulkString("pending")
		pel := g.pel[:limit(len(g.pel))]
		c.W.Array(len(pel))
		for _, p := range pel {
			c.W.Array(4)
			c.writeStreamID(p.id)
			c.W.BulkString(p.consumer.name)
			c.W.Int(p.deliveryTime)
			c.W.Int(int64(p.deliveryCount))
		}
		c.W.BulkString("consumers")
		c.W.Array(len(g.consumers))
		for _, cs := range g.consumers {
			c.W.Map(4)
			c.W.BulkString("name")
			c.W.BulkString(cs.name)
			c.W.BulkString("seen-time")
			c.W.Int(cs.seenTime)
			c.W.BulkString("pel-count")
			c.W.Int(int64(len(cs.pel)))
			c.W.BulkString("pending")
			cp := cs.pel[:limit(len(cs.pel))]
			c.W.Array(len(cp))
			for _, p := range cp {
				c.W.Array(3)
				c.writeStreamID(p.id)
				c.W.Int(p.deliveryTime)
				c.W.Int(int64(p.deliveryCount))
			}
		}
	}
}
