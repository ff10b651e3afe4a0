package dev.pgpubsub.testing;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Samples, every 100 ms, the heap in use after the latest garbage collection, the JDK's direct
 * buffers, Netty's own direct memory (pgjdbc-ng's buffers, which the JDK does not count) and the
 * process's resident set; keeps the maxima, and every sample of the heap after GC (for charts).
 */
public final class MemorySampler {

    /** Netty's counter of its direct memory, when Netty is on the classpath (found by reflection). */
    private static final Method NETTY_DIRECT = nettyDirect();

    private final AtomicLong heapAfterGc = new AtomicLong();
    private final AtomicLong jdkDirect = new AtomicLong();
    private final AtomicLong nettyDirect = new AtomicLong();
    private final AtomicLong rss = new AtomicLong();

    private final java.util.concurrent.ConcurrentLinkedQueue<long[]> heapSamples = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final long started = System.nanoTime();

    private static Method nettyDirect() {
        try {
            return Class.forName("io.netty.util.internal.PlatformDependent").getMethod("usedDirectMemory");
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }

    private MemorySampler() {
    }

    /**
     * Starts sampling every 100 ms on a daemon thread.
     *
     * @return the sampler, already sampling; it runs until the JVM exits
     */
    public static MemorySampler start() {
        MemorySampler sampler = new MemorySampler();
        Thread t = new Thread(() -> {
            while (true) {
                sampler.sample();
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "memory-sampler");
        t.setDaemon(true);
        t.start();
        return sampler;
    }

    private void sample() {
        long heap = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getCollectionUsage() != null) {
                heap += pool.getCollectionUsage().getUsed();
            }
        }
        heapAfterGc.accumulateAndGet(heap, Math::max);
        if (heapSamples.size() < 100_000) {
            heapSamples.add(new long[] {(System.nanoTime() - started) / 1_000_000, heap});
        }
        List<BufferPoolMXBean> buffers = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class);
        long direct = buffers.stream().filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
        jdkDirect.accumulateAndGet(direct, Math::max);
        nettyDirect.accumulateAndGet(netty(), Math::max);
        rss.accumulateAndGet(residentSetBytes(), Math::max);
    }

    private static long netty() {
        try {
            return NETTY_DIRECT == null ? 0 : (long) NETTY_DIRECT.invoke(null);
        } catch (ReflectiveOperationException e) {
            return 0;
        }
    }

    /**
     * The heap in use after GC at each sample: {milliseconds since start, bytes}.
     *
     * @return a copy of the samples taken so far, oldest first (at most 100,000)
     */
    public List<long[]> heapSamples() {
        return List.copyOf(heapSamples);
    }

    private static long residentSetBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /**
     * "heapAfterGc=... jdkDirect=... nettyDirect=... rss=..." in bytes (maxima).
     *
     * @return the maxima seen so far, after taking one more sample; {@code rss=-1} where the
     *         resident set cannot be read
     */
    public String report() {
        sample();
        return "heapAfterGc=" + heapAfterGc.get() + " jdkDirect=" + jdkDirect.get() + " nettyDirect=" + nettyDirect.get()
                + " rss=" + rss.get();
    }
}
