package rosim

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/failwatch/failwatch/routeros/wire"
)

// ListenAndServe listens on addr (e.g. "127.0.0.1:0") and serves in the
// background; it returns the listener's address.
func (r *Router) ListenAndServe(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return r.serveInBackground(ln), nil
}

// ListenAndServeTLS is ListenAndServe for API-SSL: a router with a
// certificate.
func (r *Router) ListenAndServeTLS(addr string, conf *tls.Config) (net.Addr, error) {
	ln, err := tls.Listen("tcp", addr, conf)
	if err != nil {
		return nil, err
	}
	return r.serveInBackground(ln), nil
}

func (r *Router) serveInBackground(ln net.Listener) net.Addr {
	r.mu.Lock()
	r.lns = append(r.lns, ln)
	r.mu.Unlock()
	r.conns.Add(1)
	go func() {
		defer r.conns.Done()
		r.Serve(ln)
	}()
	return ln.Addr()
}

// Serve answers API connections on ln until it is closed.
func (r *Router) Serve(ln net.Listener) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		if r.unreachable() {
			conn.Close()
			continue
		}
		r.conns.Add(1)
		r.mu.Lock()
		r.sessions[conn] = struct{}{}
		r.mu.Unlock()
		go func() {
			defer r.conns.Done()
			defer func() {
				r.mu.Lock()
				delete(r.sessions, conn)
				r.mu.Unlock()
			}()
			s := &session{r: r, conn: conn, w: bufio.NewWriter(conn), follows: map[string]*follow{}}
			s.serve()
		}()
	}
}

// maxWord is the longest word a session accepts: enough for every length
// prefix but the five-byte one (256 MiB), which no menu value needs.
const maxWord = 8 << 20

type session struct {
	r    *Router
	conn net.Conn

	wmu sync.Mutex
	w   *bufio.Writer

	user      string
	loggedIn  bool
	challenge []byte

	fmu     sync.Mutex
	follows map[string]*follow
}

type follow struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (s *session) send(tag string, word string, words ...string) {
	all := append([]string{word}, words...)
	if tag != "" {
		all = append(all, ".tag="+tag)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.w.Write(wire.AppendSentence(nil, all...))
	s.w.Flush()
}

func (s *session) sendTrap(tag string, t *trap) {
	words := []string{"=message=" + t.message}
	if t.category >= 0 {
		words = append([]string{"=category=" + strconv.Itoa(t.category)}, words...)
	}
	s.send(tag, "!trap", words...)
}

// fatal sends !fatal with its bare reason word and hangs up, as a router
// does on /quit or a protocol violation.
func (s *session) fatal(reason string) {
	s.send("", "!fatal", reason)
	s.conn.Close()
}

func (s *session) serve() {
	ctx, cancel := context.WithCancel(s.r.ctx)
	defer func() {
		cancel()
		s.fmu.Lock()
		pending := make([]*follow, 0, len(s.follows))
		for _, f := range s.follows {
			pending = append(pending, f)
		}
		s.fmu.Unlock()
		for _, f := range pending {
			<-f.done
		}
		s.conn.Close()
	}()
	go func() {
		<-ctx.Done()
		s.conn.Close()
	}()
	rd := wire.NewReader(s.conn)
	rd.Max = maxWord
	for {
		words, err := rd.ReadSentence()
		if err != nil {
			return
		}
		if len(words) == 0 {
			continue
		}
		sen := wire.Parse(words)
		if !s.command(ctx, sen, attrsOf(sen)) {
			return
		}
	}
}

func attrsOf(sen wire.Sentence) []attr {
	attrs := make([]attr, len(sen.Attrs))
	for i, a := range sen.Attrs {
		attrs[i] = attr{a.Key, a.Value}
	}
	return attrs
}

// command answers one sentence; false ends the session.
func (s *session) command(ctx context.Context, sen wire.Sentence, attrs []attr) bool {
	switch sen.Word {
	case "/login":
		s.login(sen)
		return true
	case "/quit":
		s.fatal("session terminated on request")
		return false
	}
	if !s.loggedIn {
		s.fatal("not logged in")
		return false
	}
	switch sen.Word {
	case "/cancel":
		s.cancel(sen)
		return true
	case "/log/print":
		if _, ok := sen.Get("follow"); ok {
			s.follow(ctx, sen.Tag, query(sen.Queries), true)
			return true
		}
		if _, ok := sen.Get("follow-only"); ok {
			s.follow(ctx, sen.Tag, query(sen.Queries), false)
			return true
		}
	}
	fault := s.r.takeFault(sen.Word)
	if fault != nil && fault.Before != nil {
		fault.Before()
	}
	if fault != nil {
		switch fault.Kind {
		case FaultTrap:
			s.sendTrap(sen.Tag, trapf(catGeneral, "%s", fault.Message))
			s.send(sen.Tag, "!done")
			return true
		case FaultSlow:
			if !sleepCtx(ctx, fault.Delay) {
				return false
			}
		}
	}
	res := s.r.exec(s.user, sen.Word, attrs, query(sen.Queries))
	if fault != nil {
		switch fault.Kind {
		case FaultDrop:
			return false
		case FaultFatal:
			s.fatal(fault.Message)
			return false
		case FaultLate:
			if !sleepCtx(ctx, fault.Delay) {
				return false
			}
		}
	}
	for _, t := range res.pre {
		s.sendTrap(sen.Tag, t)
	}
	if res.trap != nil {
		s.sendTrap(sen.Tag, res.trap)
		s.send(sen.Tag, "!done")
		return true
	}
	for _, row := range res.rows {
		s.send(sen.Tag, "!re", row...)
	}
	if len(res.rows) == 0 && res.done == nil && s.r.prof.empty && isPrint(sen.Word) {
		s.send(sen.Tag, "!empty")
	}
	s.send(sen.Tag, "!done", res.done...)
	return true
}

// sleepCtx waits d, or less if the session ends; false when it ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func isPrint(cmd string) bool {
	n := len(cmd)
	return n >= 6 && (cmd[n-6:] == "/print" || (n >= 7 && cmd[n-7:] == "/getall"))
}

