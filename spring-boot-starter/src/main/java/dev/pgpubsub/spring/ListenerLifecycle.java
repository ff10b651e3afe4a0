package dev.pgpubsub.spring;

import dev.pgpubsub.listener.ClaimTransactions;
import dev.pgpubsub.listener.Listener;
import dev.pgpubsub.listener.ListenerBuilder;
import dev.pgpubsub.listener.ListenerObserver;
import dev.pgpubsub.listener.RetryPolicy;
import dev.pgpubsub.listener.Schedule;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.env.Environment;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The pgpubsub {@link Listener} of a Spring application, run as a {@link SmartLifecycle}: once every
 * singleton exists it finds the beans with {@code @Listen} methods (AOP proxies included: the
 * annotations are read on the target class and every call goes through the proxy, so that
 * {@code @Transactional} and other advice apply) and builds the listener, so that a wrong handler
 * fails start-up; it starts the listener when the context has been refreshed, and closes it when the
 * context stops, letting running handlers finish within the shutdown grace.
 *
 * <p>With a transaction manager, each batch runs in a Spring transaction of it (see
 * {@code docs/spring-boot.md}, Transactions), which JdbcTemplate and {@code @Transactional(REQUIRED)}
 * methods called by a handler join.
 *
 * <p>The listener publishes the schedules of the {@code pgpubsub.schedules.*} properties and of the
 * {@link Schedule} beans (see {@code docs/spring-boot.md}, Schedules).
 *
 * <p>Worker connections come from the application's DataSource; the LISTEN connection is built from
 * {@code pgpubsub.listener.jdbc-url}, else {@code spring.datasource.url}, else the HikariDataSource's
 * jdbcUrl.
 */
public class ListenerLifecycle implements SmartLifecycle, SmartInitializingSingleton, BeanFactoryAware, DisposableBean {

    /**
     * The lifecycle phase: the last to start and the first to stop (Spring's default phase), so the
     * listener stops before a web server's graceful shutdown and long before the DataSource closes.
     */
    public static final int PHASE = SmartLifecycle.DEFAULT_PHASE;

    /** Spring Boot's default {@code spring.lifecycle.timeout-per-shutdown-phase}. */
    static final Duration DEFAULT_SHUTDOWN_PHASE_TIMEOUT = Duration.ofSeconds(30);

    private static final Logger LOG = LoggerFactory.getLogger(ListenerLifecycle.class);

    private final PgPubSubProperties properties;
    private final DataSource dataSource;
    private final Environment environment;
    private final ClaimTransactions claimTransactions;
    private ListenerObserver observer;
    private List<PgPubSubCustomizer> customizers = List.of();
    private ConfigurableListableBeanFactory beanFactory;

    /** Where the listener is in its life, for the health indicator. */
    enum State {
        /** Built, or about to be: the context is not refreshed yet. */
        NOT_STARTED,
        /** {@link Listener#start()} runs: it blocks while the database is unreachable. */
        STARTING,
        /** Started and not stopped. */
        RUNNING,
        /** {@link Listener#close()} runs: running handlers finish within the shutdown grace. */
        STOPPING,
        /** Closed. */
        STOPPED
    }

    private ListenerBuilder builder;
    private List<String> handlerBeans = List.of();
    // Volatile, read without the lock: start() holds it while the database is unreachable, and stop()
    // for the shutdown grace, and a health check must not wait for either.
    private volatile Listener listener;
    private volatile State state = State.NOT_STARTED;
    private volatile boolean running;
    private boolean used;

    /**
     * A lifecycle for the application's handler beans.
     *
     * @param properties  the {@code pgpubsub.*} properties
     * @param dataSource  the application's DataSource, for the workers' connections
     * @param environment for {@code spring.datasource.*} and {@code spring.lifecycle.*}
     */
    public ListenerLifecycle(PgPubSubProperties properties, DataSource dataSource, Environment environment) {
        this(properties, dataSource, environment, null);
    }

    /**
     * A lifecycle for the application's handler beans whose batches run in Spring transactions of
     * {@code transactionManager}, which handler code joins.
     *
     * @param properties         the {@code pgpubsub.*} properties
     * @param dataSource         the application's DataSource, for the workers' connections
     * @param environment        for {@code spring.datasource.*} and {@code spring.lifecycle.*}
     * @param transactionManager the application's transaction manager, which must manage
     *                           {@code dataSource}; null for the listener's own transactions
     * @throws TransactionManagerMismatchException when the transaction manager manages another
     *                                             DataSource, or none
     */
    public ListenerLifecycle(PgPubSubProperties properties, DataSource dataSource, Environment environment,
            PlatformTransactionManager transactionManager) {
        this.properties = properties;
        this.dataSource = dataSource;
        this.environment = environment;
        this.claimTransactions = transactionManager == null ? null
                : SpringClaimTransactions.on(transactionManager, dataSource);
    }

    /**
     * Tells {@code observer} (the metrics) what the listener does, from its start on.
     *
     * @param observer the observer
     */
    void observer(ListenerObserver observer) {
        this.observer = observer;
    }

