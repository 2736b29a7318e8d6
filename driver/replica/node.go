package replica

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/flint-engine/flint/coordinator"
)

// Peer is one member of the group.
type Peer struct {
	// ID is the member's raft server ID (flint driver --raft-id).
	ID string
	// RaftAddr is where its raft transport listens; ClientAddr where its
	// Driver service does (what clients and executors are sent to).
	RaftAddr, ClientAddr string
}

// ParsePeers parses "id=RAFTHOST:PORT@HOST:PORT,..." (flint driver
// --peers).
func ParsePeers(s string) ([]Peer, error) {
	var out []Peer
	seen := map[string]bool{}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		id, addrs, ok := strings.Cut(part, "=")
		raftAddr, client, ok2 := strings.Cut(addrs, "@")
		if !ok || !ok2 || id == "" || raftAddr == "" || client == "" {
			return nil, fmt.Errorf("peer %d %q: want ID=RAFTHOST:PORT@HOST:PORT", i+1, part)
		}
		for _, a := range []string{raftAddr, client} {
			if _, _, err := net.SplitHostPort(a); err != nil {
				return nil, fmt.Errorf("peer %d %q: %w", i+1, part, err)
			}
		}
		if seen[id] {
			return nil, fmt.Errorf("peer %d: id %q listed twice", i+1, id)
		}
		seen[id] = true
		out = append(out, Peer{ID: id, RaftAddr: raftAddr, ClientAddr: client})
	}
	return out, nil
}

// Config configures a member.
type Config struct {
	// ID is this member's raft ID; it must be one of Peers.
	ID string
	// Listen is the raft transport's bind address; empty: this member's
	// RaftAddr in Peers.
	Listen string
	// Dir holds the raft log and stable store (raft.db) and snapshots.
	Dir   string
	Peers []Peer
	// OnLeader is told of every leadership change of this member (true:
	// it leads now, from term), in order, from one goroutine.
	OnLeader func(leader bool, term uint64)
	// Logger receives raft's own log, warnings and errors (default
	// slog.Default()), each line as one record with raft's fields as
	// attributes.
	Logger *slog.Logger
	// HeartbeatTimeout and ElectionTimeout (default 500ms each) bound how
	// long a group goes without a leader after losing one; tests shorten
	// them. SnapshotThreshold (default 4096) is how many entries a log
	// grows before a snapshot.
	HeartbeatTimeout, ElectionTimeout time.Duration
	SnapshotThreshold                 uint64
	// TrailingLogs (default 10240) entries are kept after a snapshot for
	// followers that lag.
	TrailingLogs uint64
	// SnapshotInterval is how often raft checks whether a snapshot is due
	// (default raft's, two minutes); tests shorten it.
	SnapshotInterval time.Duration
	// Join starts a member that a running group is to add (AddMember on
	// its leader; flint driver --join): it never bootstraps, even from an
	// empty directory, and waits to be contacted. Peers then lists the
	// group's members and this one, as etcd's initial cluster with state
	// "existing".
	Join bool
}

// ErrNotLeader is returned by Apply on a member that does not lead (any
// more). The entry may still have been committed if leadership was lost
// while it was proposed.
var ErrNotLeader = errors.New("replica: not the leader")

// ErrNotCommitted is returned by Apply when raft failed otherwise (a
// full queue, a timeout): the entry may or may not be committed, so the
// caller's copy of the state can no longer be trusted.
var ErrNotCommitted = errors.New("replica: entry not known to be committed")

// Node is one running member.
type Node struct {
	cfg     Config
	raft    *raft.Raft
	fsm     *fsm
	trans   *raft.NetworkTransport
	store   *raftboltdb.BoltStore
	clients map[string]string // raft ID -> client address
	notify  chan bool
	done    chan struct{}
	wg      sync.WaitGroup
	closeMu sync.Mutex
	closed  bool

	// leaderMu guards leaderlessSince: when this member last saw the
	// group lose its leader (zero while it knows one).
	leaderMu        sync.Mutex
	leaderlessSince time.Time
}

