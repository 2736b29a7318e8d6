package flint_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flint-engine/flint"
	"github.com/flint-engine/flint/internal/clustertest"
)

// endlessJoinSQL joins lineitem with itself on l_linestatus (two
// values): about 1.8 billion joined rows, minutes of work. A run that
// answers at all was not cancelled.
const endlessJoinSQL = `select a.l_returnflag, count(*) as n
from lineitem a join lineitem b on a.l_linestatus = b.l_linestatus
group by a.l_returnflag order by a.l_returnflag`

var cancelledLine = regexp.MustCompile(`msg="task cancelled" .*stopped_in=(\S+)`)

// cancelledTasks returns the executors' "task cancelled" log lines.
func cancelledTasks(c *clustertest.Cluster) []string {
	var out []string
	for _, e := range c.Executors() {
		out = append(out, cancelledLine.FindAllString(e.Output(), -1)...)
	}
	return out
}

// cpuTime is the user+system CPU time a process has used (Linux).
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces), from field
	// 3: utime and stime are fields 14 and 15, in clock ticks (USER_HZ,
	// 100 on Linux).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("/proc/%d/stat: %q", pid, b)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// busy reports the CPU time each executor used over window.
func busy(t *testing.T, c *clustertest.Cluster, window time.Duration) []time.Duration {
	t.Helper()
	es := c.Executors()
	before := make([]time.Duration, len(es))
	for i, e := range es {
		before[i] = cpuTime(t, e.Pid())
	}
	time.Sleep(window)
	out := make([]time.Duration, len(es))
	for i, e := range es {
		out[i] = cpuTime(t, e.Pid()) - before[i]
	}
	return out
}

// checkExecutorsStop checks that the executors stopped the cancelled
// job: they log more cancelled attempts than before (each stopped within
// a second of its context's end) and, on Linux, their processes go idle
// at once (a window of idleWindow in which each used under a fifth of it).
func checkExecutorsStop(t *testing.T, c *clustertest.Cluster, before int, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(cancelledTasks(c)) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no executor logged a cancelled task", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, line := range cancelledTasks(c)[before:] {
		d, err := time.ParseDuration(cancelledLine.FindStringSubmatch(line)[1])
		if err != nil || d > time.Second {
			t.Errorf("%s: an attempt stopped slowly: %s", what, line)
		}
	}
	if runtime.GOOS != "linux" {
		return
	}
	const idleWindow = 200 * time.Millisecond
	var used []time.Duration
	for range 3 {
		used = busy(t, c, idleWindow)
		idle := true
		for _, u := range used {
			idle = idle && u < idleWindow/5
		}
		if idle {
			return
		}
	}
	t.Errorf("%s: the executors kept working after the job was cancelled: CPU %v in each of three %s windows", what, used, idleWindow)
}

// TestCancelCluster runs reads and writes of a join that would take
// minutes on a driver and two executor processes, and ends the client's
// context — cancelled, or past its deadline — at random moments once the
// executors work on it: the client gets that context's error and nothing
// else, the executors stop their attempts within a second and go idle,
// a write leaves its target empty, and the client's allocator is back to
// zero (goroutines: TestMain).
func TestCancelCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts OS processes")
	}
	c := clustertest.Start(t, clustertest.Options{Executors: 2})
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s := cancelSession(t, mem, flint.WithDriver(c.Addr()))
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	collect := func(ctx context.Context) error {
		bs, err := s.SQL(ctx, endlessJoinSQL).Collect(ctx)
		defer release(bs)
		if err == nil {
			return fmt.Errorf("Collect answered %q", batchRows(bs))
		}
		return nonEmpty(len(bs), err)
	}
	count := func(ctx context.Context) error {
		n, err := s.SQL(ctx, endlessJoinSQL).Count(ctx)
		if err == nil || n != 0 {
			return fmt.Errorf("Count answered %d (%w)", n, err)
		}
		return err
	}
	save := func(ctx context.Context) error {
		dir := filepath.Join(t.TempDir(), "out")
		_, err := s.SQL(ctx, "select a.l_orderkey, b.l_partkey from lineitem a join lineitem b on a.l_linestatus = b.l_linestatus").
			Write().Format("parquet").Save(ctx, dir)
		if err == nil {
			return errors.New("Save succeeded")
		}
		checkNothingWritten(t, dir)
		return err
	}
	for i, r := range []struct {
		name     string
		run      func(context.Context) error
		deadline bool
	}{{"Collect", collect, false}, {"Count", count, true}, {"Save", save, false}, {"Save", save, true}} {
		delay := time.Duration(300+rng.IntN(300)) * time.Millisecond
		what := fmt.Sprintf("run %d: %s, %s after %s", i, r.name, map[bool]string{false: "cancelled", true: "deadline"}[r.deadline], delay)
		before := len(cancelledTasks(c))
		ctx, cancel, want := endingContext(delay, r.deadline)
		start := time.Now()
		err := r.run(ctx)
		cancel()
		if !errors.Is(err, want) {
			t.Fatalf("%s: %v, want %v", what, err, want)
		}
		if el := time.Since(start) - delay; el > stopWithin {
			t.Errorf("%s: returned %s after its context ended", what, el)
		}
		checkExecutorsStop(t, c, before, what)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	mem.AssertSize(t, 0)
}
