package failover_test

import (
	"context"
	"fmt"
	"time"

	"github.com/failwatch/failwatch/config"
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/routeros"
	"github.com/failwatch/failwatch/routeros/failover"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// A failover against the emulator with the paper's records: each step is
// reported as it ends, and the outcome is decided from a read-back.
func ExampleFailover_FailoverToStandby() {
	r := rosim.New(rosim.Options{})
	defer r.Close()
	r.SeedPaper()
	addr, _ := r.ListenAndServe("127.0.0.1:0")
	c, _, _ := routeros.New(routeros.Options{Address: addr.String(), User: "admin", Timeout: 2 * time.Second})
	defer c.Close()
	f := &failover.Failover{Client: c,
		Service: config.Service{Name: paper.Name, Layout: config.Toggle},
		Primary: config.Server{Name: "public", Address: paper.PublicAddress, Record: config.RecordMatch{Comment: "Server Public"}},
		Standby: config.Server{Name: "private", Address: paper.PrivateAddress, Record: config.RecordMatch{Comment: "ServerPrivate"}},
		Progress: func(s failover.Step) {
			if s.Status != failover.StepRunning {
				fmt.Println(s.Status, s.Name)
			}
		}}
	res, err := f.FailoverToStandby(context.Background(), false)
	fmt.Println(res.Outcome, err)
	fmt.Println(res.Summary())
	// Output:
	// ok read state
	// ok enable private record
	// ok disable public record
	// ok flush DNS cache
	// ok verify
	// changed <nil>
	// tomtotrading.com now points at private
}
