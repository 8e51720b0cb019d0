package monitor

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

const msec = time.Millisecond

// seq builds samples from round trips in ms; a negative value is a loss.
func seq(rtts ...float64) []Sample {
	out := make([]Sample, len(rtts))
	t0 := time.Unix(1_700_000_000, 0)
	for i, r := range rtts {
		out[i] = Sample{At: t0.Add(time.Duration(i) * time.Second)}
		if r >= 0 {
			out[i].OK, out[i].RTT = true, time.Duration(r*float64(msec))
		} else {
			out[i].Err = "timeout"
		}
	}
	return out
}

func TestStatsHandComputed(t *testing.T) {
	tests := []struct {
		name string
		rtts []float64
		want Stats
	}{
		{
			// mean 25; mean of squares (100+400+900+1600)/4 = 750;
			// mdev = sqrt(750 - 625) = 11.180339887 ms.
			// jitter: 10/16 = 0.625, then +(10-0.625)/16 = 1.2109375,
			// then +(10-1.2109375)/16 = 1.76025390625 ms.
			// p95: nearest rank ceil(0.95*4) = 4th of 10,20,30,40.
			name: "one loss in five",
			rtts: []float64{10, 20, -1, 30, 40},
			want: Stats{Sent: 5, Received: 4, Last: 40 * msec, LastOK: true, Min: 10 * msec, Avg: 25 * msec,
				Max: 40 * msec, Mdev: 11180340, Jitter: 1760254, P95: 40 * msec},
		},
		{
			// the paper's private server: 2.1, 2.7, 3.1, 3.1 ms and a loss last.
			// mean 2.75; squares 4.41+7.29+9.61+9.61 = 30.92, /4 = 7.73;
			// mdev = sqrt(7.73 - 7.5625) = 0.409267639 ms.
			// jitter: 0.6/16 = 0.0375; +(0.4-0.0375)/16 = 0.06015625;
			// +(0-0.06015625)/16 = 0.056396484375 ms.
			name: "ends with a loss",
			rtts: []float64{2.1, 2.7, 3.1, 3.1, -1},
			want: Stats{Sent: 5, Received: 4, Last: 3100 * time.Microsecond, LastOK: false, Min: 2100 * time.Microsecond,
				Avg: 2750 * time.Microsecond, Max: 3100 * time.Microsecond, Mdev: 409268, Jitter: 56396, P95: 3100 * time.Microsecond},
		},
		{
			name: "all lost",
			rtts: []float64{-1, -1, -1},
			want: Stats{Sent: 3},
		},
		{
			name: "one reply",
			rtts: []float64{5},
			want: Stats{Sent: 1, Received: 1, Last: 5 * msec, LastOK: true, Min: 5 * msec, Avg: 5 * msec, Max: 5 * msec, P95: 5 * msec},
		},
		{
			// 20 probes, every 4th lost: the paper's 25%.
			name: "every fourth lost",
			rtts: []float64{1, 1, 1, -1, 1, 1, 1, -1, 1, 1, 1, -1, 1, 1, 1, -1, 1, 1, 1, -1},
			want: Stats{Sent: 20, Received: 15, Last: msec, Min: msec, Avg: msec, Max: msec, P95: msec},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSeries(100)
			for _, x := range seq(tc.rtts...) {
				s.Add(x)
			}
			if got := s.Window(); got != tc.want {
				t.Errorf("window\n got  %+v\n want %+v", got, tc.want)
			}
			life := tc.want
			life.P95 = 0
			if got := s.Lifetime(); got != life {
				t.Errorf("lifetime\n got  %+v\n want %+v", got, life)
			}
		})
	}
}

func TestLossPercent(t *testing.T) {
	for _, tc := range []struct {
		sent, recv int
		want       float64
	}{{20, 15, 25}, {20, 19, 5}, {20, 20, 0}, {0, 0, 0}, {3, 2, 100.0 / 3}} {
		if got := (Stats{Sent: tc.sent, Received: tc.recv}).LossPercent(); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%d/%d: %v, want %v", tc.recv, tc.sent, got, tc.want)
		}
	}
}

