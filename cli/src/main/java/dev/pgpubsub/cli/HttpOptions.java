package dev.pgpubsub.cli;

import picocli.CommandLine.Option;

/** Where {@code listen} serves its health checks and metrics over HTTP, if anywhere. */
final class HttpOptions {

    /** The flag turning the endpoints on. */
    static final String PORT_FLAG = "--http-port";
    /** The address the endpoints listen on by default: every interface, where a probe from outside finds them. */
    static final String DEFAULT_HOST = "0.0.0.0";

    @Option(names = PORT_FLAG, paramLabel = "PORT",
            description = "Serve /health/live, /health/ready and /metrics (Prometheus) on this port; 0 for any free "
                    + "one (env PGPUBSUB_HTTP_PORT; default: none, no HTTP server).")
    Integer port;

    @Option(names = "--http-host", paramLabel = "ADDRESS", defaultValue = DEFAULT_HOST,
            description = "The address --http-port listens on, e.g. 127.0.0.1 for this machine only (env "
                    + "PGPUBSUB_HTTP_HOST; default: ${DEFAULT-VALUE}, every interface).")
    String host;

    /** Whether the endpoints are on. */
    boolean enabled() {
        return port != null;
    }
}
