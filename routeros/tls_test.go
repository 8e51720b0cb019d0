package routeros

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failwatch/failwatch/internal/paper"
	"github.com/failwatch/failwatch/routeros/rosim"
)

// selfSigned makes a certificate for 127.0.0.1 and writes it as a CA file.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "router"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, ca
}

func TestAPISSL(t *testing.T) {
	cert, ca := selfSigned(t)
	r := rosim.New(rosim.Options{})
	defer r.Close()
	r.SeedPaper()
	addr, err := r.ListenAndServeTLS("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	c, warnings, err := New(Options{Address: addr.String(), TLS: true, CAFile: ca, User: "admin", Timeout: 2 * time.Second})
	if err != nil || len(warnings) != 0 {
		t.Fatalf("%v %v", err, warnings)
	}
	defer c.Close()
	if recs, err := c.StaticRecords(ctx, paper.Name); err != nil || len(recs) != 2 {
		t.Fatalf("with the CA: %v %v", recs, err)
	}

	untrusted, _, _ := New(Options{Address: addr.String(), TLS: true, User: "admin", Timeout: 2 * time.Second})
	defer untrusted.Close()
	if _, err := untrusted.Identity(ctx); err == nil || !strings.Contains(err.Error(), "certificate is not trusted") {
		t.Errorf("without the CA: %v", err)
	}

	insecure, warnings, _ := New(Options{Address: addr.String(), TLS: true, Insecure: true, User: "admin", Timeout: 2 * time.Second})
	defer insecure.Close()
	if len(warnings) != 1 || !strings.Contains(warnings[0], "not verified") {
		t.Errorf("insecure warnings %q", warnings)
	}
	if _, err := insecure.Identity(ctx); err != nil {
		t.Errorf("insecure: %v", err)
	}

	follow := &LogFollower{Opts: Options{Address: addr.String(), TLS: true, CAFile: ca, User: "admin", Timeout: 2 * time.Second}}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan LogEvent, 4)
	go follow.Run(fctx, events)
	if ev := next(t, events, LogConnected); ev.Reason == "" {
		t.Error("no reason on connect")
	}
}
