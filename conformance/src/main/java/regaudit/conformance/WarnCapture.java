package regaudit.conformance;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;

import java.util.ArrayList;
import java.util.List;

/** A logback appender that keeps the WARN (and worse) lines logged since the last drain. */
public final class WarnCapture extends AppenderBase<ILoggingEvent> {
    private static final List<String> LINES = new ArrayList<>();

    @Override
    protected void append(ILoggingEvent event) {
        if (event.getLevel().isGreaterOrEqual(Level.WARN)) {
            synchronized (LINES) {
                LINES.add(event.getFormattedMessage());
            }
        }
    }

    /** The lines kept so far, and forget them. */
    public static List<String> drain() {
        synchronized (LINES) {
            List<String> out = new ArrayList<>(LINES);
            LINES.clear();
            return out;
        }
    }
}
