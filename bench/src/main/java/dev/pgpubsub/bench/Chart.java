package dev.pgpubsub.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/** The recovery chart: heap in use after GC through each drain, one line per backlog size. */
final class Chart {

    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd)};

    private Chart() {
    }

    static void recoveryHeap(Path file, Map<Long, List<long[]>> samplesByBacklog) throws IOException {
        int width = 900;
        int height = 480;
        int left = 80;
        int right = 220;
        int top = 50;
        int bottom = 60;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        double maxMiB = 64; // the heap limit of the runs
        int plotW = width - left - right;
        int plotH = height - top - bottom;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString("Start-up recovery at -Xmx64m: heap in use after GC through the drain", left, 28);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(new Color(0xdddddd));
        for (int mib = 0; mib <= maxMiB; mib += 8) {
            int y = top + plotH - (int) (mib / maxMiB * plotH);
            g.drawLine(left, y, left + plotW, y);
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, plotW, plotH);
        for (int mib = 0; mib <= maxMiB; mib += 8) {
            int y = top + plotH - (int) (mib / maxMiB * plotH);
            g.drawString(mib + " MiB", 20, y + 4);
        }
        for (int pct = 0; pct <= 100; pct += 25) {
            int x = left + pct * plotW / 100;
            g.drawString(pct + "%", x - 10, top + plotH + 18);
        }
        g.drawString("share of the recovering process's run time", left + plotW / 2 - 100, top + plotH + 40);
        int i = 0;
        for (Map.Entry<Long, List<long[]>> entry : samplesByBacklog.entrySet()) {
            List<long[]> samples = entry.getValue();
            g.setColor(COLORS[i % COLORS.length]);
            g.setStroke(new BasicStroke(2f));
            long last = samples.isEmpty() ? 1 : Math.max(1, samples.get(samples.size() - 1)[0]);
            int px = -1;
            int py = -1;
            for (long[] s : samples) {
                int x = left + (int) (s[0] * plotW / last);
                int y = top + plotH - (int) (Math.min(maxMiB, s[1] / 1048576.0) / maxMiB * plotH);
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                px = x;
                py = y;
            }
            long peak = samples.stream().mapToLong(s -> s[1]).max().orElse(0);
            int ly = top + 20 + i * 22;
            g.fillRect(left + plotW + 15, ly - 9, 14, 10);
            g.setColor(Color.BLACK);
            g.drawString(String.format("%,d rows (max %.1f MiB)", entry.getKey(), peak / 1048576.0), left + plotW + 35, ly);
            i++;
        }
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }
}
