package netlab

import (
	"net"
	"os/exec"
	"testing"
)

func TestHostAnswersAndDrops(t *testing.T) {
	h := TestHost(t)
	ping := func() error {
		return exec.Command("ping", "-c", "1", "-W", "1", h.Addr.String()).Run()
	}
	if _, err := exec.LookPath("ping"); err != nil {
		t.Skip("iputils ping is not installed")
	}
	if err := ping(); err != nil {
		t.Fatalf("host %s does not answer: %v", h.Addr, err)
	}
	if err := h.DropEcho(1); err != nil {
		t.Fatal(err)
	}
	if err := ping(); err == nil {
		t.Fatal("echo answered while dropped")
	}
	if err := h.ClearFaults(); err != nil {
		t.Fatal(err)
	}
	if err := ping(); err != nil {
		t.Fatalf("echo still dropped after ClearFaults: %v", err)
	}

	ln, err := h.Listen("tcp", h.Addr.String()+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial the host's listener: %v", err)
	}
	c.Close()
}
