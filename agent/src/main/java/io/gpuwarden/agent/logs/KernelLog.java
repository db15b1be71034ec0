package io.gpuwarden.agent.logs;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.agent.classify.LogClassifier;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.agent.source.SourceErrorTracker;
import io.gpuwarden.agent.source.kmsg.KmsgReader;
import io.gpuwarden.agent.source.kmsg.KmsgRecord;
import io.gpuwarden.agent.source.kmsg.KmsgStats;
import io.gpuwarden.agent.source.syslog.SyslogFollower;
import io.gpuwarden.agent.source.syslog.SyslogLine;
import io.gpuwarden.agent.state.StateStore;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.EventSeverity;
import io.gpuwarden.proto.v1.LogLine;
import io.gpuwarden.proto.v1.LogSource;
import io.gpuwarden.proto.v1.SourceError;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The host's logs as the agent uses them: reads {@code /dev/kmsg} (or a file in its format) and
 * syslog files, classifies every kernel line into events, and picks the raw lines to forward.
 *
 * <p>In {@link Mode#FOLLOW} (the daemon) readers run on their own threads and each {@link #poll}
 * takes what arrived; the last kernel sequence handled is kept in the {@link StateStore} per boot,
 * so a restarted agent resumes after it instead of judging the same lines twice. In
 * {@link Mode#ONE_SHOT} ({@code agent check}) everything logged since boot (or the look-back) is
 * read once.
 *
 * <p>Lines that cannot be read are never silent: unreadable sources become source-error events,
 * records the kernel overwrote before they were read and lines dropped in a flood are counted in
 * {@link Polled#droppedLines()}.
 */
public final class KernelLog implements AutoCloseable {
  /** How the logs are read. */
  public enum Mode {
    /** Follow new lines until closed, resuming after the last sequence handled on this boot. */
    FOLLOW,
    /** Read what is there once, from the start of the boot or the look-back. */
    ONE_SHOT
  }

  /** State key of the resume point: the last kernel record handled, followed by the boot id. */
  public static final String RESUME_KEY = "kmsg.last-sequence/";
  private static final int MAX_PER_POLL = 20_000;
  /**
   * How often the resume point is written while only plain records (no event) arrive: each write
   * is a synced file replacement, and after a crash those records are at worst handled again. A
   * record that raised an event is written at once, so a crash never counts an event twice.
   */
  public static final Duration RESUME_WRITE_INTERVAL = Duration.ofSeconds(60);
  private static final Duration GAP_REPORT_INTERVAL = Duration.ofMinutes(1);
  private static final Duration ONE_SHOT_QUIET = Duration.ofMillis(150);

  private final LogConfig config;
  private final LogClassifier classifier;
  private final StateStore state;
  private final String bootId;
  private final Instant bootTime;
  private final Clock clock;
  private final Mode mode;
  private final LogForwarder forwarder;
  private final SourceErrorTracker errors;
  private final KmsgReader kmsg;
  private final String kmsgName;
  private final String kmsgUnusable;
  private final List<SyslogFollower> syslogs = new ArrayList<>();
  private final List<Path> syslogPaths = new ArrayList<>();
  private final long[] syslogDroppedSeen;
  private final SplitLineJoiner kmsgLines = SplitLineJoiner.defaults();
  private final List<SyslogKernelLines> syslogKernelLines = new ArrayList<>();
  /** Classifies one logical kernel line into {@link #classifiedInto}. */
  private final SplitLineJoiner.Sink classify = this::classifyLine;
  private List<Event> classifiedInto;
  private long kmsgDroppedSeen;
  private long kmsgMissedSeen;
  private long missedUnreported;
  private Instant lastGapReport = Instant.MIN;
  private long lastHandledSequence = -1;
  private long persistedSequence = -1;
  private Instant lastResumeWrite = Instant.MIN;
  private Instant lookbackStart;
  private boolean syslogReadOnce;

  /**
   * What one poll produced.
   *
   * @param events classified events and source errors, in the order read
   * @param lines raw lines to forward
   * @param droppedLines lines not forwarded though they qualified: rate limit, reader queue
   *     overflow, and kernel records overwritten before they were read
   */
  public record Polled(List<Event> events, List<LogLine> lines, long droppedLines) {}

  private KernelLog(LogConfig config, LogClassifier classifier, StateStore state, String bootId, Instant bootTime, Clock clock,
      Mode mode) {
    this.config = requireNonNull(config, "config");
    this.classifier = requireNonNull(classifier, "classifier");
    this.state = requireNonNull(state, "state");
    this.bootId = requireNonNull(bootId, "bootId");
    this.bootTime = requireNonNull(bootTime, "bootTime");
    this.clock = requireNonNull(clock, "clock");
    this.mode = requireNonNull(mode, "mode");
    this.forwarder = LogForwarder.of(config);
    this.errors = new SourceErrorTracker("kernel-log", clock);
    Path kmsgPath = config.kmsg().orElse(null);
    this.kmsgName = kmsgPath == null ? "" : kmsgPath.toString();
    String why = null;
    KmsgReader reader = null;
    if (kmsgPath != null) {
      if (!Files.exists(kmsgPath)) {
        why = "cannot read " + kmsgPath + ": no such file";
      } else if (!Files.isReadable(kmsgPath)) {
        why = "cannot read " + kmsgPath + ": permission denied (run the agent as root, or set kernel.dmesg_restrict=0)";
      } else {
        KmsgReader.Options options = KmsgReader.Options.DEFAULTS.withCapacity(config.queueCapacity())
            .withImportant(r -> classifier.matches(r.message()) || kmsgLines.mayBelong(r.message()));
        if (mode == Mode.FOLLOW) {
          long resume = resumeSequence();
          options = options.resumingAfter(resume).following(Duration.ofMillis(200));
          lastHandledSequence = resume;
          persistedSequence = resume;
        }
        reader = Files.isRegularFile(kmsgPath) ? KmsgReader.file(kmsgPath, options) : KmsgReader.device(kmsgPath, options);
      }
    }
    this.kmsg = reader;
    this.kmsgUnusable = why;
    for (Path p : config.syslogFiles()) {
      if (mode == Mode.FOLLOW) {
        syslogs.add(new SyslogFollower(p, new SyslogFollower.Options(config.queueCapacity(), false, Duration.ofMillis(500))));
      }
      syslogPaths.add(p);
      syslogKernelLines.add(new SyslogKernelLines());
    }
    this.syslogDroppedSeen = new long[syslogs.size()];
  }

  /**
   * Opens the configured logs and starts their readers. A log that cannot be opened is not fatal:
   * it is reported by {@link #problems()} and as a source-error event in the first poll.
   *
   * @param bootTime when the machine booted, to turn kernel timestamps into wall time
   */
  public static KernelLog open(LogConfig config, LogClassifier classifier, StateStore state, String bootId, Instant bootTime,
      Clock clock, Mode mode) {
    KernelLog log = new KernelLog(config, classifier, state, bootId, bootTime, clock, mode);
    log.start();
    return log;
  }

  private void start() {
    if (mode == Mode.FOLLOW) {
      for (String key : state.withPrefix(RESUME_KEY).keySet()) {
        if (!key.equals(RESUME_KEY + bootId)) {
          state.put(key, null); // a sequence of another boot means nothing on this one
        }
      }
    }
    if (kmsgUnusable != null) {
      errors.failed("kmsg", Component.getDefaultInstance(), kmsgUnusable);
    }
    if (kmsg != null) {
      kmsg.start();
    }
    if (mode == Mode.FOLLOW) {
      syslogs.forEach(SyslogFollower::start);
    } else {
      lookbackStart = config.checkLookback().map(d -> clock.instant().minus(d)).orElse(bootTime);
    }
  }

  private long resumeSequence() {
    try {
      return state.get(RESUME_KEY + bootId).map(Long::parseLong).orElse(-1L);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * In {@link Mode#ONE_SHOT}: waits until everything logged so far has been read (end of a file,
   * or {@code /dev/kmsg} quiet for a moment), at most {@code max}.
   */
  public void awaitCaughtUp(Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    if (kmsg != null) {
      while (!kmsg.idleFor(ONE_SHOT_QUIET) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
    }
  }

  /** Returns one line per log source: what is read, or why it cannot be. */
  public List<String> describe() {
    List<String> out = new ArrayList<>();
    if (kmsg != null) {
      out.add("kernel log " + kmsgName + (persistedSequence >= 0 ? " (resuming after sequence " + persistedSequence + ")" : ""));
    }
    for (Path p : syslogPaths) {
      out.add("syslog " + p);
    }
    return out;
  }

  /** Returns why configured logs cannot be read, one entry each. */
  public List<String> problems() {
    List<String> out = new ArrayList<>();
    if (kmsgUnusable != null) {
      out.add(kmsgUnusable);
    } else if (kmsg != null && !kmsg.stats().lastError().isEmpty()) {
      out.add(kmsg.stats().lastError());
    }
    for (SyslogFollower f : syslogs) {
      if (!f.stats().lastError().isEmpty()) {
        out.add(f.stats().lastError());
      }
    }
    return out;
  }

  /** Returns the kernel reader's counters, when a kernel log is read. */
  public Optional<KmsgStats> kmsgStats() {
    return kmsg == null ? Optional.empty() : Optional.of(kmsg.stats());
  }

  /** Returns the lines forwarded and dropped since start. */
  public LogForwarder forwarder() {
    return forwarder;
  }

  /** Takes what the readers have read since the last poll: events, lines to forward, drops. */
  public Polled poll() {
    Instant now = clock.instant();
    long nanos = System.nanoTime();
    List<Event> events = new ArrayList<>();
    classifiedInto = events;
    if (kmsg != null) {
      pollKmsg(now, nanos, events);
    }
    if (mode == Mode.ONE_SHOT) {
      readSyslogOnce(now, nanos, events);
    }
    for (int i = 0; i < syslogs.size(); i++) {
      SyslogFollower f = syslogs.get(i);
      SyslogKernelLines kernelLines = syslogKernelLines.get(i);
      for (SyslogLine line : f.drain(MAX_PER_POLL)) {
        syslogLine(line, kernelLines, now, nanos, events);
      }
      kernelLines.joiner.endOfBatch(classify);
      SyslogFollower.Stats st = f.stats();
      forwarder.countDropped(st.dropped() - syslogDroppedSeen[i]);
      syslogDroppedSeen[i] = st.dropped();
      if (st.lastError().isEmpty()) {
        errors.succeeded("syslog:" + syslogPaths.get(i), Component.getDefaultInstance());
      } else {
        errors.failed("syslog:" + syslogPaths.get(i), Component.getDefaultInstance(), st.lastError());
      }
    }
    events.addAll(errors.drainEvents());
    LogForwarder.Drained d = forwarder.drain();
    return new Polled(events, d.lines(), d.dropped());
  }

  private void readSyslogOnce(Instant now, long nanos, List<Event> events) {
    if (syslogReadOnce) {
      return;
    }
    syslogReadOnce = true;
    for (int i = 0; i < syslogPaths.size(); i++) {
      Path p = syslogPaths.get(i);
      SyslogKernelLines kernelLines = syslogKernelLines.get(i);
      try (java.util.stream.Stream<String> lines = Files.lines(p, java.nio.charset.StandardCharsets.UTF_8)) {
        lines.forEach(l -> syslogLine(SyslogLine.parse(l), kernelLines, now, nanos, events));
        kernelLines.joiner.flush(classify);
        errors.succeeded("syslog:" + p, Component.getDefaultInstance());
      } catch (java.io.IOException | java.io.UncheckedIOException e) {
        errors.failed("syslog:" + p, Component.getDefaultInstance(), "cannot read " + p + ": " + e.getMessage());
      }
    }
  }

  private void syslogLine(SyslogLine line, SyslogKernelLines kernelLines, Instant now, long nanos, List<Event> events) {
    Instant time = SyslogTimes.parse(line.timestamp(), now).orElse(now);
    boolean classifyKernel = kmsg == null || kmsgUnusable != null;
    String kernelMessage = null;
    if (line.fromKernel()) {
      kernelMessage = line.message();
      kernelLines.lastKernelTime = time;
    } else if (line.tag().isEmpty() && kernelLines.lastKernelTime != null && line.message().startsWith(" ")) {
      // journalctl and dmesg write the later lines of a multi-line kernel record indented, without a header
      kernelMessage = line.message().strip();
      time = kernelLines.lastKernelTime;
    } else {
      kernelLines.lastKernelTime = null;
    }
    if (mode == Mode.ONE_SHOT && time.isBefore(lookbackStart)) {
      return;
    }
    int before = events.size();
    if (classifyKernel && kernelMessage != null) {
      // rsyslog writes the newlines inside a kernel record as #012
      String message = kernelMessage.contains("#012") ? kernelMessage.replace("#012", "\n") : kernelMessage;
      kernelLines.joiner.offer(message, time, -1, classify);
    }
    // A plain log file carries no priority: its lines count as info unless a rule says more.
    int priority = Math.min(6, worstPriority(events, before));
    forwarder.offer(LogLine.newBuilder().setSource(LogSource.LOG_SOURCE_SYSLOG).setPriority(priority)
        .setFacility(line.fromKernel() ? 0 : 1).setTime(ProtoTime.of(time))
        .setText(line.tag().isEmpty() ? line.message() : line.tag() + ": " + line.message()).build(), nanos);
  }

  private void pollKmsg(Instant now, long nanos, List<Event> events) {
    int eventsBefore = events.size();
    for (KmsgRecord r : kmsg.drain(MAX_PER_POLL)) {
      Instant time = r.wallTime(bootTime);
      lastHandledSequence = Math.max(lastHandledSequence, r.sequence());
      if (mode == Mode.ONE_SHOT && time.isBefore(lookbackStart)) {
        continue;
      }
      int before = events.size();
      kmsgLines.offer(r.message(), time, r.sequence(), classify);
      int priority = Math.min(r.priority(), worstPriority(events, before));
      forwarder.offer(LogLine.newBuilder().setSource(LogSource.LOG_SOURCE_KMSG).setPriority(priority)
          .setFacility(r.facility()).setSequence(r.sequence()).setTime(ProtoTime.of(time)).setText(r.message()).build(), nanos);
    }
    if (mode == Mode.ONE_SHOT) {
      kmsgLines.flush(classify);
    } else {
      kmsgLines.endOfBatch(classify);
    }
    KmsgStats st = kmsg.stats();
    forwarder.countDropped(st.dropped() - kmsgDroppedSeen + st.missedRecords() - kmsgMissedSeen);
    missedUnreported += st.missedRecords() - kmsgMissedSeen;
    kmsgDroppedSeen = st.dropped();
    kmsgMissedSeen = st.missedRecords();
    if (missedUnreported > 0 && !now.isBefore(lastGapReport.plus(GAP_REPORT_INTERVAL))) {
      events.add(gapEvent(now, missedUnreported, st.gaps()));
      missedUnreported = 0;
      lastGapReport = now;
    }
    if (st.lastError().isEmpty()) {
      errors.succeeded("kmsg", Component.getDefaultInstance());
    } else {
      errors.failed("kmsg", Component.getDefaultInstance(), st.lastError());
    }
    boolean raisedEvents = events.size() > eventsBefore;
    if (mode == Mode.FOLLOW && lastHandledSequence != persistedSequence
        && (raisedEvents || !now.isBefore(lastResumeWrite.plus(RESUME_WRITE_INTERVAL)))) {
      persistResume(now);
    }
  }

  private void persistResume(Instant now) {
    // A line held for its continuation is not handled yet: after a crash it is read again.
    long handled = kmsgLines.holding() ? Math.min(lastHandledSequence, kmsgLines.heldTag() - 1) : lastHandledSequence;
    state.put(RESUME_KEY + bootId, Long.toString(handled));
    persistedSequence = handled;
    lastResumeWrite = now;
  }

  private void classifyLine(String text, Instant time) {
    classifier.classify(text, time).ifPresent(classifiedInto::add);
  }

  /** Returns the syslog priority of the most severe event added after index {@code from}; 7 when none. */
  private static int worstPriority(List<Event> events, int from) {
    int priority = 7;
    for (int i = from; i < events.size(); i++) {
      priority = Math.min(priority, priorityOf(events.get(i).getSeverity()));
    }
    return priority;
  }

  /** Per syslog file: the joiner of split kernel lines and the time of the last kernel line. */
  private static final class SyslogKernelLines {
    final SplitLineJoiner joiner = SplitLineJoiner.defaults();
    Instant lastKernelTime;
  }

  private Event gapEvent(Instant now, long missed, long gaps) {
    String what = missed + " kernel log records were overwritten before the agent read them (" + gaps
        + " gaps since start); faults logged in them may be missed";
    return Event.newBuilder()
        .setId(UUID.randomUUID().toString())
        .setTime(ProtoTime.of(now))
        .setSeverity(EventSeverity.EVENT_SEVERITY_WARNING)
        .setComponent(Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_SOURCE).setSource("kmsg"))
        .setMessage("kmsg: " + what)
        .setAction(SuggestedAction.SUGGESTED_ACTION_NONE)
        .setSourceError(SourceError.newBuilder().setSource("kmsg").setError(what))
        .build();
  }

  /** Returns the syslog priority of an event severity: critical 2, error 3, warning 4, info 6. */
  static int priorityOf(EventSeverity severity) {
    return switch (severity) {
      case EVENT_SEVERITY_CRITICAL -> 2;
      case EVENT_SEVERITY_ERROR -> 3;
      case EVENT_SEVERITY_WARNING -> 4;
      default -> 6;
    };
  }

  /** Stops the readers and writes the last sequence handled. */
  @Override
  public void close() {
    if (kmsg != null) {
      kmsg.stop();
    }
    syslogs.forEach(SyslogFollower::stop);
    if (mode == Mode.FOLLOW && lastHandledSequence != persistedSequence) {
      persistResume(clock.instant());
    }
  }
}