// Open starts a member: its stores in cfg.Dir, its transport, and — when
// the directory holds no raft state — the bootstrap of the group from
// cfg.Peers.
func Open(cfg Config) (*Node, error) {
	if cfg.ID == "" || cfg.Dir == "" {
		return nil, errors.New("replica: a member needs an ID and a directory")
	}
	self := -1
	clients := map[string]string{}
	servers := make([]raft.Server, 0, len(cfg.Peers))
	for i, p := range cfg.Peers {
		if p.ID == cfg.ID {
			self = i
		}
		clients[p.ID] = p.ClientAddr
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.RaftAddr)})
	}
	if self < 0 {
		return nil, fmt.Errorf("replica: member %q is not among the peers", cfg.ID)
	}
	if cfg.Listen == "" {
		cfg.Listen = cfg.Peers[self].RaftAddr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HeartbeatTimeout <= 0 {
		cfg.HeartbeatTimeout = 500 * time.Millisecond
	}
	if cfg.ElectionTimeout <= 0 {
		cfg.ElectionTimeout = 500 * time.Millisecond
	}
	if cfg.SnapshotThreshold == 0 {
		cfg.SnapshotThreshold = 4096
	}
	if cfg.TrailingLogs == 0 {
		cfg.TrailingLogs = 10240
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("replica: %w", err)
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, JSONFormat: true, Output: slogWriter{cfg.Logger}})
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.HeartbeatTimeout, rc.ElectionTimeout = cfg.HeartbeatTimeout, cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.HeartbeatTimeout / 2
	rc.SnapshotThreshold, rc.TrailingLogs = cfg.SnapshotThreshold, cfg.TrailingLogs
	if cfg.SnapshotInterval > 0 {
		rc.SnapshotInterval = cfg.SnapshotInterval
	}
	rc.Logger = logger
	n := &Node{cfg: cfg, fsm: &fsm{im: newImage()}, clients: clients, notify: make(chan bool, 8), done: make(chan struct{}),
		leaderlessSince: time.Now()}
	rc.NotifyCh = n.notify

	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.Dir, "raft.db")})
	if err != nil {
		return nil, fmt.Errorf("replica: open %s: %w", filepath.Join(cfg.Dir, "raft.db"), err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, 2, logger)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("replica: snapshots in %s: %w", cfg.Dir, err)
	}
	advertise, err := net.ResolveTCPAddr("tcp", cfg.Peers[self].RaftAddr)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("replica: raft address %s: %w", cfg.Peers[self].RaftAddr, err)
	}
	stream, err := newTCPStream(cfg.Listen, advertise)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("replica: raft transport on %s: %w", cfg.Listen, err)
	}
	trans := raft.NewNetworkTransportWithLogger(stream, 3, 10*time.Second, logger)
	existing, err := raft.HasExistingState(store, store, snaps)
	if err == nil && !existing && !cfg.Join {
		err = raft.BootstrapCluster(rc, store, store, snaps, trans, raft.Configuration{Servers: servers})
	}
	if err != nil {
		trans.Close()
		store.Close()
		return nil, fmt.Errorf("replica: bootstrap: %w", err)
	}
	r, err := raft.NewRaft(rc, n.fsm, store, store, snaps, trans)
	if err != nil {
		trans.Close()
		store.Close()
		return nil, fmt.Errorf("replica: start raft: %w", err)
	}
	n.raft, n.trans, n.store = r, trans, store
	observed := make(chan raft.Observation, 16)
	r.RegisterObserver(raft.NewObserver(observed, true, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	}))
	n.wg.Add(2)
	go n.leadership()
	go n.watchLeader(observed)
	return n, nil
}

// watchLeader keeps leaderlessSince from raft's leader observations.
func (n *Node) watchLeader(observed <-chan raft.Observation) {
	defer n.wg.Done()
	for {
		select {
		case <-n.done:
			return
		case o := <-observed:
			lo := o.Data.(raft.LeaderObservation)
			n.leaderMu.Lock()
			if lo.LeaderID == "" && n.leaderlessSince.IsZero() {
				n.leaderlessSince = time.Now()
			} else if lo.LeaderID != "" {
				n.leaderlessSince = time.Time{}
			}
			n.leaderMu.Unlock()
		}
	}
}

