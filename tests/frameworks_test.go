package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// The job frameworks' own workers and producers, unchanged, against
// schemaproxy on its embedded store and in front of redis-servers: each
// test enqueues a few hundred jobs (plain, retried,
// failing, chained, delayed), runs the framework's worker until every job
// has ended, and checks that each ran as planned. The frameworks come
// from Debian's packages (make test installs them, as it does
// redis-server); their scripts are in tests/frameworks.

// systemPython is Debian's interpreter, which sees the packages apt
// installs (a python3 earlier in PATH may not).
const systemPython = "/usr/bin/python3"

// requirePython fails the test unless module imports under systemPython.
func requirePython(t *testing.T, module, pkg string) {
	t.Helper()
	if out, err := exec.Command(systemPython, "-c", "import "+module).CombinedOutput(); err != nil {
		t.Fatalf("%s -c 'import %s': %v %s\ninstall the Debian package %s (make test does)", systemPython, module, err, out, pkg)
	}
}

// runTool runs name with args in dir, in a process group of its own that
// is killed whole when it outlives timeout (workers fork children), and
// returns its output.
func runTool(t *testing.T, timeout time.Duration, dir, name string, args ...string) (string, error) {
	t.Helper()
	return runToolEnv(t, timeout, dir, nil, name, args...)
}

// runToolEnv is runTool with env added to the environment.
func runToolEnv(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err := cmd.Run()
	// Whatever the leader did, nothing of its group outlives it.
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%s %s: still running after %v: %w", name, strings.Join(args, " "), timeout, ctx.Err())
	}
	return out.String(), err
}

// startTool starts name with args in dir and env, in a process group of
// its own that is killed whole (by its pid) when the test ends; the
// returned function gives its output so far.
func startTool(t *testing.T, dir string, env []string, name string, args ...string) func() string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return out.String
}