    /**
     * Applies {@code customizers} to the listener's builder, in this order, after the properties.
     *
     * @param customizers the customizer beans
     */
    void customizers(List<PgPubSubCustomizer> customizers) {
        this.customizers = List.copyOf(customizers);
    }

    @Override
    public void setBeanFactory(BeanFactory beanFactory) throws BeansException {
        if (!(beanFactory instanceof ConfigurableListableBeanFactory listable)) {
            throw new IllegalStateException("The pgpubsub listener needs a ConfigurableListableBeanFactory to find the "
                    + "@Listen beans; got a " + beanFactory.getClass().getName());
        }
        this.beanFactory = listable;
    }

    /**
     * Finds the handler beans and builds the listener (not started yet).
     *
     * @throws HandlerRegistrationException when a handler bean is refused
     * @throws MissingListenerJdbcUrlException when there is no JDBC URL for the LISTEN connection
     * @throws IllegalStateException when there is no handler bean, or a {@code pgpubsub.listener.*}
     *                               setting is refused
     */
    @Override
    public void afterSingletonsInstantiated() {
        List<Schedule> schedules = ConfiguredSchedules.find(properties, beanFactory);
        List<HandlerBeans.Found> found = HandlerBeans.find(beanFactory);
        if (found.isEmpty()) {
            LOG.warn("No bean has @Listen methods: the pgpubsub listener does not start{}. Set pgpubsub.listener.enabled=false "
                    + "on nodes that only publish.", schedules.isEmpty() ? ""
                    : ", and its schedules " + ConfiguredSchedules.names(schedules) + " are not published here");
            return;
        }
        ListenerBuilder b = configure();
        HandlerBeans.register(found, b);
        try {
            schedules.forEach(b::schedule);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("The pgpubsub schedules (pgpubsub.schedules.* and Schedule beans) are refused: "
                    + e.getMessage(), e);
        }
        try {
            listener = b.build();
        } catch (IllegalArgumentException e) {
            HandlerRegistrationException handlerProblem = HandlerBeans.classifyBuild(found, e, properties.getSchema());
            if (handlerProblem != null) {
                throw handlerProblem;
            }
            throw new IllegalStateException("The pgpubsub listener's settings (pgpubsub.listener.*) are refused: "
                    + e.getMessage(), e);
        }
        builder = b;
        handlerBeans = found.stream().map(HandlerBeans.Found::name).toList();
        LOG.info("pgpubsub listener serves channels {} with handler beans {}{}", listener.channels(), handlerBeans,
                schedules.isEmpty() ? "" : " and publishes schedules " + ConfiguredSchedules.names(schedules));
    }

    private ListenerBuilder configure() {
        PgPubSubProperties.ListenerSettings s = properties.getListener();
        try {
            ListenerBuilder b = Listener.builder()
                    .dataSource(dataSource)
                    .schema(properties.getSchema())
                    .workers(s.getWorkers())
                    .batchSize(s.getBatchSize())
                    .pollInterval(s.getPollInterval())
                    .pollOnly(s.isPollOnly())
                    .listenPingInterval(s.getListenPingInterval())
                    .heartbeatInterval(s.getHeartbeatInterval())
                    .handlerTimeout(s.getHandlerTimeout())
                    .statementTimeout(s.getStatementTimeout())
                    .outageLimit(s.getOutageLimit())
                    .shutdownGrace(shutdownGrace())
                    .maxPayloadBytes(s.getMaxPayloadBytes())
                    .maxBatchBytes(s.getMaxBatchBytes())
                    .recoverOnStart(s.isRecoverOnStart())
                    .recoveryFetchSize(s.getRecoveryFetchSize())
                    .channels(s.getChannels())
                    .onFailure(cause -> LOG.error("The pgpubsub listener stopped by itself; it runs no handlers until "
                            + "the application restarts", cause));
            if (observer != null) {
                b.observer(observer);
            }
            if (claimTransactions != null) {
                b.claimTransactions(claimTransactions);
            }
            if (s.getMaxAbandonedThreads() != null) {
                b.maxAbandonedThreads(s.getMaxAbandonedThreads());
            }
            PgPubSubProperties.Retry r = s.getRetry();
            RetryPolicy defaults = new RetryPolicy(r.getMaxAttempts(), r.getInitialDelay(), r.getMaxDelay(), r.getJitter());
            b.retryPolicy(defaults);
            for (Map.Entry<String, PgPubSubProperties.ChannelSettings> e : s.getChannel().entrySet()) {
                PgPubSubProperties.ChannelSettings c = e.getValue();
                if (c.getHandlerTimeout() != null) {
                    b.handlerTimeout(e.getKey(), c.getHandlerTimeout());
                }
                if (c.hasRetry()) {
                    b.retryPolicy(e.getKey(), new RetryPolicy(
                            c.getMaxAttempts() != null ? c.getMaxAttempts() : defaults.maxAttempts(),
                            c.getInitialDelay() != null ? c.getInitialDelay() : defaults.initialDelay(),
                            c.getMaxDelay() != null ? c.getMaxDelay() : defaults.maxDelay(),
                            c.getJitter() != null ? c.getJitter() : defaults.jitter()));
                }
            }
            if (!s.isPollOnly()) {
                ListenAddress address = ListenAddress.resolve(s, environment, dataSource);
                if (address == null) {
                    throw new MissingListenerJdbcUrlException(dataSource.getClass().getName());
                }
                try {
                    b.jdbcUrl(address.url()).user(address.user()).password(address.password());
                } catch (IllegalArgumentException e) {
                    throw new IllegalStateException("The JDBC URL of the pgpubsub LISTEN connection, taken from "
                            + address.source() + ", is refused: " + e.getMessage()
                            + ". Set pgpubsub.listener.jdbc-url to the database's jdbc:postgresql: URL.", e);
                }
            }
            customizers.forEach(c -> c.customize(b)); // last: they may change any setting above
            return b;
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("The pgpubsub listener's settings (pgpubsub.listener.*) are refused: "
                    + e.getMessage(), e);
        }
    }

