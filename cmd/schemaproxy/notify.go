package main

import (
	"errors"
	"sync"

	"github.com/schemaproxy/schemaproxy/keyspace"
)

// notifySettings is notify-keyspace-events: set at start and by CONFIG SET,
// applied to the store, whose events the proxy publishes.
type notifySettings struct {
	mu    sync.Mutex // guards flags
	flags keyspace.NotifyFlags
	// set applies flags to the embedded store, whose events go to
	// publish; setRemote to Redis backends, whose events go to deliver.
	set       func(flags keyspace.NotifyFlags, publish func([]keyspace.Event))
	setRemote func(flags keyspace.NotifyFlags, deliver func(channel, message []byte)) error
	publish   func(flags keyspace.NotifyFlags, events []keyspace.Event)
	deliver   func(channel, message []byte)
}

// errNotifyNone refuses notifications where the store has none.
var errNotifyNone = errors.New("keyspace notifications are not available on this store")

// start hands the store the publishers and the flags given at start.
func (n *notifySettings) start(publish func(flags keyspace.NotifyFlags, events []keyspace.Event), deliver func(channel, message []byte)) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.publish, n.deliver = publish, deliver
	if n.setRemote != nil && !n.flags.Publishes() {
		// Subscribe, but leave the backends' setting alone: another
		// proxy may have turned events on.
		return n.setRemote(notifyUnset, deliver)
	}
	return n.applyLocked(n.flags)
}

// notifyUnset asks setRemote to subscribe without changing the setting.
const notifyUnset keyspace.NotifyFlags = 1<<16 - 1

// applyLocked applies flags to the store.
func (n *notifySettings) applyLocked(flags keyspace.NotifyFlags) error {
	switch {
	case n.set != nil:
		n.set(flags, func(events []keyspace.Event) { n.publish(flags, events) })
	case n.setRemote != nil:
		return n.setRemote(flags, n.deliver)
	case flags.Publishes():
		return errNotifyNone
	}
	return nil
}

// wrap adds notify-keyspace-events to the CONFIG SET functions.
func (n *notifySettings) wrap(settable func(string) bool, setConfig func(name, value string) (string, error)) (func(string) bool, func(name, value string) (string, error)) {
	isSettable := func(name string) bool {
		return name == "notify-keyspace-events" || (settable != nil && settable(name))
	}
	set := func(name, value string) (string, error) {
		if name != "notify-keyspace-events" {
			return setConfig(name, value)
		}
		flags, ok := keyspace.ParseNotifyFlags(value)
		if !ok {
			return "", errors.New(keyspace.ErrNotifyClasses) //lint:ignore ST1005 Redis's words, shown to clients
		}
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.publish != nil {
			if err := n.applyLocked(flags); err != nil {
				return "", err
			}
		}
		n.flags = flags
		return flags.String(), nil
	}
	return isSettable, set
}
