package tests

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/schemaproxy/schemaproxy/internal/testutil"
)

// TestRedisBackendsTLS: rediss:// backends are reached over TLS. The
// backends listen for TLS only on the port the URLs name (their plain
// port serves the test's readiness check and its look at the data), so a
// proxy that dialled them in the clear would get no answer.
func TestRedisBackendsTLS(t *testing.T) {
	certFile, keyFile := selfSignedCert(t)
	var urls []string
	var plain []string
	for i := 0; i < 2; i++ {
		tlsPort := testutil.FreePort(t)
		p := testutil.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always",
			"--tls-port", strconv.Itoa(tlsPort), "--tls-cert-file", certFile, "--tls-key-file", keyFile,
			"--tls-ca-cert-file", certFile, "--tls-auth-clients", "no")
		plain = append(plain, p.Addr)
		urls = append(urls, fmt.Sprintf("rediss://127.0.0.1:%d?skip_verify=true", tlsPort))
	}
	px := startProxy(t, backendArgs(urls)...)
	ctx := ctxT(t)
	c := client(t, px.Addr)
	keys := oneKeyPerShard("tls", 2)
	if err := c.MSet(ctx, keys[0], "a", keys[1], "b").Err(); err != nil {
		t.Fatalf("MSET over TLS backends: %v", err)
	}
	got, err := c.MGet(ctx, keys...).Result()
	if err != nil || got[0] != "a" || got[1] != "b" {
		t.Fatalf("MGET over TLS backends: %v %v", got, err)
	}
	// Each key is on its own backend, under its own name.
	for i, addr := range plain {
		bc := redis.NewClient(&redis.Options{Addr: addr})
		v, err := bc.Get(ctx, keys[i]).Result()
		bc.Close()
		if err != nil || v != string(rune('a'+i)) {
			t.Errorf("backend %s holds %q = %q, %v", addr, keys[i], v, err)
		}
	}
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key.
func selfSignedCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "schemaproxy test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	// The pair must load, or redis-server would fail in a less clear way.
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
