package routeros

import (
	"net"
	"strings"

	"github.com/failwatch/failwatch/routeros/wire"
)

// fatalFixConn sits between the router and go-routeros, whose reader fails
// on a !fatal reply: RouterOS sends the reason as a bare word
// ("!fatal", "not logged in"), which that reader rejects, losing the reason.
// This reader re-frames each reply, turning the bare words of a !fatal into
// =message=, so the library reports it as a device error with the reason.
type fatalFixConn struct {
	net.Conn
	rd  *wire.Reader
	buf []byte
}

func newFatalFixConn(c net.Conn) net.Conn {
	return &fatalFixConn{Conn: c, rd: wire.NewReader(c)}
}

func (c *fatalFixConn) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		words, err := c.rd.ReadSentence()
		if err != nil {
			return 0, err
		}
		if len(words) > 0 && words[0] == "!fatal" {
			var reason []string
			kept := words[:1]
			for _, w := range words[1:] {
				if strings.HasPrefix(w, "=") || strings.HasPrefix(w, ".") {
					kept = append(kept, w)
				} else {
					reason = append(reason, w)
				}
			}
			words = append(kept, "=message="+strings.Join(reason, " "))
		}
		c.buf = wire.AppendSentence(c.buf[:0], words...)
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}