// Leaderless is how long this member has known of no leader (0 while it
// knows one). A group that keeps a majority elects one within a few
// election timeouts: much longer means it has lost its quorum.
func (n *Node) Leaderless() time.Duration {
	if id, _ := n.Leader(); id != "" {
		return 0
	}
	n.leaderMu.Lock()
	defer n.leaderMu.Unlock()
	if n.leaderlessSince.IsZero() {
		// raft has not told of the loss yet
		n.leaderlessSince = time.Now()
	}
	return time.Since(n.leaderlessSince)
}

// leadership passes raft's leadership notifications to OnLeader.
func (n *Node) leadership() {
	defer n.wg.Done()
	for {
		select {
		case <-n.done:
			return
		case lead := <-n.notify:
			if n.cfg.OnLeader != nil {
				n.cfg.OnLeader(lead, n.raft.CurrentTerm())
			}
		}
	}
}

// Apply proposes an entry and waits until it is committed and applied
// here (at most timeout). It returns what the coordinator said of the
// event (its error when the state rejected it, which then changed
// nothing anywhere); ErrNotLeader or ErrNotCommitted (wrapped) when raft
// failed.
func (n *Node) Apply(e Entry, timeout time.Duration) (coordinator.Result, error) {
	data, err := encodeEntry(e)
	if err != nil {
		return coordinator.Result{}, err
	}
	f := n.raft.Apply(data, timeout)
	if err := raftError(f.Error()); err != nil {
		return coordinator.Result{}, err
	}
	a, _ := f.Response().(applied)
	return a.res, a.err
}

// ApplyBatch proposes events as one entry (Entry.Batch) and waits as
// Apply does; it returns what the state said of each, or the raft error.
func (n *Node) ApplyBatch(unixMs int64, events []coordinator.Event, timeout time.Duration) ([]Applied, error) {
	data, err := encodeEntry(Entry{UnixMs: unixMs, Batch: events})
	if err != nil {
		return nil, err
	}
	f := n.raft.Apply(data, timeout)
	if err := raftError(f.Error()); err != nil {
		return nil, err
	}
	a, _ := f.Response().(applied)
	if a.err != nil {
		return nil, a.err
	}
	return a.batch, nil
}

// raftError wraps raft's failures in ErrNotLeader or ErrNotCommitted.
func raftError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrRaftShutdown),
		errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: %v", ErrNotLeader, err)
	}
	return fmt.Errorf("%w: %v", ErrNotCommitted, err)
}

// Barrier waits until every entry committed before it has been applied
// here; a new leader calls it before reading the image.
func (n *Node) Barrier(timeout time.Duration) error {
	if err := n.raft.Barrier(timeout).Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return fmt.Errorf("%w: %v", ErrNotLeader, err)
		}
		return fmt.Errorf("replica: barrier: %w", err)
	}
	return nil
}

// Image is a copy of the replicated state as applied here so far.
func (n *Node) Image() (*Image, error) {
	n.fsm.mu.Lock()
	defer n.fsm.mu.Unlock()
	return n.fsm.im.Clone()
}

// IsLeader reports whether this member leads now.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Leader is the current leader's ID and client address as this member
// knows them ("" when it knows of none).
func (n *Node) Leader() (id, clientAddr string) {
	_, lid := n.raft.LeaderWithID()
	return string(lid), n.clientAddr(string(lid))
}

// clientAddr is a member's client address: from the configured peers,
// or as recorded when the member was added.
func (n *Node) clientAddr(id string) string {
	if a, ok := n.clients[id]; ok {
		return a
	}
	n.fsm.mu.Lock()
	defer n.fsm.mu.Unlock()
	return n.fsm.im.Members[id].ClientAddr
}

// Members lists the group's members as raft's latest configuration has
// them (voters and non-voters), with their client addresses.
func (n *Node) Members() ([]Peer, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("replica: configuration: %w", err)
	}
	var out []Peer
	for _, s := range f.Configuration().Servers {
		out = append(out, Peer{ID: string(s.ID), RaftAddr: string(s.Address), ClientAddr: n.clientAddr(string(s.ID))})
	}
	return out, nil
}

