//go:build !linux

package monitor

import (
	"errors"
	"net/netip"
)

// echoSocket stands in where failwatch has no ICMP sockets: its probes use
// Linux's raw and ping sockets.
type echoSocket struct{ pending }

func openEchoSocket(bool, bool, [8]byte) (*echoSocket, error) {
	return nil, errors.New("ICMP probes need Linux")
}

func (*echoSocket) send(netip.Addr, uint16, int) error { return errors.New("ICMP probes need Linux") }

func (*echoSocket) close() error { return nil }
