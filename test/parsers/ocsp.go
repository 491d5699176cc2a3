// A Go gateway's OCSP check with golang.org/x/crypto/ocsp, as Caddy, Traefik and most Go TLS
// stacks do it: CreateRequest for the leaf (SHA-1 or SHA-256 CertID), POST it to the responder,
// then ParseResponse with the issuer, which verifies the signature and refuses a response that
// does not carry exactly one SingleResponse.
//
// usage: go run ocsp.go URL ISSUER.pem LEAF.pem sha1|sha256
// Prints "OK status=good|revoked|unknown reason=N hash=<the response CertID's hash>" or "FAIL <error>".
package main

import (
	"bytes"
	"crypto"
	_ "crypto/sha1"
	_ "crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"

	"golang.org/x/crypto/ocsp"
)

func cert(path string) *x509.Certificate {
	data, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		fail(fmt.Errorf("no PEM in %s", path))
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		fail(err)
	}
	return c
}

func fail(err error) {
	fmt.Printf("FAIL %v\n", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 5 {
		fmt.Println("usage: ocsp URL ISSUER.pem LEAF.pem sha1|sha256")
		os.Exit(2)
	}
	issuer, leaf := cert(os.Args[2]), cert(os.Args[3])
	hash := crypto.SHA1
	if os.Args[4] == "sha256" {
		hash = crypto.SHA256
	}
	req, err := ocsp.CreateRequest(leaf, issuer, &ocsp.RequestOptions{Hash: hash})
	if err != nil {
		fail(err)
	}
	res, err := http.Post(os.Args[1], "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		fail(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		fail(err)
	}
	parsed, err := ocsp.ParseResponse(body, issuer)
	if err != nil {
		fail(err)
	}
	if parsed.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		fail(fmt.Errorf("response names serial %x, asked %x", parsed.SerialNumber, leaf.SerialNumber))
	}
	status := map[int]string{ocsp.Good: "good", ocsp.Revoked: "revoked", ocsp.Unknown: "unknown"}[parsed.Status]
	names := map[crypto.Hash]string{crypto.SHA1: "sha1", crypto.SHA256: "sha256"}
	fmt.Printf("OK status=%s reason=%d hash=%s\n", status, parsed.RevocationReason, names[parsed.IssuerHash])
}
