import java.io.FileInputStream;
import java.security.cert.*;
import java.util.*;

/**
 * Java (JDK PKIX) as a Java gateway would use it: parse every certificate, then validate each with
 * CertPathValidator against the root (revocation off: this checks parsing and the chain).
 *
 * usage: java Verify.java ROOT.pem INTERMEDIATES.pem LEAF.pem...
 * Prints "OK <file> <subject>" or "FAIL <file>: <error>" per certificate; exit 1 on any FAIL.
 */
public class Verify {
  static List<X509Certificate> load(CertificateFactory cf, String path) throws Exception {
    List<X509Certificate> out = new ArrayList<>();
    try (FileInputStream in = new FileInputStream(path)) {
      for (Certificate c : cf.generateCertificates(in)) out.add((X509Certificate) c);
    }
    if (out.isEmpty()) throw new Exception("no certificate in " + path);
    return out;
  }

  public static void main(String[] args) throws Exception {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    List<X509Certificate> roots = load(cf, args[0]);
    List<X509Certificate> ints = load(cf, args[1]);
    Set<TrustAnchor> anchors = new HashSet<>();
    for (X509Certificate r : roots) anchors.add(new TrustAnchor(r, null));
    CertPathValidator validator = CertPathValidator.getInstance("PKIX");
    boolean failed = false;
    for (String path : args) {
      List<X509Certificate> certs;
      try {
        certs = load(cf, path);
      } catch (Exception e) {
        System.out.println("FAIL " + path + ": " + e);
        failed = true;
        continue;
      }
      for (X509Certificate c : certs) {
        try {
          c.getExtensionValue("2.5.29.17"); // force extension decoding
          Collection<List<?>> sans = c.getSubjectAlternativeNames();
          List<X509Certificate> chain = new ArrayList<>();
          chain.add(c);
          // Build the path by hand: leaf, then the intermediate whose subject is its issuer.
          X509Certificate at = c;
          while (!isRoot(at, roots)) {
            X509Certificate next = null;
            for (X509Certificate i : ints) if (i.getSubjectX500Principal().equals(at.getIssuerX500Principal()) && i != at) next = i;
            if (next == null) break;
            chain.add(next);
            at = next;
          }
          if (isRoot(c, roots)) {
            c.verify(c.getPublicKey());
          } else {
            PKIXParameters params = new PKIXParameters(anchors);
            params.setRevocationEnabled(false);
            validator.validate(cf.generateCertPath(chain), params);
          }
          System.out.println("OK " + path + " " + c.getSubjectX500Principal() + " sans=" + (sans == null ? "" : sans.toString()));
        } catch (Exception e) {
          System.out.println("FAIL " + path + ": " + e);
          failed = true;
        }
      }
    }
    System.exit(failed ? 1 : 0);
  }

  static boolean isRoot(X509Certificate c, List<X509Certificate> roots) {
    for (X509Certificate r : roots) if (r.equals(c)) return true;
    return false;
  }
}
