package sshserve

import (
	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/failwatch/failwatch/internal/safetext"
)

// A dashboard needs a session channel with a terminal, and nothing else:
// no port forwarding either way, no agent or X11 forwarding, no
// subsystem (sftp), no command but "wall". Everything else is refused
// and logged, so a key that may watch the dashboard cannot reach the jump
// host's network through it.

// sessionRequests are the requests a session may make; exec is further
// limited to "wall" by allowCommand.
var sessionRequests = map[string]bool{
	"pty-req":       true,
	"window-change": true,
	"env":           true,
	"shell":         true,
	"exec":          true,
}

// refuseRequests sets the server to take only session channels, and in
// them only sessionRequests, and no global request for forwarding.
func (s *Server) refuseRequests(srv *ssh.Server) error {
	srv.ChannelHandlers = map[string]ssh.ChannelHandler{
		"session": s.sessionChannel,
		"default": s.refuseChannel,
	}
	srv.RequestHandlers = map[string]ssh.RequestHandler{
		"tcpip-forward":                   s.refuseForward,
		"streamlocal-forward@openssh.com": s.refuseForward,
	}
	srv.SessionRequestCallback = s.allowCommand
	return nil
}

func (s *Server) refuseChannel(_ *ssh.Server, _ *gossh.ServerConn, ch gossh.NewChannel, ctx ssh.Context) {
	s.refusedRequest(ctx, ch.ChannelType())
	ch.Reject(gossh.Prohibited, "failwatch serve serves the dashboard only")
}

func (s *Server) refuseForward(ctx ssh.Context, _ *ssh.Server, req *gossh.Request) (bool, []byte) {
	s.refusedRequest(ctx, req.Type)
	return false, nil
}

// allowCommand lets a session run the dashboard (a shell) or its wall
// layout (exec "wall"), nothing else.
func (s *Server) allowCommand(sess ssh.Session, kind string) bool {
	if kind == "shell" || (kind == "exec" && sess.RawCommand() == "wall") {
		return true
	}
	s.refusedRequest(sess.Context(), kind, "command", safetext.Line(sess.RawCommand()))
	return false
}

// sessionChannel serves a session channel, its requests past the
// allow-list: charm.land/ssh would otherwise accept agent forwarding.
func (s *Server) sessionChannel(srv *ssh.Server, conn *gossh.ServerConn, ch gossh.NewChannel, ctx ssh.Context) {
	ssh.DefaultSessionHandler(srv, conn, allowedRequests{NewChannel: ch, s: s, ctx: ctx}, ctx)
}

// allowedRequests is a session channel whose requests outside
// sessionRequests are refused before the session sees them.
type allowedRequests struct {
	gossh.NewChannel
	s   *Server
	ctx ssh.Context
}

func (c allowedRequests) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, reqs, err := c.NewChannel.Accept()
	if err != nil {
		return ch, reqs, err
	}
	allowed := make(chan *gossh.Request)
	go func() {
		defer close(allowed)
		for req := range reqs {
			if sessionRequests[req.Type] {
				allowed <- req
				continue
			}
			c.s.refusedRequest(c.ctx, req.Type)
			if req.WantReply {
				req.Reply(false, nil)
			}
		}
	}()
	return ch, allowed, nil
}

// refusedRequest logs and counts a request refused.
func (s *Server) refusedRequest(ctx ssh.Context, request string, attrs ...any) {
	s.metrics.refusals.WithLabelValues(refusedRequest).Inc()
	s.opts.Log.Info("ssh request refused", append([]any{"user", sessionUser(ctx).Name, "remote", ctx.RemoteAddr().String(),
		"request", safetext.Line(request)}, attrs...)...)
}
