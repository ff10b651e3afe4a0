package dev.pgpubsub.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority made for one test, and the server certificate it signs for
 * {@code localhost}: PEM files for a server with {@code ssl=on} and for clients that verify it.
 *
 * @param caCertificate     the authority's certificate (a client's {@code sslrootcert})
 * @param serverCertificate the server's certificate, for {@code localhost} and 127.0.0.1
 * @param serverKey         the server's private key (PEM, readable by its owner only)
 */
public record TestCertificates(Path caCertificate, Path serverCertificate, Path serverKey) {

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /**
     * Makes a new authority and a server certificate under {@code dir}.
     *
     * @param dir an existing directory
     * @return the files
     * @throws UncheckedIOException when a file cannot be written
     */
    public static TestCertificates create(Path dir) {
        try {
            KeyPair caKeys = keyPair();
            X500Name caName = new X500Name("CN=pgpubsub test authority " + SERIAL.incrementAndGet());
            X509v3CertificateBuilder ca = builder(caName, caName, caKeys)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            X509Certificate caCert = sign(ca, caKeys);

            KeyPair serverKeys = keyPair();
            X509v3CertificateBuilder server = builder(caName, new X500Name("CN=localhost"), serverKeys)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.dNSName, "localhost"),
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
            X509Certificate serverCert = sign(server, caKeys);

            TestCertificates files = new TestCertificates(dir.resolve("ca.crt"), dir.resolve("server.crt"),
                    dir.resolve("server.key"));
            pem(files.caCertificate(), caCert);
            pem(files.serverCertificate(), serverCert);
            pem(files.serverKey(), serverKeys.getPrivate());
            Files.setPosixFilePermissions(files.serverKey(), PosixFilePermissions.fromString("rw-------"));
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not write certificates under " + dir, e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("Could not make test certificates", e);
        }
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), subject, keys.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuerKeys)
            throws OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withRSA").build(issuerKeys.getPrivate())));
    }

    private static void pem(Path file, Object object) throws IOException {
        try (Writer out = Files.newBufferedWriter(file); JcaPEMWriter pem = new JcaPEMWriter(out)) {
            pem.writeObject(object);
        }
    }
}
