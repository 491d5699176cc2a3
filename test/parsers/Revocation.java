import java.io.FileInputStream;
import java.security.cert.*;
import java.util.*;

/**
 * A Java gateway's revocation check (JDK PKIX): CertPathValidator with revocation enabled and the
 * PKIXRevocationChecker, which finds the responder and the CRLs through the certificates' own AIA
 * and CDP URLs, as a Java TLS stack does with com.sun.net.ssl.checkRevocation.
 *   ocsp: OCSP for the leaf only (the issuing CA names no responder), no CRL fallback. The JDK
 *         asks with a SHA-1 CertID, by GET (com.sun.security.ocsp.useget) unless -Dcom.sun.security.ocsp.useget=false.
 *   crl:  CRLs only (com.sun.security.enableCRLDP): the leaf's partition CRL and the issuing CA's
 *         entry in the root's ARL.
 *
 * usage: java Revocation.java ocsp|crl ROOT.pem ISSUING.pem LEAF.pem...
 * Prints "OK <leaf> good", "OK <leaf> revoked reason=<CRLReason>" or "FAIL <leaf>: <error>" per leaf.
 */
public class Revocation {
  static X509Certificate load(CertificateFactory cf, String path) throws Exception {
    try (FileInputStream in = new FileInputStream(path)) {
      return (X509Certificate) cf.generateCertificate(in);
    }
  }

  public static void main(String[] args) throws Exception {
    boolean ocsp = args[0].equals("ocsp");
    if (!ocsp) System.setProperty("com.sun.security.enableCRLDP", "true");
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    X509Certificate root = load(cf, args[1]);
    X509Certificate issuing = load(cf, args[2]);
    CertPathValidator validator = CertPathValidator.getInstance("PKIX");
    for (int i = 3; i < args.length; i++) {
      try {
        X509Certificate leaf = load(cf, args[i]);
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        params.setRevocationEnabled(true);
        PKIXRevocationChecker checker = (PKIXRevocationChecker) validator.getRevocationChecker();
        checker.setOptions(ocsp
            ? EnumSet.of(PKIXRevocationChecker.Option.ONLY_END_ENTITY, PKIXRevocationChecker.Option.NO_FALLBACK)
            : EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS, PKIXRevocationChecker.Option.NO_FALLBACK));
        params.addCertPathChecker(checker);
        validator.validate(cf.generateCertPath(List.of(leaf, issuing)), params);
        System.out.println("OK " + args[i] + " good");
      } catch (CertPathValidatorException e) {
        if (e.getCause() instanceof CertificateRevokedException r) {
          System.out.println("OK " + args[i] + " revoked reason=" + r.getRevocationReason());
        } else {
          System.out.println("FAIL " + args[i] + ": " + e);
        }
      } catch (Exception e) {
        System.out.println("FAIL " + args[i] + ": " + e);
      }
    }
  }
}
