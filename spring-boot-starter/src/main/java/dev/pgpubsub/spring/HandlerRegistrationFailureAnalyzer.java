package dev.pgpubsub.spring;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains a refused {@code @Listen} bean, by kind of mistake, with what to do. */
class HandlerRegistrationFailureAnalyzer extends AbstractFailureAnalyzer<HandlerRegistrationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, HandlerRegistrationException e) {
        String bean = "bean '" + e.beanName() + "' (" + e.beanClass().getName() + ")";
        String description;
        String action;
        switch (e.problem()) {
            case DUPLICATE_CHANNEL -> {
                description = "Channel '" + e.channel() + "' has two @Listen handlers: " + e.otherHandler() + " and "
                        + bean + ". A pgpubsub listener runs one handler per channel, so that each task is handled "
                        + "once.\n\n" + e.detail();
                action = "Keep one @Listen(\"" + e.channel() + "\") method. To give a task to several consumers, "
                        + "publish it to one channel per consumer.";
            }
            case BAD_CHANNEL_NAME -> {
                description = "A @Listen method of " + bean + " names channel '" + e.channel()
                        + "', which is not a valid pgpubsub channel name.\n\n" + e.detail();
                action = "Name the channel with ASCII letters, digits and underscores, starting with a letter or "
                        + "underscore, short enough that '<schema>.<channel>' fits in 63 bytes "
                        + "(e.g. @Listen(\"order_paid\")).";
            }
            case PAYLOAD_NOT_RECORD -> {
                description = "A @Listen method of " + bean + " (channel '" + e.channel()
                        + "') does not take a record as its payload.\n\n" + e.detail();
                action = "Declare the channel's payload as a Java record (e.g. record OrderPlaced(UUID orderId) {}) and "
                        + "take it as the handler's parameter, optionally with a TaskContext: "
                        + "@Listen(\"orders\") public void onOrder(OrderPlaced order, TaskContext context).";
            }
            case METHOD_NOT_ON_PROXY -> {
                description = bean + " is an interface-based (JDK) proxy, and its interfaces do not declare its "
                        + "@Listen method for channel '" + e.channel() + "', so the proxy cannot be called for it.\n\n"
                        + e.detail();
                action = "Declare the handler method on an interface the bean implements, or have the class proxied: "
                        + "spring.aop.proxy-target-class=true (Spring Boot's default), or proxyTargetClass = true on "
                        + "@EnableTransactionManagement / @EnableAspectJAutoProxy.";
            }
            default -> {
                description = "pgpubsub refused the @Listen methods of " + bean + ":\n\n" + e.detail();
                action = "Change the handler as the message says.";
            }
        }
        return new FailureAnalysis(description, action, e);
    }
}
