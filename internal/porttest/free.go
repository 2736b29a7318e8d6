package porttest

import (
	"fmt"
	"net"
	"sync"
)

var (
	givenMu sync.Mutex
	given   = map[string]bool{} // host:port handed out by Free in this process
)

// Free returns a port on host that was free when asked and that Free
// has not returned before in this process. The system may hand out a
// port again as soon as the listener that found it closes, so ports
// found one after another can repeat: two members of a group told the
// same address, the second failing to bind while the first answers on
// its behalf.
func Free(host string) (int, error) {
	givenMu.Lock()
	defer givenMu.Unlock()
	for try := 0; try < 1000; try++ {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, fmt.Errorf("find a free port on %s: %w", host, err)
		}
		addr := l.Addr().String()
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !given[addr] {
			given[addr] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("find a free port on %s: every port found was handed out before", host)
}

// FreeAddr is Free on 127.0.0.1, as host:port.
func FreeAddr() (string, error) {
	port, err := Free("127.0.0.1")
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(port)), nil
}
