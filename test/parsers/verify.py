"""Python `cryptography` (Debian python3-cryptography): parse every certificate and all its
extensions, then check each signature against its issuer (cryptography 38 has no path builder).

usage: /usr/bin/python3 verify.py ROOT.pem INTERMEDIATES.pem LEAF.pem...
Prints "OK <file> <subject>" or "FAIL <file>: <error>" per certificate; exit 1 on any FAIL.
"""
import sys
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    certs = []
    for block in data.split(b"-----END CERTIFICATE-----")[:-1]:
        certs.append(x509.load_pem_x509_certificate(block + b"-----END CERTIFICATE-----\n"))
    if not certs:
        raise ValueError("no certificate in " + path)
    return certs


def main(args):
    roots = load(args[0])
    ints = load(args[1])
    by_subject = {c.subject.public_bytes(): c for c in roots + ints}
    failed = False
    for path in args:
        try:
            certs = load(path)
        except Exception as e:  # noqa: BLE001 - report any parse failure
            print(f"FAIL {path}: {e!r}")
            failed = True
            continue
        for c in certs:
            try:
                exts = [e.oid.dotted_string for e in c.extensions]  # decodes every extension
                at, hops = c, 0
                while True:
                    issuer = by_subject.get(at.issuer.public_bytes())
                    if issuer is None:
                        raise ValueError("issuer not found: " + at.issuer.rfc4514_string())
                    issuer.public_key().verify(at.signature, at.tbs_certificate_bytes, padding.PKCS1v15(), at.signature_hash_algorithm)
                    if issuer in roots:
                        break
                    at, hops = issuer, hops + 1
                    if hops > 3:
                        raise ValueError("chain too long")
                print(f"OK {path} {c.subject.rfc4514_string()} exts={','.join(exts)}")
            except Exception as e:  # noqa: BLE001
                print(f"FAIL {path}: {e!r}")
                failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
