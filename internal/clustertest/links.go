package clustertest

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"

	"github.com/flint-engine/flint/internal/porttest"
)

// raftLinks stands between the members of a replicated group
// (Options.Partitionable): member i binds its raft transport on its own
// loopback IP, memberIP(i), from which its outgoing raft connections
// leave too, and the group knows it by a proxy address on 127.0.0.1. The
// proxy of member j tells a connection from member i by its source IP
// and relays it unless the pair is cut: a network partition between
// members, on one machine and without privileges, acting on both
// directions whichever side dialled.
type raftLinks struct {
	n int
	// binds are the members' real raft addresses; proxies the listeners
	// the group knows them by.
	binds   []string
	proxies []net.Listener

	mu     sync.Mutex
	cut    map[[2]int]bool
	conns  map[[2]int]map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

// memberIP is member i's loopback IP: 127.0.1.(i+1), none of them the
// 127.0.0.1 every other process dials from.
func memberIP(i int) string { return "127.0.1." + strconv.Itoa(i+1) }

// newRaftLinks starts the proxies of n members.
func newRaftLinks(n int) (*raftLinks, error) {
	l := &raftLinks{n: n, cut: map[[2]int]bool{}, conns: map[[2]int]map[net.Conn]bool{}}
	for i := 0; i < n; i++ {
		port, err := freePortOn(memberIP(i))
		if err != nil {
			l.close()
			return nil, err
		}
		l.binds = append(l.binds, net.JoinHostPort(memberIP(i), strconv.Itoa(port)))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			l.close()
			return nil, fmt.Errorf("raft proxy: %w", err)
		}
		l.proxies = append(l.proxies, ln)
	}
	for j := range l.proxies {
		l.wg.Add(1)
		go l.serve(j)
	}
	return l, nil
}

// addr is the address the group knows member i's raft transport by.
func (l *raftLinks) addr(i int) string { return l.proxies[i].Addr().String() }

// pair is the unordered pair of members a and b.
func pair(a, b int) [2]int { return [2]int{min(a, b), max(a, b)} }

// serve relays connections to member j.
func (l *raftLinks) serve(j int) {
	defer l.wg.Done()
	for {
		in, err := l.proxies[j].Accept()
		if err != nil {
			return
		}
		from := -1
		if a, ok := in.RemoteAddr().(*net.TCPAddr); ok {
			for i := 0; i < l.n; i++ {
				if a.IP.String() == memberIP(i) {
					from = i
				}
			}
		}
		l.wg.Add(1)
		go l.relay(in, from, j)
	}
}

// relay copies between in (from member from, -1: not a member) and
// member to until either side ends or the pair is cut.
func (l *raftLinks) relay(in net.Conn, from, to int) {
	defer l.wg.Done()
	p := pair(from, to)
	l.mu.Lock()
	if l.closed || (from >= 0 && l.cut[p]) {
		l.mu.Unlock()
		in.Close()
		return
	}
	l.mu.Unlock()
	out, err := net.Dial("tcp", l.binds[to])
	if err != nil {
		in.Close()
		return
	}
	l.mu.Lock()
	if l.closed || (from >= 0 && l.cut[p]) {
		l.mu.Unlock()
		in.Close()
		out.Close()
		return
	}
	if l.conns[p] == nil {
		l.conns[p] = map[net.Conn]bool{}
	}
	l.conns[p][in], l.conns[p][out] = true, true
	l.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(out, in); done <- struct{}{} }()
	go func() { io.Copy(in, out); done <- struct{}{} }()
	<-done
	in.Close()
	out.Close()
	<-done
	l.mu.Lock()
	delete(l.conns[p], in)
	delete(l.conns[p], out)
	l.mu.Unlock()
}

// isolate cuts member i off from every other member: their connections
// are closed and new ones refused until heal.
func (l *raftLinks) isolate(i int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for j := 0; j < l.n; j++ {
		if j == i {
			continue
		}
		p := pair(i, j)
		l.cut[p] = true
		for c := range l.conns[p] {
			c.Close()
		}
	}
}

// heal restores every link.
func (l *raftLinks) heal() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.cut)
}

// close stops the proxies and their connections.
func (l *raftLinks) close() {
	l.mu.Lock()
	l.closed = true
	for _, cs := range l.conns {
		for c := range cs {
			c.Close()
		}
	}
	l.mu.Unlock()
	for _, ln := range l.proxies {
		ln.Close()
	}
	l.wg.Wait()
}

// freePortOn finds a port free on ip and not handed out before.
func freePortOn(ip string) (int, error) { return porttest.Free(ip) }
