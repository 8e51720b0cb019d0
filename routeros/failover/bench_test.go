package failover

import (
	"context"
	"testing"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/internal/testkit"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// One failover or restore against the emulator on loopback, from the request
// to the verified switch (read state, enable, disable, flush, read back).
func BenchmarkFailover(b *testing.B) {
	_, addr := emulator(b, rosim.Options{})
	c := client(b, addr, "admin", "")
	f := &Failover{Client: c, Service: config.Service{Name: paper.Name, Layout: config.Toggle},
		Primary: config.Server{Name: "public", Address: paper.PublicAddress, Record: config.RecordMatch{Comment: "Server Public"}},
		Standby: config.Server{Name: "private", Address: paper.PrivateAddress, Record: config.RecordMatch{Comment: "ServerPrivate"}}}
	ctx := context.Background()
	if _, err := c.Identity(ctx); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		start := time.Now()
		var err error
		if i%2 == 0 {
			_, err = f.FailoverToStandby(ctx, false)
		} else {
			_, err = f.Restore(ctx)
		}
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
	testkit.ReportLatency(b, lat)
}
