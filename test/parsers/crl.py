"""A Python gateway's CRL check with `cryptography` (Debian's python3-cryptography):
load_der_x509_crl, is_signature_valid with the issuer's key, get_revoked_certificate_by_serial_number.

usage: python3 crl.py ISSUER.pem CRL.der SERIALHEX...
Prints "OK entries=N" then "<serial> good" or "<serial> revoked reason=<name or none>" per serial, or "FAIL <error>".
"""
import sys

from cryptography import x509


def main() -> int:
    if len(sys.argv) < 3:
        print("usage: crl.py ISSUER.pem CRL.der SERIALHEX...")
        return 2
    try:
        issuer = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
        crl = x509.load_der_x509_crl(open(sys.argv[2], "rb").read())
        if not crl.is_signature_valid(issuer.public_key()):
            raise ValueError("CRL signature does not verify with the issuer's key")
        lines = [f"OK entries={len(crl)}"]
        for s in sys.argv[3:]:
            entry = crl.get_revoked_certificate_by_serial_number(int(s, 16))
            if entry is None:
                lines.append(f"{s} good")
                continue
            try:
                reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
            except x509.ExtensionNotFound:
                reason = "none"
            lines.append(f"{s} revoked reason={reason}")
        print("\n".join(lines))
        return 0
    except Exception as e:  # noqa: BLE001 - the harness reads the one line
        print(f"FAIL {type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
