package failover

import (
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/rosim"
)

func emulator(t testing.TB, opts rosim.Options) (*rosim.Router, string) {
	t.Helper()
	return testkit.Emulator(t, opts)
}

func client(t testing.TB, addr, user, password string) *routeros.Client {
	t.Helper()
	c, _, err := routeros.New(routeros.Options{Address: addr, User: user, Password: config.Secret(password), Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