func (s *session) login(sen wire.Sentence) {
	name, _ := sen.Get("name")
	password, hasPassword := sen.Get("password")
	response, hasResponse := sen.Get("response")
	want, known := s.r.opts.Users[name]
	ok := false
	switch {
	case hasResponse && s.challenge != nil:
		h := md5.New()
		h.Write([]byte{0})
		h.Write([]byte(want))
		h.Write(s.challenge)
		ok = known && response == "00"+hex.EncodeToString(h.Sum(nil))
		s.challenge = nil
	case hasPassword && !s.r.opts.LegacyLogin:
		ok = known && password == want
	default:
		// The pre-6.43 login: send a challenge, the client answers with
		// md5(0 + password + challenge).
		s.challenge = randomChallenge()
		s.send(sen.Tag, "!done", "=ret="+hex.EncodeToString(s.challenge))
		return
	}
	if !ok {
		s.sendTrap(sen.Tag, trapf(catNone, "invalid user name or password (6)"))
		s.send(sen.Tag, "!done")
		s.r.Log("system,error,critical", "login failure for user "+name+" from "+remoteHost(s.conn)+" via api")
		return
	}
	s.user, s.loggedIn = name, true
	s.send(sen.Tag, "!done")
	s.r.Log("system,info,account", "user "+name+" logged in from "+remoteHost(s.conn)+" via api")
}

func remoteHost(c net.Conn) string {
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}

// follow streams the log until the tag is cancelled or the session ends;
// withPast first sends the lines already in the log.
func (s *session) follow(parent context.Context, tag string, q query, withPast bool) {
	ctx, cancel := context.WithCancel(parent)
	f := &follow{cancel: cancel, done: make(chan struct{})}
	s.fmu.Lock()
	if _, dup := s.follows[tag]; dup {
		s.fmu.Unlock()
		cancel()
		s.sendTrap(tag, trapf(catGeneral, "tag is already in use"))
		s.send(tag, "!done")
		return
	}
	s.follows[tag] = f
	s.fmu.Unlock()

	ch := make(chan logEntry, 4096)
	s.r.mu.Lock()
	var past []logEntry
	if withPast {
		past = s.r.log.entries()
	}
	s.r.log.follow(ch)
	s.r.mu.Unlock()

	go func() {
		defer close(f.done)
		defer func() {
			s.r.mu.Lock()
			s.r.log.unfollow(ch)
			s.r.mu.Unlock()
			s.fmu.Lock()
			delete(s.follows, tag)
			s.fmu.Unlock()
		}()
		emit := func(e logEntry) {
			row, words := s.r.logRow(e), s.r.logWords(e)
			if ok, _ := q.match(row); ok {
				s.send(tag, "!re", words...)
			}
		}
		for _, e := range past {
			emit(e)
		}
		for {
			select {
			case e := <-ch:
				emit(e)
			case <-ctx.Done():
				if s.r.ctx.Err() == nil && parent.Err() == nil {
					s.sendTrap(tag, trapf(catInterrupted, "interrupted"))
					s.send(tag, "!done")
				}
				return
			}
		}
	}()
}

// cancel ends a follow by tag (or every follow without one), waits for it
// to send its interrupted trap and !done, then answers the /cancel itself.
func (s *session) cancel(sen wire.Sentence) {
	target, hasTarget := sen.Get("tag")
	s.fmu.Lock()
	var victims []*follow
	for tag, f := range s.follows {
		if !hasTarget || tag == target {
			victims = append(victims, f)
		}
	}
	s.fmu.Unlock()
	if hasTarget && len(victims) == 0 {
		s.sendTrap(sen.Tag, trapf(catGeneral, "unknown command tag"))
		s.send(sen.Tag, "!done")
		return
	}
	for _, f := range victims {
		f.cancel()
		<-f.done
	}
	s.send(sen.Tag, "!done")
}
