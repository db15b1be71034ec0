package io.gpuwarden.agent.logs;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Puts back together a kernel message that its printer split over several lines, so that one
 * classifier rule sees it whole, and hands every other line on unchanged and at once.
 *
 * <p>The NVIDIA driver prints "GPU has fallen off the bus" at probe time with one {@code printk}
 * whose text holds newlines, every line starting with {@code NVRM: }:
 *
 * <pre>
 * NVRM: The NVIDIA GPU 0000:b3:00.0
 * NVRM: (PCI ID: 10de:26b5) installed in this system has
 * NVRM: fallen off the bus and is not responding to commands.
 * </pre>
 *
 * {@code /dev/kmsg} returns that as one record with the newlines inside; syslog daemons reading
 * the kernel's syslog interface write one line per part; other captures have one record per part.
 * Each is offered here as it comes: a message is first cut at its newlines, and a part that opens a
 * known split form ({@link Form#head()}) is held until its continuations have arrived. The joined
 * line ({@code NVRM: The NVIDIA GPU 0000:b3:00.0 (PCI ID: 10de:26b5) installed in this system has
 * fallen off the bus and is not responding to commands.}) carries the time of its first part.
 *
 * <p>The wait is bounded: a held line is handed on as far as it got when its text is complete, when
 * a line that does not continue it arrives (so nothing is reordered behind it), when a continuation
 * comes more than {@link #WINDOW} after its head, after {@link #MAX_PARTS} parts or
 * {@link #MAX_CHARS} characters, or at the second {@link #endOfBatch} after it was opened (the
 * caller ends a batch at every poll). At most one line is held, so a flood of heads costs no memory:
 * each new head hands on the one before.
 *
 * <p>Not thread-safe; one joiner per log source.
 */
public final class SplitLineJoiner {
  /** How much later (by the lines' own times) a continuation may come than its head. */
  public static final Duration WINDOW = Duration.ofSeconds(2);
  /** Parts joined at most. */
  public static final int MAX_PARTS = 8;
  /** Characters joined at most. */
  public static final int MAX_CHARS = 2048;

  /**
   * The continuation pattern of one printer's split message.
   *
   * @param name what it is, e.g. {@code nvidia-gpu-message}
   * @param prefix every part starts with it; it is dropped from the continuation parts when joined
   * @param head the part that opens the message (searched at the start of a line)
   * @param continuation a later part (searched at the start of a line)
   * @param complete found in the joined text when the message is whole
   */
  public record Form(String name, String prefix, Pattern head, Pattern continuation, Pattern complete) {
    /** Validates. */
    public Form {
      requireNonNull(name, "name");
      requireNonNull(prefix, "prefix");
      requireNonNull(head, "head");
      requireNonNull(continuation, "continuation");
      requireNonNull(complete, "complete");
    }
  }

  /**
   * NVIDIA's "The NVIDIA GPU {@code dddd:bb:ss.f} [(PCI ID: vvvv:dddd)] installed in this system has
   * fallen off the bus and is not responding to commands." ({@code rm_is_supported_device} in
   * {@code src/nvidia/arch/nvalloc/unix/src/osapi.c}), broken over lines at different words by
   * different driver releases. Other "The NVIDIA GPU ..." messages (not supported, legacy) share the
   * head; their later parts start with other words and are left alone.
   */
  public static final Form NVIDIA_GPU_MESSAGE = new Form("nvidia-gpu-message", "NVRM: ",
      Pattern.compile("^NVRM: The NVIDIA GPU \\p{XDigit}{4}:\\p{XDigit}{2}:"),
      Pattern.compile("^NVRM: (?:\\(PCI ID: |installed in this |system has |has fallen |fallen off |and is not )"),
      Pattern.compile("\\.\\s*$"));

  /** Where lines go: the text of one logical line and the time of its first part. */
  @FunctionalInterface
  public interface Sink {
    /** Takes one logical line. */
    void line(String text, Instant time);
  }

  private final List<Form> forms;
  private final Duration window;
  private Form heldForm;
  private final StringBuilder held = new StringBuilder();
  private Instant heldTime;
  private int heldParts;
  private long heldTag = -1;
  private boolean heldThroughBatchEnd;

  /** Creates a joiner of {@code forms} accepting continuations up to {@code window} after their head. */
  public SplitLineJoiner(List<Form> forms, Duration window) {
    this.forms = List.copyOf(forms);
    this.window = requireNonNull(window, "window");
  }

  /** Returns a joiner of the built-in forms ({@link #NVIDIA_GPU_MESSAGE}) with the {@link #WINDOW}. */
  public static SplitLineJoiner defaults() {
    return new SplitLineJoiner(List.of(NVIDIA_GPU_MESSAGE), WINDOW);
  }

  /**
   * Offers one message (a kmsg record's text or a syslog line's message), cut at its newlines.
   * Lines complete now go to {@code out} in order; a head is held.
   *
   * @param time when the message was logged
   * @param tag the caller's mark for the message (e.g. its kmsg sequence), returned by
   *     {@link #heldTag()} while a line it opened is held
   */
  public void offer(String message, Instant time, long tag, Sink out) {
    int newline = message.indexOf('\n');
    if (newline < 0) {
      offerLine(message, time, tag, out);
      return;
    }
    int start = 0;
    while (start <= message.length()) {
      int end = newline < 0 ? message.length() : newline;
      if (end > start) {
        offerLine(message.substring(start, end), time, tag, out);
      }
      if (newline < 0) {
        break;
      }
      start = newline + 1;
      newline = message.indexOf('\n', start);
    }
  }

  private void offerLine(String line, Instant time, long tag, Sink out) {
    if (heldForm != null) {
      if (continues(line, time)) {
        held.append(' ').append(line.substring(heldForm.prefix().length()).strip());
        heldParts++;
        if (heldForm.complete().matcher(held).find() || heldParts >= MAX_PARTS || held.length() >= MAX_CHARS) {
          handOn(out);
        }
        return;
      }
      handOn(out);
    }
    Form form = headOf(line);
    if (form == null || form.complete().matcher(line).find()) {
      out.line(line, time);
      return;
    }
    heldForm = form;
    held.setLength(0);
    held.append(line.stripTrailing());
    heldTime = time;
    heldParts = 1;
    heldTag = tag;
    heldThroughBatchEnd = false;
  }

  private boolean continues(String line, Instant time) {
    return line.startsWith(heldForm.prefix()) && heldForm.continuation().matcher(line).find()
        && !time.isBefore(heldTime) && !time.isAfter(heldTime.plus(window));
  }

  private Form headOf(String line) {
    for (Form f : forms) {
      if (line.startsWith(f.prefix()) && f.head().matcher(line).find()) {
        return f;
      }
    }
    return null;
  }

  private void handOn(Sink out) {
    String text = held.toString().stripTrailing();
    Instant time = heldTime;
    heldForm = null;
    held.setLength(0);
    heldTime = null;
    heldParts = 0;
    heldTag = -1;
    out.line(text, time);
  }

  /**
   * Ends a batch of lines (one poll). A line held since before the previous batch end is handed on
   * as far as it got: its continuation would have been read by now.
   */
  public void endOfBatch(Sink out) {
    if (heldForm == null) {
      return;
    }
    if (heldThroughBatchEnd) {
      handOn(out);
    } else {
      heldThroughBatchEnd = true;
    }
  }

  /** Hands on the held line, if any, as far as it got (at the end of a log read once). */
  public void flush(Sink out) {
    if (heldForm != null) {
      handOn(out);
    }
  }

  /** Returns true while a line is held for its continuation. */
  public boolean holding() {
    return heldForm != null;
  }

  /** Returns the tag of the message that opened the held line; -1 when none is held. */
  public long heldTag() {
    return heldTag;
  }

  /**
   * Returns true when {@code message} opens or continues a split form: a reader that protects the
   * lines a rule matches from floods should protect these too.
   */
  public boolean mayBelong(String message) {
    for (Form f : forms) {
      if (message.startsWith(f.prefix()) && (f.head().matcher(message).find() || f.continuation().matcher(message).find())) {
        return true;
      }
    }
    return false;
  }
}
