package monitor_test

import (
	"fmt"
	"time"

	"github.com/failwatch/failwatch/monitor"
)

// A series of probes summarised as iputils ping prints it: loss, and
// min/avg/max/mdev over the replies.
func ExampleSeries() {
	s := monitor.NewSeries(20)
	for _, ms := range []float64{189.341, 195.838, 0, 201.594} {
		if ms == 0 {
			s.Add(monitor.Sample{Err: "timeout"})
			continue
		}
		s.Add(monitor.Sample{OK: true, RTT: time.Duration(ms * float64(time.Millisecond))})
	}
	st := s.Window()
	fmt.Printf("%d transmitted, %d received, %.0f%% loss, rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n",
		st.Sent, st.Received, st.LossPercent(), ms(st.Min), ms(st.Avg), ms(st.Max), ms(st.Mdev))
	// Output:
	// 4 transmitted, 3 received, 25% loss, rtt min/avg/max/mdev = 189.341/195.591/201.594/5.005 ms
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
