package keyspace

// AdvanceClock makes every version handed out from now on greater than v.
// Whoever installs entries that carry versions from elsewhere (a copy of
// another shard's keys, a snapshot) calls it, so that a later change can
// never reuse the version a watcher or a comparison remembers.
func (s *Store) AdvanceClock(v uint64) {
	if v > s.clock {
		s.clock = v
	}
}
