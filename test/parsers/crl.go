// A Go gateway's CRL check with crypto/x509 (Go 1.19): ParseRevocationList, then
// CheckSignatureFrom the issuer, then look the serials up in RevokedCertificates.
//
// usage: go run crl.go ISSUER.pem CRL.der SERIALHEX...
// Prints "OK entries=N number=M" then "<serial> revoked|good" per serial, or "FAIL <error>".
package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
)

func fail(err error) {
	fmt.Printf("FAIL %v\n", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 3 {
		fmt.Println("usage: crl ISSUER.pem CRL.der SERIALHEX...")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		fail(fmt.Errorf("no PEM in %s", os.Args[1]))
	}
	issuer, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		fail(err)
	}
	der, err := os.ReadFile(os.Args[2])
	if err != nil {
		fail(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		fail(err)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		fail(err)
	}
	fmt.Printf("OK entries=%d number=%v\n", len(crl.RevokedCertificates), crl.Number)
	for _, s := range os.Args[3:] {
		serial, ok := new(big.Int).SetString(s, 16)
		if !ok {
			fail(fmt.Errorf("bad serial %s", s))
		}
		status := "good"
		for _, r := range crl.RevokedCertificates {
			if r.SerialNumber.Cmp(serial) == 0 {
				status = "revoked"
			}
		}
		fmt.Printf("%s %s\n", s, status)
	}
}
