package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// pkiFiles are the credentials the API server is started with.
type pkiFiles struct {
	caPEM             []byte
	caFile            string
	servingCertFile   string
	servingKeyFile    string
	serviceAccountKey string
	tokenFile         string
}

// writePKI creates a throwaway CA, a serving certificate for 127.0.0.1 and
// localhost signed by it, the service-account signing key (so the TokenRequest
// API works) and the static token file that makes token an admin.
func writePKI(dir, token string) (*pkiFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kubedora-controlplane-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}

	servingKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	servingTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	servingDER, err := x509.CreateCertificate(rand.Reader, servingTemplate, caCert, &servingKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}

	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}

	files := &pkiFiles{
		caPEM:             pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		caFile:            filepath.Join(dir, "ca.crt"),
		servingCertFile:   filepath.Join(dir, "serving.crt"),
		servingKeyFile:    filepath.Join(dir, "serving.key"),
		serviceAccountKey: filepath.Join(dir, "service-account.key"),
		tokenFile:         filepath.Join(dir, "tokens.csv"),
	}
	servingKeyDER, err := x509.MarshalECPrivateKey(servingKey)
	if err != nil {
		return nil, err
	}
	writes := []struct {
		path    string
		content []byte
	}{
		{files.caFile, files.caPEM},
		{files.servingCertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: servingDER})},
		{files.servingKeyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: servingKeyDER})},
		{files.serviceAccountKey, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)})},
		{files.tokenFile, []byte(fmt.Sprintf("%s,admin,admin,\"system:masters\"\n", token))},
	}
	for _, w := range writes {
		if err := os.WriteFile(w.path, w.content, 0o600); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// readPKI reuses what writePKI left in dir, so that a restarted server keeps
// its CA (clients' kubeconfigs stay valid) and its service-account key.
func readPKI(dir, token string) (*pkiFiles, error) {
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("--keep-data: no credentials from an earlier run: %w", err)
	}
	files := &pkiFiles{
		caPEM:             caPEM,
		caFile:            filepath.Join(dir, "ca.crt"),
		servingCertFile:   filepath.Join(dir, "serving.crt"),
		servingKeyFile:    filepath.Join(dir, "serving.key"),
		serviceAccountKey: filepath.Join(dir, "service-account.key"),
		tokenFile:         filepath.Join(dir, "tokens.csv"),
	}
	tokens := fmt.Sprintf("%s,admin,admin,\"system:masters\"\n", token)
	if err := os.WriteFile(files.tokenFile, []byte(tokens), 0o600); err != nil {
		return nil, err
	}
	return files, nil
}

// readToken returns the admin token an earlier run wrote.
func readToken(dir string) (string, error) {
	content, err := os.ReadFile(filepath.Join(dir, "tokens.csv"))
	if err != nil {
		return "", fmt.Errorf("--keep-data: no token from an earlier run: %w", err)
	}
	token, _, found := strings.Cut(string(content), ",")
	if !found || token == "" {
		return "", fmt.Errorf("--keep-data: malformed %s", filepath.Join(dir, "tokens.csv"))
	}
	return token, nil
}
