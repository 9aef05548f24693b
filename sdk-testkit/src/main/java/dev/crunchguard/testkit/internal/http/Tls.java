package dev.crunchguard.testkit.internal.http;

import java.net.InetAddress;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;

/** A fresh self-signed certificate for https mode, and the matching client trust material. */
public final class Tls {
  public final SSLContext serverContext;
  public final SSLContext clientContext;
  public final X509TrustManager clientTrustManager;
  public final String certificatePem;

  public Tls(InetAddress bind) {
    HeldCertificate.Builder b =
        new HeldCertificate.Builder()
            .commonName("arvados-simulator")
            .addSubjectAlternativeName("localhost")
            .addSubjectAlternativeName("127.0.0.1");
    if (!bind.isAnyLocalAddress() && !bind.getHostAddress().equals("127.0.0.1")) {
      b.addSubjectAlternativeName(bind.getHostAddress());
    }
    HeldCertificate held = b.build();
    HandshakeCertificates server =
        new HandshakeCertificates.Builder().heldCertificate(held).build();
    HandshakeCertificates client =
        new HandshakeCertificates.Builder().addTrustedCertificate(held.certificate()).build();
    this.serverContext = server.sslContext();
    this.clientContext = client.sslContext();
    this.clientTrustManager = client.trustManager();
    this.certificatePem = held.certificatePem();
  }
}
