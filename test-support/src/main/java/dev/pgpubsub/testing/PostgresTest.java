package dev.pgpubsub.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that runs against a real Postgres. Test constructors, lifecycle methods and
 * test methods may declare parameters of these types:
 * <ul>
 *   <li>{@link TestDatabase}: a database created for this test class on the JVM's shared server,
 *       dropped after the class;</li>
 *   <li>{@link PostgresServer}: the shared server itself (do not stop it);</li>
 *   <li>{@link EmbeddedPostgresServer}: a dedicated server for this test class, which the test may
 *       stop, restart and kill; closed after the class.</li>
 * </ul>
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@ExtendWith(PostgresExtension.class)
public @interface PostgresTest {
}
