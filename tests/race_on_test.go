//go:build race

package tests

// raceEnabled builds the server under test with the race detector too, so
// that end-to-end load checks the server's concurrency, not only the tests'.
const raceEnabled = true