// AddMember adds p to the group as a voter, on the leader: its
// addresses are committed first (so that every member can send clients
// to it once it leads), then raft's configuration changes. p must be
// running with Config.Join (or be a former member restarting); it then
// catches up from the leader's log or snapshot. Adding a member that is
// already one with the same addresses changes nothing.
func (n *Node) AddMember(p Peer, timeout time.Duration) error {
	if p.ID == "" || p.RaftAddr == "" || p.ClientAddr == "" {
		return errors.New("replica: a member needs an ID, a raft address and a client address")
	}
	members, err := n.Members()
	if err != nil {
		return err
	}
	for _, m := range members {
		switch {
		case m.ID == p.ID && m.RaftAddr == p.RaftAddr:
			return nil
		case m.ID == p.ID:
			return fmt.Errorf("replica: member %s is already in the group at raft address %s", p.ID, m.RaftAddr)
		case m.RaftAddr == p.RaftAddr:
			return fmt.Errorf("replica: raft address %s is member %s's", p.RaftAddr, m.ID)
		}
	}
	if _, err := n.Apply(Entry{UnixMs: time.Now().UnixMilli(), Member: &p}, timeout); err != nil {
		return err
	}
	return raftError(n.raft.AddVoter(raft.ServerID(p.ID), raft.ServerAddress(p.RaftAddr), 0, timeout).Error())
}

// RemoveMember removes member id from the group, on the leader. A leader
// removing itself steps down once the change is committed; the others
// elect one among themselves.
func (n *Node) RemoveMember(id string, timeout time.Duration) error {
	members, err := n.Members()
	if err != nil {
		return err
	}
	known := false
	for _, m := range members {
		known = known || m.ID == id
	}
	if !known {
		return fmt.Errorf("replica: no member %q in the group", id)
	}
	if len(members) == 1 {
		return fmt.Errorf("replica: %s is the group's only member", id)
	}
	if err := raftError(n.raft.RemoveServer(raft.ServerID(id), 0, timeout).Error()); err != nil {
		return err
	}
	if id == n.cfg.ID {
		return nil // no longer a member: the others forget its address
	}
	_, err = n.Apply(Entry{UnixMs: time.Now().UnixMilli(), Removed: id}, timeout)
	return err
}

// ID is this member's ID.
func (n *Node) ID() string { return n.cfg.ID }

// Status is what a member says of itself (flint drivers).
type Status struct {
	ID, ClientAddr string
	// State is "leader", "follower", "candidate" or "shutdown".
	State     string
	Term      uint64
	LastIndex uint64
	// Applied is the last index applied to the state here.
	Applied uint64
	Leader  string
	// Leaderless is how long the member has known of no leader.
	Leaderless time.Duration
}

// Status describes this member now.
func (n *Node) Status() Status {
	lid, _ := n.Leader()
	return Status{ID: n.cfg.ID, ClientAddr: n.clients[n.cfg.ID], State: strings.ToLower(n.raft.State().String()),
		Term: n.raft.CurrentTerm(), LastIndex: n.raft.LastIndex(), Applied: n.raft.AppliedIndex(), Leader: lid,
		Leaderless: n.Leaderless()}
}

// Peers is the group as configured.
func (n *Node) Peers() []Peer { return append([]Peer(nil), n.cfg.Peers...) }

// Handover asks another member to lead now (a leader stopping cleanly),
// so that the group does not wait for an election timeout. It waits at
// most timeout.
func (n *Node) Handover(timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- n.raft.LeadershipTransfer().Error() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("replica: handing the lead over: no answer within %s", timeout)
	}
}

// Snapshot takes a snapshot now (tests; raft takes them by itself past
// SnapshotThreshold).
func (n *Node) Snapshot() error { return n.raft.Snapshot().Error() }

// Close leaves the group's work to the others: raft stops, the transport
// and the store close. Idempotent.
func (n *Node) Close() error {
	n.closeMu.Lock()
	defer n.closeMu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	err := n.raft.Shutdown().Error()
	close(n.done)
	n.wg.Wait()
	// The pooled connections to the other members are closed too, so
	// that their transports' readers of them end.
	n.trans.CloseStreams()
	return errors.Join(err, n.trans.Close(), n.store.Close())
}
