package aof

import (
	"context"
	"time"
)

// runEverySec is the EverySec policy: on each tick with unsynced data it
// writes what is buffered and fsyncs. The fsync runs outside the flush
// ownership, so waiters keep writing while the disk flushes, as Redis does
// with its background fsync thread.
func (l *Log) runEverySec(ctx context.Context, tick <-chan time.Time, stop func()) {
	defer close(l.bgDone)
	if stop != nil {
		defer stop()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		l.syncInBackground(ctx)
		if l.knobs.afterTick != nil {
			l.knobs.afterTick()
		}
	}
}

func (l *Log) syncInBackground(ctx context.Context) {
	l.mu.Lock()
	target := l.appended
	pending := l.err == nil && target > l.synced
	l.mu.Unlock()
	if !pending {
		return
	}
	// Records nobody waits for (expiry, say) must not stay in memory.
	if err := l.wait(ctx, target, false); err != nil {
		return
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	f, path, w := l.file, l.path, l.written
	if l.err != nil || l.state != stateLoaded || w <= l.synced {
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	err := l.fsync(f, path)
	l.mu.Lock()
	if err != nil {
		l.failLocked(err)
	} else {
		l.synced = max(l.synced, w)
		l.publishLocked()
	}
	l.mu.Unlock()
}