// The window forgets old samples while the lifetime keeps counting.
func TestWindowWraps(t *testing.T) {
	s := NewSeries(3)
	for _, x := range seq(100, -1, 1, 2, 3) {
		s.Add(x)
	}
	w := s.Window()
	if w.Sent != 3 || w.Received != 3 || w.Min != msec || w.Max != 3*msec || w.Avg != 2*msec {
		t.Errorf("window %+v", w)
	}
	l := s.Lifetime()
	if l.Sent != 5 || l.Received != 4 || l.Max != 100*msec {
		t.Errorf("lifetime %+v", l)
	}
	got := s.Samples()
	if len(got) != 3 || got[0].RTT != msec || got[2].RTT != 3*msec {
		t.Errorf("samples oldest first: %+v", got)
	}
	s.Reset()
	if s.Len() != 0 || s.Lifetime().Sent != 0 {
		t.Errorf("reset left %d samples, lifetime %+v", s.Len(), s.Lifetime())
	}
}

// Welford's mdev equals iputils' sqrt(sum2/n - (sum/n)^2) on long runs.
func TestMdevMatchesPingFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := NewSeries(10)
	var sum, sum2 float64
	n := 100000
	for range n {
		rtt := 190*msec + time.Duration(r.NormFloat64()*float64(4*msec))
		s.Add(Sample{OK: true, RTT: rtt})
		ms := float64(rtt) / 1e6
		sum += ms
		sum2 += ms * ms
	}
	want := math.Sqrt(sum2/float64(n) - (sum/float64(n))*(sum/float64(n)))
	got := float64(s.Lifetime().Mdev) / 1e6
	if math.Abs(got-want) > 1e-3 {
		t.Errorf("mdev %.6f ms, ping's formula %.6f ms", got, want)
	}
}

func BenchmarkSeriesAdd(b *testing.B) {
	s := NewSeries(120)
	x := Sample{OK: true, RTT: 2 * msec}
	for b.Loop() {
		s.Add(x)
	}
}

func BenchmarkSeriesWindow(b *testing.B) {
	s := NewSeries(120)
	for i := range 200 {
		s.Add(Sample{OK: i%20 != 0, RTT: time.Duration(i) * time.Microsecond})
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Window()
	}
}

// A compact series gives the same window and lifetime statistics as a full
// one, sample for sample, wrapped or not, across a Reset; it has no samples.
func TestCompactSeriesSameStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, window := range []int{1, 7, 120} {
		full, compact := NewSeries(window), NewCompactSeries(window)
		for i := range 500 {
			x := Sample{At: time.Unix(int64(i), 0), RTT: time.Duration(rng.Int64N(int64(300 * time.Millisecond))), OK: true}
			switch r := rng.IntN(20); {
			case r == 0:
				x = Sample{At: x.At, Err: "timeout"}
			case r == 1:
				x = Sample{At: x.At, Err: "no route", NotSent: true}
			}
			full.Add(x)
			compact.Add(x)
			if i == 250 {
				full.Reset()
				compact.Reset()
			}
			if fw, cw := full.Window(), compact.Window(); fw != cw {
				t.Fatalf("window %d, sample %d: window statistics\n full    %+v\n compact %+v", window, i, fw, cw)
			}
			if fl, cl := full.Lifetime(), compact.Lifetime(); fl != cl {
				t.Fatalf("window %d, sample %d: lifetime statistics differ", window, i)
			}
			if full.Len() != compact.Len() {
				t.Fatalf("window %d, sample %d: len %d and %d", window, i, full.Len(), compact.Len())
			}
		}
		if got := compact.Samples(); len(got) != 0 {
			t.Errorf("a compact series returned %d samples", len(got))
		}
	}
}
