package replica

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/flint-engine/flint/coordinator"
	"github.com/flint-engine/flint/internal/porttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// group is a test group of members on 127.0.0.1, each with its own dir.
type group struct {
	t     *testing.T
	peers []Peer
	dirs  []string
	nodes []*Node
	// leads records the OnLeader calls, per member.
	mu    sync.Mutex
	leads [][]bool
	tune  func(*Config)
}

// freeAddr is an address free on 127.0.0.1 and not handed out before.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := porttest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// newGroup opens n members on free addresses. An address is free when
// chosen and taken when bound: if another test's connection took one in
// between, the group opens again on new addresses.
func newGroup(t *testing.T, n int, tune func(*Config)) *group {
	var g *group
	err := porttest.Retry(5, 0, func() error {
		g = &group{t: t, nodes: make([]*Node, n), leads: make([][]bool, n), tune: tune}
		for i := range n {
			g.peers = append(g.peers, Peer{ID: fmt.Sprintf("d%d", i+1), RaftAddr: freeAddr(t), ClientAddr: fmt.Sprintf("client-%d:1", i+1)})
			g.dirs = append(g.dirs, t.TempDir())
		}
		for i := range n {
			if err := g.tryStart(i); err != nil {
				for j := range g.nodes {
					g.stop(j)
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := range g.nodes {
			g.stop(i)
		}
	})
	return g
}

// start opens member i (again), retrying for a while when its address is
// still held: one freed a moment ago may be.
func (g *group) start(i int) {
	g.t.Helper()
	if err := porttest.Retry(30, 100*time.Millisecond, func() error { return g.tryStart(i) }); err != nil {
		g.t.Fatal(err)
	}
}

// tryStart opens member i, returning the error.
func (g *group) tryStart(i int) error {
	cfg := Config{ID: g.peers[i].ID, Dir: g.dirs[i], Peers: g.peers, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		HeartbeatTimeout: 150 * time.Millisecond, ElectionTimeout: 150 * time.Millisecond,
		OnLeader: func(lead bool, _ uint64) {
			g.mu.Lock()
			g.leads[i] = append(g.leads[i], lead)
			g.mu.Unlock()
		}}
	if g.tune != nil {
		g.tune(&cfg)
	}
	n, err := Open(cfg)
	if err != nil {
		return fmt.Errorf("open %s: %w", cfg.ID, err)
	}
	g.nodes[i] = n
	return nil
}

func (g *group) stop(i int) {
	if g.nodes[i] != nil {
		if err := g.nodes[i].Close(); err != nil {
			g.t.Errorf("close %s: %v", g.peers[i].ID, err)
		}
		g.nodes[i] = nil
	}
}

// leader waits for one running member to lead and returns its index.
func (g *group) leader() int {
	g.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i, n := range g.nodes {
			if n != nil && n.IsLeader() {
				return i
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	g.t.Fatal("no leader elected within 10s")
	return -1
}

// converge waits until every running member has applied what member i
// has and returns their images.
func (g *group) converge(i int) []*Image {
	g.t.Helper()
	want := g.nodes[i].raft.AppliedIndex()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ims []*Image
		behind := ""
		for j, n := range g.nodes {
			if n == nil {
				continue
			}
			if n.raft.AppliedIndex() < want {
				behind = g.peers[j].ID
			}
			im, err := n.Image()
			if err != nil {
				g.t.Fatal(err)
			}
			ims = append(ims, im)
		}
		if behind == "" && agree(ims) {
			return ims
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("members did not converge on index %d within 10s (behind: %q)", want, behind)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (g *group) apply(i int, e Entry) coordinator.Result {
	g.t.Helper()
	res, err := g.nodes[i].Apply(e, 5*time.Second)
	if err != nil {
		g.t.Fatalf("apply %#v on %s: %v", e.Event, g.peers[i].ID, err)
	}
	return res
}

func job(id string, tasks int) coordinator.JobSubmitted {
	return coordinator.JobSubmitted{ID: id, MaxAttempts: 2, Stages: []coordinator.StageSpec{{ID: 0, Tasks: tasks}}}
}

// agree reports whether the images hold the same state and records.
func agree(ims []*Image) bool {
	for _, im := range ims[1:] {
		if !reflect.DeepEqual(im.State, ims[0].State) || !reflect.DeepEqual(im.Records, ims[0].Records) {
			return false
		}
	}
	return true
}

// sameState fails unless the images hold the same state and records.
func sameState(t *testing.T, ims []*Image) {
	t.Helper()
	for _, im := range ims[1:] {
		if !reflect.DeepEqual(im.State, ims[0].State) || !reflect.DeepEqual(im.Records, ims[0].Records) {
			t.Fatalf("members disagree:\n%+v %v\n%+v %v", ims[0].State, ims[0].Records, im.State, im.Records)
		}
	}
}

// TestElectAndReplicate: three members elect one leader; entries applied
// there reach every member with their records; a follower refuses to
// apply; a rejected event changes nothing anywhere.
func TestElectAndReplicate(t *testing.T) {
	g := newGroup(t, 3, nil)
	l := g.leader()
	g.apply(l, Entry{UnixMs: 1000, Event: coordinator.ExecutorRegistered{ID: "e1", Addr: "x:1", Slots: 2}})
	g.apply(l, Entry{UnixMs: 1001, Event: job("j1", 2), Records: []Record{{Job: "j1", Name: "submit", Data: []byte("plan")}}})
	g.apply(l, Entry{UnixMs: 1002, Event: coordinator.TaskStarted{Job: "j1", Stage: 0, Task: 0, Attempt: 1, Executor: "e1"}})
	if _, err := g.nodes[l].Apply(Entry{Event: coordinator.TaskStarted{Job: "j1", Stage: 0, Task: 0, Attempt: 1, Executor: "e1"}}, time.Second); err == nil ||
		errors.Is(err, ErrNotLeader) {
		t.Fatalf("starting a running task again: err %v, want the coordinator's error", err)
	}
	// Records of a stale event are dropped: the same key again.
	keyed := job("j2", 1)
	keyed.Key = "k"
	g.apply(l, Entry{Event: keyed, Records: []Record{{Job: "j2", Name: "submit", Data: []byte("a")}}})
	again := job("j3", 1)
	again.Key = "k"
	if res := g.apply(l, Entry{Event: again, Records: []Record{{Job: "j3", Name: "submit", Data: []byte("b")}}}); !res.Stale {
		t.Fatal("a second job under the same key must be stale")
	}
	// A batch: each event on its own, the rejected one changing nothing.
	g.apply(l, Entry{Event: coordinator.ExecutorRegistered{ID: "e2", Addr: "y:1", Slots: 1}})
	got, err := g.nodes[l].ApplyBatch(1003, []coordinator.Event{
		coordinator.TaskStarted{Job: "j1", Stage: 0, Task: 1, Attempt: 1, Executor: "e2"},
		coordinator.TaskStarted{Job: "j2", Stage: 0, Task: 0, Attempt: 1, Executor: "e2"}, // e2 is full
	}, 5*time.Second)
	if err != nil || len(got) != 2 || got[0].Err != nil || got[1].Err == nil {
		t.Fatalf("batch: %+v, %v; want the first applied, the second rejected", got, err)
	}
	f := (l + 1) % 3
	if _, err := g.nodes[f].ApplyBatch(0, []coordinator.Event{job("j5", 1)}, time.Second); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("batch on a follower: %v, want ErrNotLeader", err)
	}
	if _, err := g.nodes[f].Apply(Entry{Event: job("j4", 1)}, time.Second); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("apply on a follower: %v, want ErrNotLeader", err)
	}
	ims := g.converge(l)
	sameState(t, ims)
	im := ims[0]
	if task := im.State.Jobs["j1"].Stages[0].Tasks[0]; task.Status != coordinator.Running || task.Executor != "e1" {
		t.Fatalf("replicated task: %+v", task)
	}
	if task := im.State.Jobs["j1"].Stages[0].Tasks[1]; task.Status != coordinator.Running || task.Executor != "e2" {
		t.Fatalf("replicated task of the batch: %+v", task)
	}
	if task := im.State.Jobs["j2"].Stages[0].Tasks[0]; task.Status != coordinator.Pending {
		t.Fatalf("the rejected event of the batch changed the state: %+v", task)
	}
	if got := string(im.Records["j1"]["submit"]); got != "plan" {
		t.Fatalf("record j1/submit = %q", got)
	}
	if _, ok := im.Records["j3"]; ok || im.State.Jobs["j3"] != nil {
		t.Fatal("the stale submission left state behind")
	}
	if im.UnixMs != 1003 {
		t.Fatalf("image time %d, want the last stamped 1003", im.UnixMs)
	}
	if id, addr := g.nodes[f].Leader(); id != g.peers[l].ID || addr != g.peers[l].ClientAddr {
		t.Fatalf("follower names leader %s at %s, want %s at %s", id, addr, g.peers[l].ID, g.peers[l].ClientAddr)
	}
	st := g.nodes[l].Status()
	if st.State != "leader" || st.Term == 0 || st.LastIndex < 5 || st.ClientAddr != g.peers[l].ClientAddr {
		t.Fatalf("leader status %+v", st)
	}
}

// TestLeaderLoss: when the leader goes, the two others elect a new one
// that holds every committed entry, tells its driver (OnLeader), and goes
// on; the old member, back from its directory, catches up as a follower.
func TestLeaderLoss(t *testing.T) {
	g := newGroup(t, 3, nil)
	l := g.leader()
	g.apply(l, Entry{Event: coordinator.ExecutorRegistered{ID: "e1", Addr: "x:1", Slots: 1}})
	g.apply(l, Entry{Event: job("j1", 1), Records: []Record{{Job: "j1", Name: "submit", Data: []byte("p")}}})
	g.stop(l)
	l2 := g.leader()
	if l2 == l {
		t.Fatal("a stopped member leads")
	}
	if err := g.nodes[l2].Barrier(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	im, err := g.nodes[l2].Image()
	if err != nil {
		t.Fatal(err)
	}
	if im.State.Jobs["j1"] == nil || string(im.Records["j1"]["submit"]) != "p" {
		t.Fatalf("new leader lacks the committed job: %+v", im)
	}
	g.mu.Lock()
	leads := append([]bool(nil), g.leads[l2]...)
	g.mu.Unlock()
	if len(leads) == 0 || !leads[len(leads)-1] {
		t.Fatalf("new leader's OnLeader calls: %v", leads)
	}
	g.apply(l2, Entry{Event: coordinator.TaskStarted{Job: "j1", Stage: 0, Task: 0, Attempt: 1, Executor: "e1"}})
	g.apply(l2, Entry{Event: coordinator.TaskSucceeded{Job: "j1", Stage: 0, Task: 0, Attempt: 1}})
	g.start(l)
	ims := g.converge(l2)
	sameState(t, ims)
	if len(ims) != 3 || ims[0].State.Jobs["j1"].Status != coordinator.StatusSucceeded {
		t.Fatalf("after catching up: %d members, job %+v", len(ims), ims[0].State.Jobs["j1"])
	}
}

// TestSnapshotCatchUp: a member that was down while the log was
// compacted past its position is sent the leader's snapshot, and every
// member restarted from its directory restores state from its own
// snapshot and log.
func TestSnapshotCatchUp(t *testing.T) {
	g := newGroup(t, 3, func(c *Config) { c.SnapshotThreshold, c.TrailingLogs = 8, 4 })
	l := g.leader()
	g.apply(l, Entry{Event: coordinator.ExecutorRegistered{ID: "e1", Addr: "x:1", Slots: 4}})
	down := (l + 1) % 3
	g.stop(down)
	for i := range 40 {
		id := fmt.Sprintf("j%02d", i)
		g.apply(l, Entry{Event: job(id, 1), Records: []Record{{Job: id, Name: "submit", Data: []byte(id)}}})
		if i%2 == 0 {
			g.apply(l, Entry{Event: coordinator.JobCancelled{Job: id, Reason: "test"}})
			g.apply(l, Entry{Event: coordinator.JobForgotten{Job: id}})
		}
	}
	for i, n := range g.nodes {
		if n != nil {
			if err := n.Snapshot(); err != nil {
				t.Fatalf("snapshot on %s: %v", g.peers[i].ID, err)
			}
		}
	}
	g.start(down)
	ims := g.converge(l)
	sameState(t, ims)
	if n := len(ims[0].State.Jobs); n != 20 || len(ims[0].Records) != 20 {
		t.Fatalf("%d jobs and %d record sets, want 20 each", n, len(ims[0].Records))
	}
	// Everyone down, everyone back: the state comes from the directories.
	want := ims[0]
	for i := range g.nodes {
		g.stop(i)
	}
	for i := range g.nodes {
		g.start(i)
	}
	l = g.leader()
	if err := g.nodes[l].Barrier(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	ims = g.converge(l)
	for _, im := range ims {
		if !reflect.DeepEqual(im.State, want.State) || !reflect.DeepEqual(im.Records, want.Records) {
			t.Fatal("a restarted member's state differs from before the restart")
		}
	}
}

func TestEntryRoundTrip(t *testing.T) {
	events := []coordinator.Event{
		coordinator.ExecutorRegistered{ID: "e", Addr: "a:1", Slots: 3, Replaces: "d"}, coordinator.ExecutorLost{ID: "e"},
		coordinator.ExecutorsDetached{}, job("j", 2),
		coordinator.StageTasksSet{Job: "j", Stage: 1, Tasks: 4}, coordinator.TaskStarted{Job: "j", Stage: 1, Task: 2, Attempt: 3, Executor: "e"},
		coordinator.TaskSucceeded{Job: "j", Stage: 1, Task: 2, Attempt: 3},
		coordinator.TaskFailed{Job: "j", Stage: 1, Task: 2, Attempt: 3, Err: "x", Fetch: []coordinator.FetchFailure{{Stage: 0, Task: 1, Executor: "e", Attempt: 2}}},
		coordinator.TaskOutputLost{Job: "j", Stage: 1, Task: 0}, coordinator.JobCancelled{Job: "j", Reason: "r"},
		coordinator.JobAborted{Job: "j", Err: "e"}, coordinator.JobTimedOut{Job: "j", Err: "t"}, coordinator.JobForgotten{Job: "j"},
	}
	for _, ev := range events {
		in := Entry{UnixMs: 7, Event: ev, Records: []Record{{Job: "j", Name: "n", Data: []byte{0, 1}}}, Batch: []coordinator.Event{ev, ev}}
		data, err := encodeEntry(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := decodeEntry(data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("round trip of %T:\n%#v\n%#v", ev, in, out)
		}
	}
	if _, err := decodeEntry([]byte(`{"ev":{"type":"Nope","event":{}}}`)); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Fatalf("unknown event type: %v", err)
	}
}

func TestParsePeers(t *testing.T) {
	got, err := ParsePeers("a=127.0.0.1:7001@127.0.0.1:7077, b=h:2@h:3")
	if err != nil {
		t.Fatal(err)
	}
	want := []Peer{{ID: "a", RaftAddr: "127.0.0.1:7001", ClientAddr: "127.0.0.1:7077"}, {ID: "b", RaftAddr: "h:2", ClientAddr: "h:3"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	for _, bad := range []string{"a=h:1", "a=h:1@", "=h:1@h:2", "a=h1@h:2", "a=h:1@h:2,a=h:3@h:4"} {
		if _, err := ParsePeers(bad); err == nil {
			t.Errorf("ParsePeers(%q) accepted", bad)
		}
	}
}

// TestHandover: a leader hands the lead over to another member, which
// leads in a later term with every entry.
func TestHandover(t *testing.T) {
	g := newGroup(t, 3, nil)
	l := g.leader()
	g.apply(l, Entry{Event: coordinator.ExecutorRegistered{ID: "e1", Addr: "x:1", Slots: 1}})
	term := g.nodes[l].Status().Term
	if err := g.nodes[l].Handover(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	l2 := g.leader()
	if l2 == l || g.nodes[l2].Status().Term <= term {
		t.Fatalf("after the handover member %d leads in term %d (was %d in %d)", l2, g.nodes[l2].Status().Term, l, term)
	}
	g.apply(l2, Entry{Event: job("j1", 1)})
	sameState(t, g.converge(l2))
}

// TestRaftLogToSlog: raft's hclog JSON lines come out as slog records with
// their level, message and fields.
func TestRaftLogToSlog(t *testing.T) {
	var buf strings.Builder
	w := slogWriter{slog.New(slog.NewJSONHandler(&buf, nil))}
	in := `{"@level":"error","@message":"failed to contact","@module":"raft","@timestamp":"x","server-id":"d3","time":251}` + "\n" +
		`{"@level":"warn","@message":"heartbeat timeout reached"}` + "\nnot json\n"
	if n, err := w.Write([]byte(in)); err != nil || n != len(in) {
		t.Fatalf("Write: %d, %v", n, err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d records:\n%s", len(lines), buf.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["level"] != "ERROR" || first["msg"] != "raft: failed to contact" || first["server-id"] != "d3" ||
		first["raft_time"] != float64(251) || first["component"] != "raft" {
		t.Errorf("first record: %v", first)
	}
	if !strings.Contains(lines[1], `"level":"WARN"`) || !strings.Contains(lines[2], `"msg":"not json"`) {
		t.Errorf("records:\n%s", buf.String())
	}
}

// TestMembership: a member started with Join is added through the leader
// and catches up; a follower is removed, then the leader removes itself
// and the others elect one among them that knows the added member's
// client address.
func TestMembership(t *testing.T) {
	g := newGroup(t, 3, nil)
	l := g.leader()
	g.apply(l, Entry{Event: coordinator.ExecutorRegistered{ID: "e1", Addr: "a1", Slots: 2}})
	g.apply(l, Entry{Event: job("j1", 2), Records: []Record{{Job: "j1", Name: "submit", Data: []byte("plan")}}})

	// d4 joins: started with the group's members and itself, no bootstrap.
	d4 := Peer{ID: "d4", RaftAddr: freeAddr(t), ClientAddr: "client-4:1"}
	g.peers = append(g.peers, d4)
	g.dirs = append(g.dirs, t.TempDir())
	g.nodes = append(g.nodes, nil)
	g.mu.Lock()
	g.leads = append(g.leads, nil)
	g.mu.Unlock()
	join := g.tune
	g.tune = func(c *Config) {
		if join != nil {
			join(c)
		}
		c.Join = c.ID == "d4"
	}
	g.start(3)
	if g.nodes[3].IsLeader() {
		t.Fatal("a joining member must not elect itself")
	}
	if err := g.nodes[l].AddMember(d4, 5*time.Second); err != nil {
		t.Fatalf("add d4: %v", err)
	}
	if err := g.nodes[l].AddMember(d4, 5*time.Second); err != nil {
		t.Fatalf("adding d4 again: %v", err)
	}
	if err := g.nodes[l].AddMember(Peer{ID: "d4", RaftAddr: freeAddr(t), ClientAddr: "x:1"}, time.Second); err == nil {
		t.Fatal("adding d4 at another raft address must fail")
	}
	g.apply(l, Entry{Event: job("j2", 1)})
	ims := g.converge(l)
	if len(ims) != 4 || ims[3].State.Jobs["j2"] == nil || string(ims[3].Records["j1"]["submit"]) != "plan" {
		t.Fatalf("d4 did not catch up: %d images", len(ims))
	}
	members, err := g.nodes[3].Members()
	if err != nil || len(members) != 4 || members[3] != d4 {
		t.Fatalf("members seen by d4: %v %v", members, err)
	}

	// A follower leaves.
	f := (l + 1) % 3
	if err := g.nodes[l].RemoveMember(g.peers[f].ID, 5*time.Second); err != nil {
		t.Fatalf("remove %s: %v", g.peers[f].ID, err)
	}
	g.stop(f)
	if err := g.nodes[l].RemoveMember("nobody", time.Second); err == nil {
		t.Fatal("removing an unknown member must fail")
	}
	// The leader leaves: one of the other two (d4 or the third) leads,
	// and every member left knows where to send clients.
	old := l
	if err := g.nodes[old].RemoveMember(g.peers[old].ID, 5*time.Second); err != nil {
		t.Fatalf("leader removing itself: %v", err)
	}
	g.stop(old)
	l = g.leader()
	g.apply(l, Entry{Event: job("j3", 1)})
	g.converge(l)
	members, err = g.nodes[l].Members()
	if err != nil || len(members) != 2 {
		t.Fatalf("members after two left: %v %v", members, err)
	}
	for i, n := range g.nodes {
		if n == nil {
			continue
		}
		if id, addr := n.Leader(); id != g.peers[l].ID || addr != g.peers[l].ClientAddr {
			t.Errorf("%s sees leader %s at %q, want %s at %s", g.peers[i].ID, id, addr, g.peers[l].ID, g.peers[l].ClientAddr)
		}
	}
}
