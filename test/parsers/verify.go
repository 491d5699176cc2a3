// Go crypto/x509 as a Go gateway (Traefik, Caddy, Vault) would use it: parse every certificate,
// then verify each leaf against the root with the intermediates given.
//
// usage: go run verify.go ROOT.pem INTERMEDIATES.pem LEAF.pem...
// Prints "OK <file> <subject> uris=<SAN URIs>" or "FAIL <file>: <error>" per file; exit 1 on any FAIL.
package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
)

func load(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no certificate in %s", path)
	}
	return out, nil
}

func uris(c *x509.Certificate) string {
	var s []string
	for _, u := range c.URIs {
		s = append(s, u.String())
	}
	return strings.Join(s, ",")
}

func main() {
	failed := false
	report := func(path string, c *x509.Certificate, err error) {
		if err != nil {
			failed = true
			fmt.Printf("FAIL %s: %v\n", path, err)
			return
		}
		fmt.Printf("OK %s %s uris=%s ocsp=%s issuers=%s crl=%s\n", path, c.Subject.String(), uris(c),
			strings.Join(c.OCSPServer, ","), strings.Join(c.IssuingCertificateURL, ","), strings.Join(c.CRLDistributionPoints, ","))
	}
	args := os.Args[1:]
	if len(args) < 2 {
		fmt.Println("usage: verify ROOT.pem INTERMEDIATES.pem LEAF.pem...")
		os.Exit(2)
	}
	roots, err := load(args[0])
	if err != nil {
		report(args[0], nil, err)
		os.Exit(1)
	}
	rootPool := x509.NewCertPool()
	for _, r := range roots {
		rootPool.AddCert(r)
	}
	ints, err := load(args[1])
	if err != nil {
		report(args[1], nil, err)
		os.Exit(1)
	}
	intPool := x509.NewCertPool()
	for _, c := range ints {
		intPool.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: rootPool, Intermediates: intPool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	for _, path := range args {
		certs, err := load(path)
		if err != nil {
			report(path, nil, err)
			continue
		}
		for _, c := range certs {
			_, verr := c.Verify(opts)
			report(path, c, verr)
		}
	}
	if failed {
		os.Exit(1)
	}
}
