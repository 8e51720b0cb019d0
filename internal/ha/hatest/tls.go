package hatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TLSFiles are the PEM files StartTLS wrote for a test: the CA etcd
// trusts, and a client certificate it signed.
type TLSFiles struct {
	CA, ClientCert, ClientKey string
}

// StartTLS runs etcd whose client port speaks only TLS and asks for a
// client certificate signed by a CA made for this test
// (--client-cert-auth): the CA, a server certificate for 127.0.0.1 and a
// client certificate are generated now, in the test's own directory.
func StartTLS(t testing.TB) (*Etcd, TLSFiles) {
	t.Helper()
	e := newEtcd(t, lookEtcd(t), "t", "127.0.0.1")
	dir := t.TempDir()
	ca := newCert(t, nil, "failwatch test CA", 0)
	server := newCert(t, ca, "etcd", x509.ExtKeyUsageServerAuth)
	client := newCert(t, ca, "failwatch", x509.ExtKeyUsageClientAuth)
	f := TLSFiles{CA: ca.write(t, dir, "ca"), ClientCert: client.write(t, dir, "client")}
	f.ClientKey = filepath.Join(dir, "client.key")
	e.scheme, e.cluster = "https", "t=http://"+e.peer
	e.tlsArgs = []string{"--cert-file", server.write(t, dir, "server"), "--key-file", filepath.Join(dir, "server.key"),
		"--trusted-ca-file", f.CA, "--client-cert-auth"}
	e.start()
	return e, f
}

type cert struct {
	der []byte
	crt *x509.Certificate
	key *ecdsa.PrivateKey
}

// newCert is a CA's own certificate when parent is nil, else one parent
// signs for 127.0.0.1 with the usage given.
func newCert(t testing.TB, parent *cert, name string, usage x509.ExtKeyUsage) *cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	signer, signKey := tpl, key
	if parent == nil {
		tpl.IsCA, tpl.BasicConstraintsValid, tpl.KeyUsage = true, true, x509.KeyUsageCertSign
	} else {
		tpl.KeyUsage = x509.KeyUsageDigitalSignature
		tpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
		tpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		signer, signKey = parent.crt, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	crt, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &cert{der: der, crt: crt, key: key}
}

// write puts the certificate in dir/name.pem and its key in
// dir/name.key, and returns the certificate's path.
func (c *cert) write(t testing.TB, dir, name string) string {
	t.Helper()
	key, err := x509.MarshalECPrivateKey(c.key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".pem")
	for p, b := range map[string]*pem.Block{path: {Type: "CERTIFICATE", Bytes: c.der},
		filepath.Join(dir, name+".key"): {Type: "EC PRIVATE KEY", Bytes: key}} {
		if err := os.WriteFile(p, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path
}