// mustRun is runTool that fails the test on an error.
func mustRun(t *testing.T, timeout time.Duration, dir, name string, args ...string) string {
	t.Helper()
	out, err := runTool(t, timeout, dir, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// untilDone runs work, then done, until done succeeds, within a minute.
func untilDone(t *testing.T, work, done func() (string, error)) {
	t.Helper()
	var log []string
	for end := time.Now().Add(time.Minute); time.Now().Before(end); {
		out, err := work()
		log = append(log, out)
		if err != nil {
			t.Fatalf("worker: %v\n%s", err, strings.Join(log, "\n"))
		}
		if out, err := done(); err == nil {
			return
		} else if !errors.Is(err, errNotDone) {
			t.Fatalf("checking progress: %v\n%s", err, out)
		}
	}
	t.Fatalf("the jobs did not end within a minute; worker output:\n%s", strings.Join(log, "\n"))
}

var errNotDone = errors.New("not every job has ended")

// onBothStores runs fn against schemaproxy on its embedded store and in
// front of three redis-servers; then against a redis-server whose
// traffic, the framework's scripts included, is replayed on a fresh
// redis-server and a fresh schemaproxy, which must answer the same
// (replay_test.go).
func onBothStores(t *testing.T, fn func(t *testing.T, addr string)) {
	t.Run("embedded", func(t *testing.T) { fn(t, startProxy(t).Addr) })
	t.Run("redis-backends", func(t *testing.T) {
		_, urls := startBackends(t, 3)
		fn(t, startProxy(t, backendArgs(urls)...).Addr)
	})
	t.Run("replay", func(t *testing.T) {
		r := testutil.StartRedis(t)
		stop := monitor(t, r.Addr)
		fn(t, r.Addr)
		cmds := stop()
		compared, scripts := replay(t, cmds)
		t.Logf("%d commands recorded, %d replayed and compared, %d of them script calls", len(cmds), compared, scripts)
	})
}

// TestRQ: RQ's producer API and its worker (rq worker --burst
// --with-scheduler) over schemaproxy, queues in database 1.
func TestRQ(t *testing.T) {
	t.Parallel() // the frameworks mostly wait: they share the cores well
	requirePython(t, "rq", "python3-rq")
	dir, err := filepath.Abs("frameworks/rq")
	if err != nil {
		t.Fatal(err)
	}
	onBothStores(t, func(t *testing.T, addr string) { runRQ(t, dir, addr) })
}

func runRQ(t *testing.T, dir, addr string) {
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	const jobs = "200"
	mustRun(t, time.Minute, dir, systemPython, "rq_e2e.py", port, "enqueue", jobs)
	untilDone(t, func() (string, error) {
		return runTool(t, time.Minute, dir, systemPython, "-m", "rq.cli", "worker", "--burst", "--with-scheduler",
			"--url", "redis://"+addr+"/1", "--path", dir, "default")
	}, func() (string, error) {
		out, err := runTool(t, time.Minute, dir, systemPython, "rq_e2e.py", port, "done", jobs)
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 1 {
			return out, errNotDone
		}
		return out, err
	})
	if out := mustRun(t, time.Minute, dir, systemPython, "rq_e2e.py", port, "check", jobs); !strings.Contains(out, "ok") {
		t.Fatalf("check: %s", out)
	}
}

// TestCelery: Celery (Debian python3-celery) with schemaproxy as its
// broker and result backend, database 1: its own worker runs plain tasks,
// a task that retries until it succeeds, a failing one, a chain, a
// delayed task, a group and a chord; the producer waits for each result.
func TestCelery(t *testing.T) {
	t.Parallel() // the frameworks mostly wait: they share the cores well
	requirePython(t, "celery", "python3-celery")
	dir, err := filepath.Abs("frameworks/celery")
	if err != nil {
		t.Fatal(err)
	}
	onBothStores(t, func(t *testing.T, addr string) { runCelery(t, dir, addr) })
}

func runCelery(t *testing.T, dir, addr string) {
	env := []string{"E2E_PORT=" + addr[strings.LastIndexByte(addr, ':')+1:]}
	worker := startTool(t, dir, env, systemPython, "-m", "celery", "-A", "e2e_tasks", "worker", "--pool=solo", "-l", "warning")
	out, err := runToolEnv(t, 2*time.Minute, dir, env, systemPython, "celery_e2e.py", "200")
	if err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("celery_e2e.py: %v\n%s\nworker:\n%s", err, out, worker())
	}
}

// TestSidekiq: Sidekiq (Debian ruby-sidekiq) over schemaproxy, database 1:
// its own server (sidekiq, five threads, two queues) runs plain jobs, a
// job retried until it succeeds, one that fails for good (to the dead
// set), a scheduled one; the jobs record their results in Redis, which
// the producer checks, with Sidekiq's own API for its sets and queues.
func TestSidekiq(t *testing.T) {
	t.Parallel() // the frameworks mostly wait: they share the cores well
	if out, err := exec.Command("ruby", "-e", "require 'sidekiq'").CombinedOutput(); err != nil {
		t.Fatalf("ruby -e \"require 'sidekiq'\": %v %s\ninstall the Debian package ruby-sidekiq (make test does)", err, out)
	}
	dir, err := filepath.Abs("frameworks/sidekiq")
	if err != nil {
		t.Fatal(err)
	}
	onBothStores(t, func(t *testing.T, addr string) { runSidekiq(t, dir, addr) })
}

func runSidekiq(t *testing.T, dir, addr string) {
	env := []string{"REDIS_URL=redis://" + addr + "/1"}
	server := startTool(t, dir, env, "sidekiq", "-r", "./e2e.rb", "-q", "default", "-q", "other", "-c", "5")
	out, err := runToolEnv(t, 2*time.Minute, dir, env, "ruby", "sidekiq_e2e.rb", "200")
	if err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("sidekiq_e2e.rb: %v\n%s\nsidekiq:\n%s", err, out, server())
	}
}

// TestBullMQ: BullMQ (npm, with ioredis; make test runs npm ci in
// tests/frameworks/bullmq) over schemaproxy, database 1: a Worker with
// five jobs at a time runs plain jobs added in bulk, one retried with
// backoff until it succeeds, one that fails, a delayed one, a prioritized
// one and a flow (a parent summing its children's results); each is
// awaited through QueueEvents (XREAD BLOCK on its events stream) and the
// queue's counts are checked at the end.
func TestBullMQ(t *testing.T) {
	t.Parallel() // the frameworks mostly wait: they share the cores well
	dir, err := filepath.Abs("frameworks/bullmq")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "bullmq")); err != nil {
		t.Fatalf("BullMQ is not installed in %s: run npm ci there (make test does)", dir)
	}
	onBothStores(t, func(t *testing.T, addr string) { runBullMQ(t, dir, addr) })
}

func runBullMQ(t *testing.T, dir, addr string) {
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	if out := mustRun(t, 2*time.Minute, dir, "node", "bullmq_e2e.js", port, "200"); !strings.Contains(out, "ok") {
		t.Fatalf("bullmq_e2e.js: %s", out)
	}
}