    /**
     * The shutdown grace: as set, else Spring's shutdown timeout per phase less a margin for
     * rolling back and closing, so that the listener has stopped before Spring stops waiting.
     */
    Duration shutdownGrace() {
        Duration phaseTimeout = phaseTimeout();
        Duration set = properties.getListener().getShutdownGrace();
        if (set != null) {
            if (set.compareTo(phaseTimeout) >= 0) {
                LOG.warn("pgpubsub.listener.shutdown-grace ({}) is not shorter than spring.lifecycle.timeout-per-shutdown-phase "
                        + "({}): Spring may stop waiting for the listener before its handlers finish", set, phaseTimeout);
            }
            return set;
        }
        return defaultShutdownGrace(phaseTimeout);
    }

    static Duration defaultShutdownGrace(Duration phaseTimeout) {
        Duration margin = Duration.ofSeconds(5);
        return phaseTimeout.compareTo(margin.multipliedBy(2)) > 0 ? phaseTimeout.minus(margin) : phaseTimeout.dividedBy(2);
    }

    private Duration phaseTimeout() {
        return Binder.get(environment).bind("spring.lifecycle.timeout-per-shutdown-phase", Duration.class)
                .orElse(DEFAULT_SHUTDOWN_PHASE_TIMEOUT);
    }

    /**
     * Starts the listener (again, after a stop: a new one with the same settings and handlers). It
     * blocks until the listener runs; see {@link Listener#start()}.
     */
    @Override
    public synchronized void start() {
        if (running || builder == null) {
            return;
        }
        if (used) {
            listener = builder.build();
        }
        used = true;
        state = State.STARTING;
        try {
            listener.start();
        } catch (RuntimeException | Error e) {
            state = State.STOPPED;
            throw e;
        }
        running = true;
        state = State.RUNNING;
    }

    /** Closes the listener: running handlers finish within the shutdown grace, the rest roll back. */
    @Override
    public synchronized void stop() {
        if (listener != null) {
            if (state == State.RUNNING) {
                state = State.STOPPING;
            }
            try {
                listener.close();
            } finally {
                if (state == State.STOPPING) {
                    state = State.STOPPED;
                }
            }
        }
        running = false;
    }

    /**
     * Closes the listener on a thread of its own and then tells Spring, so that other beans of the
     * same phase stop meanwhile.
     *
     * @param callback told when the listener has closed
     */
    @Override
    public void stop(Runnable callback) {
        Thread stopper = new Thread(() -> {
            try {
                stop();
            } finally {
                callback.run();
            }
        }, "pgpubsub-listener-stop");
        stopper.setDaemon(true);
        stopper.start();
    }

    /**
     * Whether the listener was started and not stopped.
     *
     * @return true while started
     */
    @Override
    public boolean isRunning() {
        return running;
    }

    /**
     * The phase, {@link #PHASE}.
     *
     * @return {@link #PHASE}
     */
    @Override
    public int getPhase() {
        return PHASE;
    }

    /**
     * Closes the listener if a stop did not (a context closed without stopping, or one whose stop
     * timed out): it runs before the DataSource closes, since this bean depends on it.
     */
    @Override
    public void destroy() {
        stop();
    }

    /**
     * The listener, for its channels, {@link Listener#stats()} and {@link Listener#failure()}. Never
     * blocks, not even while the listener starts or stops.
     *
     * @return the listener; empty when no bean has {@code @Listen} methods
     */
    public Optional<Listener> listener() {
        return Optional.ofNullable(listener);
    }

    /**
     * Where the listener is in its life. Never blocks.
     *
     * @return the state; {@link State#NOT_STARTED} when there is no listener
     */
    State state() {
        return state;
    }

    /**
     * The names of the beans whose {@code @Listen} methods the listener runs.
     *
     * @return the bean names, in registration order
     */
    public List<String> handlerBeans() {
        return handlerBeans;
    }
}
