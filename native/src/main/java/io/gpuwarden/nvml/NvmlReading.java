package io.gpuwarden.nvml;

import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * A value NVML returned, or the typed outcome that this device (or driver) does not support the
 * query, which NVML signals with {@code NVML_ERROR_NOT_SUPPORTED}.
 *
 * <pre>{@code
 * NvmlReading<Integer> temperature = device.temperatureCelsius();
 * if (temperature.isSupported()) { record(temperature.value()); }
 * }</pre>
 *
 * @param <T> the value's type
 */
public final class NvmlReading<T> {
    private final String function;
    private final T value;

    private NvmlReading(String function, T value) {
        this.function = Objects.requireNonNull(function, "function");
        this.value = value;
    }

    /** A supported reading not tied to a particular NVML function (handy in tests and fakes). */
    public static <T> NvmlReading<T> of(T value) {
        return of("", value);
    }

    /** A supported reading that {@code function} returned. */
    public static <T> NvmlReading<T> of(String function, T value) {
        return new NvmlReading<>(function, Objects.requireNonNull(value, "value"));
    }

    /** {@code function} answered {@code NVML_ERROR_NOT_SUPPORTED}. */
    public static <T> NvmlReading<T> notSupported(String function) {
        return new NvmlReading<>(function, null);
    }

    /** Whether NVML returned a value. */
    public boolean isSupported() {
        return value != null;
    }

    /**
     * The value.
     *
     * @throws IllegalStateException naming the function, when it is not supported
     */
    public T value() {
        if (value == null) {
            throw new IllegalStateException(function + " is not supported on this device");
        }
        return value;
    }

    /** The value, or {@code other} when not supported. */
    public T orElse(T other) {
        return value != null ? value : other;
    }

    /** The value, or empty when not supported. */
    public Optional<T> toOptional() {
        return Optional.ofNullable(value);
    }

    /** The NVML function that answered; empty for readings made with {@link #of(Object)}. */
    public String function() {
        return function;
    }

    /** Transforms a supported value; a not-supported reading stays not supported. */
    public <R> NvmlReading<R> map(Function<? super T, ? extends R> mapper) {
        Objects.requireNonNull(mapper, "mapper");
        if (value == null) {
            return notSupported(function);
        }
        return new NvmlReading<>(function, Objects.requireNonNull(mapper.apply(value), "mapper returned null"));
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof NvmlReading<?> reading
                && function.equals(reading.function)
                && Objects.equals(value, reading.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(function, value);
    }

    @Override
    public String toString() {
        String source = function.isEmpty() ? "" : function + ": ";
        return "NvmlReading[" + source + (value != null ? value : "not supported") + "]";
    }
}
