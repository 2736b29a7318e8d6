package replica

import (
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// tcpStream is the raft transport's TCP stream layer. It is raft's own
// (raft.NewTCPTransport) but for one thing: when the member binds a
// specific IP, its outgoing connections leave from that IP too. On a host
// with several addresses the peers then see each member at the address
// the group knows it by, so that a firewall rule between two members —
// or a test cutting one off behind a proxy — acts on the pair, whichever
// side dialled.
type tcpStream struct {
	ln        *net.TCPListener
	advertise net.Addr
	dialer    net.Dialer
}

// newTCPStream listens on bind; advertise is the address the group knows
// this member by.
func newTCPStream(bind string, advertise net.Addr) (*tcpStream, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	s := &tcpStream{ln: ln.(*net.TCPListener), advertise: advertise}
	if local := s.ln.Addr().(*net.TCPAddr); !local.IP.IsUnspecified() {
		s.dialer.LocalAddr = &net.TCPAddr{IP: local.IP}
	}
	if a, ok := advertise.(*net.TCPAddr); !ok || a.IP == nil || a.IP.IsUnspecified() {
		ln.Close()
		return nil, fmt.Errorf("%v is not an address peers can reach", advertise)
	}
	return s, nil
}

// Dial implements raft.StreamLayer.
func (s *tcpStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := s.dialer
	d.Timeout = timeout
	return d.Dial("tcp", string(address))
}

// Accept, Close and Addr implement net.Listener.
func (s *tcpStream) Accept() (net.Conn, error) { return s.ln.Accept() }
func (s *tcpStream) Close() error              { return s.ln.Close() }
func (s *tcpStream) Addr() net.Addr            { return s.advertise }
