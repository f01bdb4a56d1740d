package main

import (
	"errors"
	"sync"

	"github.com/schemaproxy/schemaproxy/keyspace"
)

// notifySettings is notify-keyspace-events: set at start and by CONFIG SET,
// applied to the store, whose events the proxy publishes.
type notifySettings struct {
	mu      sync.Mutex // guards flags
	flags   keyspace.NotifyFlags
	set     func(flags keyspace.NotifyFlags, publish func([]keyspace.Event)) // nil: none (Redis backends)
	publish func(flags keyspace.NotifyFlags, events []keyspace.Event)
}

// errNotifyBackends refuses notifications where the store has none.
var errNotifyBackends = errors.New("keyspace notifications are not available over Redis backends yet")

// start hands the store the publisher and the flags given at start.
func (n *notifySettings) start(publish func(flags keyspace.NotifyFlags, events []keyspace.Event)) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.publish = publish
	if n.set == nil {
		if n.flags.Publishes() {
			return errNotifyBackends
		}
		return nil
	}
	n.applyLocked()
	return nil
}

func (n *notifySettings) applyLocked() {
	flags := n.flags
	n.set(flags, func(events []keyspace.Event) { n.publish(flags, events) })
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
		if n.set == nil {
			if flags.Publishes() {
				return "", errNotifyBackends
			}
			n.flags = flags
			return flags.String(), nil
		}
		n.flags = flags
		if n.publish != nil {
			n.applyLocked()
		}
		return flags.String(), nil
	}
	return isSettable, set
}
