// Package papersim is the paper's two servers as simulated probers, for
// `failwatch demo` and tests: kept out of monitor, which knows no paper.
package papersim

import (
	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/monitor"
)

// Public is the paper's measured VPS: about 196 ms with 4 ms mdev and 5%
// loss.
func Public() *monitor.Simulated {
	return &monitor.Simulated{Mean: paper.PublicRTT[0], Mdev: paper.PublicRTT[1], Loss: paper.PublicLoss}
}

// Private is the paper's on-premises server: about 2.7 ms.
func Private() *monitor.Simulated {
	return &monitor.Simulated{Mean: paper.PrivateRTT[0], Mdev: paper.PrivateRTT[1]}
}
