package dev.pgpubsub.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives each test class a database of its own on one server shared by the whole JVM; see
 * {@link PostgresTest} and {@link TestServers}. Everything it creates is closed by JUnit when the
 * owning scope ends: the database after its class, the server when the run ends.
 */
public final class PostgresExtension implements BeforeAllCallback, ParameterResolver {

    /** Created by JUnit for {@link PostgresTest} classes. */
    public PostgresExtension() {
    }

    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(PostgresExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        database(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == TestDatabase.class || type == PostgresServer.class || type == EmbeddedPostgresServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context)
            throws ParameterResolutionException {
        Class<?> type = parameter.getParameter().getType();
        if (type == TestDatabase.class) {
            return database(context);
        }
        if (type == PostgresServer.class) {
            return sharedServer(context);
        }
        return classStore(context).computeIfAbsent(EmbeddedPostgresServer.class,
                key -> TestServers.embedded(), EmbeddedPostgresServer.class);
    }

    private static TestDatabase database(ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        return classStore(context).computeIfAbsent(TestDatabase.class,
                key -> sharedServer(context).createDatabase(testClass.getSimpleName()), TestDatabase.class);
    }

    private static PostgresServer sharedServer(ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .computeIfAbsent(PostgresServer.class, key -> TestServers.startShared(), PostgresServer.class);
    }

    /** The store of the class-level context, so that per-class resources outlive single tests. */
    private static ExtensionContext.Store classStore(ExtensionContext context) {
        ExtensionContext classContext = context;
        while (classContext.getTestMethod().isPresent() && classContext.getParent().isPresent()) {
            classContext = classContext.getParent().get();
        }
        return classContext.getStore(NAMESPACE.append(classContext.getRequiredTestClass().getName()));
    }
}
