package dev.pgpubsub.cli;

import dev.pgpubsub.listener.RecoveryProgress;
import java.util.function.Consumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Draws start-up recovery as a progress bar (rows done, rate, time left) on a terminal. */
final class ConsoleProgress implements Consumer<RecoveryProgress> {

    private ProgressBar bar;

    @Override
    public synchronized void accept(RecoveryProgress progress) {
        if (bar == null) {
            bar = new ProgressBarBuilder().setTaskName("Recovery").setInitialMax(Math.max(1, progress.estimatedRows()))
                    .setStyle(ProgressBarStyle.ASCII).setUnit(" rows", 1).showSpeed().continuousUpdate().build();
        }
        if (progress.rowsRead() > bar.getMax()) {
            bar.maxHint(progress.rowsRead());
        }
        bar.stepTo(progress.rowsDone());
        if (progress.finished()) {
            bar.maxHint(progress.rowsDone());
            bar.close();
        }
    }
}
