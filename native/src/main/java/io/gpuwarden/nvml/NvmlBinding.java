package io.gpuwarden.nvml;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import jnr.ffi.LibraryLoader;
import jnr.ffi.LibraryOption;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/**
 * A loaded NVML library and the translation of its return codes into Java: exceptions, typed
 * not-supported readings, and {@link NvmlReturn#FUNCTION_NOT_FOUND} for missing symbols.
 *
 * <p>Stateless apart from the closed flag, so one binding serves any number of threads.
 */
final class NvmlBinding {
    /** The soname; real driver installs often ship no unversioned {@code libnvidia-ml.so}. */
    static final String SONAME = "libnvidia-ml.so.1";

    private final NvmlNative.Library library;
    private final Runtime runtime;
    private final Path libraryPath;
    /** Symbols found missing, so that an older driver's absent call is not tried (and an error built) every time. */
    private final Set<String> missingSymbols = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private NvmlBinding(NvmlNative.Library library, Path libraryPath) {
        this.library = library;
        this.runtime = Runtime.getRuntime(library);
        this.libraryPath = libraryPath;
    }

    /** Loads exactly {@code file}, which must exist. */
    static NvmlBinding loadFile(Path file) {
        Path absolute = file.toAbsolutePath().normalize();
        List<String> tried = List.of(absolute.toString());
        if (!Files.isRegularFile(absolute)) {
            String reason = Files.exists(absolute) ? "not a regular file" : "no such file";
            throw new NvmlLibraryNotFoundException(tried, reason, null);
        }
        return new NvmlBinding(load(absolute.toString(), tried), absolute);
    }

    /**
     * Loads {@code soname} the way the dynamic loader finds it: {@code LD_LIBRARY_PATH} as the
     * JVM started with it, {@code /etc/ld.so.cache}, then the default directories.
     */
    static NvmlBinding loadFromSystem(String soname) {
        String ldLibraryPath = Objects.requireNonNullElse(System.getenv("LD_LIBRARY_PATH"), "");
        List<String> tried = List.of(soname + " via the system loader (LD_LIBRARY_PATH=" + ldLibraryPath
                + ", /etc/ld.so.cache, /lib, /usr/lib)");
        return new NvmlBinding(load(soname, tried), Path.of(soname));
    }

    private static NvmlNative.Library load(String nameOrPath, List<String> tried) {
        try {
            // jnr-ffi 2.3.4 first hands the name to dlopen unchanged, so a path loads exactly that
            // file and a bare soname goes through the system search. LoadNow plus failImmediately
            // make a library that will not load throw here; without them jnr-ffi returns a proxy
            // that throws on every call. Missing symbols still only fail when called.
            return LibraryLoader.create(NvmlNative.Library.class)
                    .failImmediately()
                    .option(LibraryOption.LoadNow, Boolean.TRUE)
                    .option(LibraryOption.IgnoreError, Boolean.TRUE)
                    .load(nameOrPath);
        } catch (UnsatisfiedLinkError e) {
            throw new NvmlLibraryNotFoundException(tried, firstLine(e.getMessage()), e);
        }
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unknown loader error";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    NvmlNative.Library library() {
        return library;
    }

    Runtime runtime() {
        return runtime;
    }

    Path libraryPath() {
        return libraryPath;
    }

    /** Marks the binding closed; later calls fail with UNINITIALIZED without reaching NVML. */
    void markClosed() {
        closed = true;
    }

    /**
     * Makes one NVML call and returns its raw code, for callers that handle codes themselves. A
     * symbol missing from the library comes back as {@link NvmlReturn#FUNCTION_NOT_FOUND}.
     */
    int rawCall(IntSupplier call) {
        if (closed) {
            return NvmlReturn.UNINITIALIZED.code();
        }
        try {
            return call.getAsInt();
        } catch (UnsatisfiedLinkError e) {
            return NvmlReturn.FUNCTION_NOT_FOUND.code();
        }
    }

    /**
     * {@link #rawCall(IntSupplier)} for a call that older drivers lack, {@code symbol} being the one
     * it calls: once the library has been found without it, {@link NvmlReturn#FUNCTION_NOT_FOUND}
     * comes back at once, without calling (jnr-ffi would throw a fresh {@link UnsatisfiedLinkError}
     * every time).
     */
    int optionalCall(String symbol, IntSupplier call) {
        if (closed) {
            return NvmlReturn.UNINITIALIZED.code();
        }
        if (missingSymbols.contains(symbol)) {
            return NvmlReturn.FUNCTION_NOT_FOUND.code();
        }
        try {
            return call.getAsInt();
        } catch (UnsatisfiedLinkError e) {
            missingSymbols.add(symbol);
            return NvmlReturn.FUNCTION_NOT_FOUND.code();
        }
    }

    /** Makes one NVML call that must succeed. */
    void check(String function, IntSupplier call) {
        int code = invoke(function, call);
        if (code != NvmlReturn.SUCCESS.code()) {
            throw failure(function, code, null);
        }
    }

    /** Makes one NVML call whose {@code NOT_SUPPORTED} is an answer, and reads the result with {@code value}. */
    <T> NvmlReading<T> read(String function, IntSupplier call, Supplier<T> value) {
        int code = invoke(function, call);
        if (code == NvmlReturn.NOT_SUPPORTED.code()) {
            return NvmlReading.notSupported(function);
        }
        if (code != NvmlReturn.SUCCESS.code()) {
            throw failure(function, code, null);
        }
        return NvmlReading.of(function, value.get());
    }

    /**
     * Makes one NVML call and returns its code, for callers that give some codes a meaning of their
     * own (e.g. TIMEOUT); a missing symbol throws {@link NvmlException} with {@code FUNCTION_NOT_FOUND}.
     */
    int invoke(String function, IntSupplier call) {
        if (closed) {
            return NvmlReturn.UNINITIALIZED.code();
        }
        try {
            return call.getAsInt();
        } catch (UnsatisfiedLinkError e) {
            throw failure(function, NvmlReturn.FUNCTION_NOT_FOUND.code(), e);
        }
    }

    /** Calls a {@code (char *buffer, unsigned int length)} function and decodes the string. */
    NvmlReading<String> readString(String function, int bufferSize, StringCall call) {
        byte[] buffer = new byte[bufferSize];
        return read(function, () -> call.fill(buffer, buffer.length), () -> decode(buffer));
    }

    /** Lays {@code struct} over fresh, zeroed native memory, which calls taking a {@code Pointer} need. */
    <S extends Struct> S direct(S struct) {
        struct.useMemory(runtime.getMemoryManager().allocateDirect(Struct.size(struct), true));
        return struct;
    }

    NvmlException failure(String function, int code, Throwable cause) {
        return new NvmlException(function, code, errorString(code), cause);
    }

    private String errorString(int code) {
        try {
            String message = library.nvmlErrorString(code);
            return message != null ? message : "";
        } catch (UnsatisfiedLinkError e) {
            return "";
        }
    }

    /** The UTF-8 text before the first NUL. */
    static String decode(byte[] buffer) {
        int length = 0;
        while (length < buffer.length && buffer[length] != 0) {
            length++;
        }
        return new String(buffer, 0, length, StandardCharsets.UTF_8);
    }

    /** {@code text} as a NUL-terminated UTF-8 C string. */
    static byte[] encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(bytes, bytes.length + 1);
    }

    /** An NVML function that writes a string into a caller's buffer. */
    @FunctionalInterface
    interface StringCall {
        int fill(byte[] buffer, int length);
    }
}
