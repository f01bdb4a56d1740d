package proxy

import (
	"bytes"
	"errors"
	"strings"

	"github.com/schemaproxy/schemaproxy/backends"
	"github.com/schemaproxy/schemaproxy/command"
)

// Error replies the proxy builds itself, byte for byte as Redis 7.0 sends
// them (without the leading '-'), where Redis has the command; the data
// commands' errors are keyspace's (keyspace/errors.go).

// Connection commands: AUTH, HELLO, CLIENT.
const (
	errNoAuth       = "NOAUTH Authentication required."
	errWrongPass    = "WRONGPASS invalid username-password pair or user is disabled."
	errNoPassword   = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	errNoProto      = "NOPROTO unsupported protocol version"
	errProtoNotInt  = "ERR Protocol version is not an integer or out of range"
	errHelloNoAuth  = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	errClientName   = "ERR Client names cannot contain spaces, newlines or special characters."
	errClientID     = "ERR Invalid client ID"
	errNoSuchClient = "ERR No such client"
	errKillClientID = "ERR client-id should be greater than 0"
)

// Server commands and scripts.
const (
	errNoShutdown    = "ERR No shutdown in progress."
	errBGSaveRunning = "ERR Background save already in progress"
	errBGRewriteRun  = "ERR Background append only file rewriting already in progress"
)

// MULTI, EXEC, DISCARD and WATCH.
const (
	// The errors of a client blocked on a consumer group (XREADGROUP
	// BLOCK) whose stream, or group, went away.
	errBlockedStreamGone = "UNBLOCKED the stream key no longer exists"
	errBlockedGroupGone  = "NOGROUP the consumer group this client was blocked on no longer exists"
	errExecAbort         = "EXECABORT Transaction discarded because of previous errors."
	errExecNoMulti       = "ERR EXEC without MULTI"
	errDiscardNoMult     = "ERR DISCARD without MULTI"
	errMultiNested       = "ERR MULTI calls can not be nested"
	errWatchInMulti      = "ERR WATCH inside MULTI is not allowed"
	errNotInMulti        = "ERR Command not allowed inside a transaction"
)

// COMMAND GETKEYS.
const (
	errGetKeysCommand = "ERR Invalid command specified"
	errGetKeysArity   = "ERR Invalid number of arguments specified for command"
	errGetKeysNoKeys  = "ERR The command has no key arguments"
)

// errSSubscribeInExec is SSUBSCRIBE's refusal inside EXEC, which runs as a
// client that may not block; SUBSCRIBE and PSUBSCRIBE are let through
// there for backward compatibility (Redis 7.0).
const errSSubscribeInExec = "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client"

// Ours, where Redis has no such case.
const (
	errNoShutdownHook = "ERR shutdown is not available"
	errConfigSet      = "ERR CONFIG SET is not supported by schemaproxy: restart with the new setting"
	errConfigRewrite  = "ERR CONFIG REWRITE is not supported by schemaproxy"
	errDeadline       = "TRYAGAIN transaction deadline exceeded"
)

// errConfigSetUnknown and errConfigSetFailed are CONFIG SET's refusals of
// a setting it does not know and of a value (reason is Redis's).
func errConfigSetUnknown(name string) string {
	return "ERR Unknown option or number of arguments for CONFIG SET - '" + name + "'"
}

func errConfigSetFailed(name, reason string) string {
	return "ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + reason
}

// errProtocol ends a connection whose request Redis refuses to parse;
// reason is resp.RequestScanner's.
func errProtocol(reason string) string { return "ERR Protocol error: " + reason }

// errHelloOption is HELLO's reply to an option it does not know.
func errHelloOption(opt []byte) string {
	return "ERR Syntax error in HELLO option '" + string(opt) + "'"
}

// errClientType is CLIENT LIST's reply to an unknown TYPE.
func errClientType(typ []byte) string { return "ERR Unknown client type '" + string(typ) + "'" }

// errExecAbortBecause is the reply to an EXEC rejected before it ran (as
// Redis's rejectCommand: msg's ERR prefix dropped).
func errExecAbortBecause(msg string) string {
	return "EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR ")
}

// errSubscribedContext refuses a command a RESP2 subscriber may not run.
func errSubscribedContext(fullname string) string {
	return "ERR Can't execute '" + fullname + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
}

// errPubSubSubcommand is PUBSUB's reply to an unknown subcommand or a
// wrong number of arguments.
func errPubSubSubcommand(sub []byte) string {
	return "ERR unknown subcommand or wrong number of arguments for '" + truncate128(sub) + "'. Try PUBSUB HELP."
}

// truncate128 is Redis's %.128s of an argument: a C string, so it also
// ends at a NUL.
func truncate128(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) > 128 {
		b = b[:128]
	}
	return string(b)
}

// errUnsupportedFor is the reply to a command of the table the proxy does
// not run yet.
func errUnsupportedFor(cmd *command.Command) string {
	if cmd.Is(command.Blocking) {
		return "ERR blocking command '" + cmd.Name + "' is not supported by schemaproxy yet"
	}
	return "ERR command '" + cmd.Name + "' is not supported by schemaproxy yet"
}

// errBGSave is the reply to BGSAVE or BGREWRITEAOF that could not start:
// Redis's words when one is already running.
func errBGSave(name string, err error) string {
	if errors.Is(err, backends.ErrSaveInProgress) {
		if name == "bgsave" {
			return errBGSaveRunning
		}
		return errBGRewriteRun
	}
	return errFrom(err)
}

// errFrom reports a failure that has no words of Redis's (SAVE's).
func errFrom(err error) string { return "ERR " + err.Error() }

// errOutcomeUnknown reports a transaction that may or may not have
// committed (txn.ErrUnknownOutcome).
func errOutcomeUnknown(err error) string { return "ERR transaction outcome unknown: " + err.Error() }

// errBackend reports any other failure of the coordinator or a shard.
func errBackend(err error) string { return "ERR backend failure: " + err.Error() }

// CLIENT UNBLOCK: a wrong reason, and the error a client unblocked with
// ERROR gets (Redis's own code, without ERR).
const (
	errUnblockReason = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
	errUnblocked     = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
)

// TXN, our interactive transaction (txn.go). CONFLICT and TIMEOUT are
// codes of their own, so that a client can tell "run it again" from a
// mistake.
const (
	errTxnNested   = "ERR TXN BEGIN inside a transaction: TXN calls can not be nested"
	errTxnConflict = "CONFLICT a key read by the transaction changed before it committed: nothing was written, run the transaction again"
	errTxnTimeout  = "TIMEOUT the transaction ran past its TIMEOUT and was aborted: nothing was written"
	errTxnTimeArg  = "ERR TXN BEGIN TIMEOUT must be a positive number of milliseconds"
)

// errTxnWithout is the reply to TXN COMMIT or ABORT outside a transaction.
func errTxnWithout(sub string) string { return "ERR TXN " + sub + " without TXN BEGIN" }

// errTxnRefused refuses a command inside TXN, saying why.
func errTxnRefused(cmd, why string) string {
	return "ERR " + strings.ToUpper(cmd) + " is not allowed inside TXN: " + why
}

// errTxnPartial reports a commit in which a command failed that had not
// failed inside the transaction (the shard out of memory, say): the other
// writes are committed, as in Redis's EXEC.
func errTxnPartial(cmd, msg string) string {
	return "ERR TXN COMMIT: " + strings.ToUpper(cmd) + " failed at commit, the other writes committed: " + msg
}
