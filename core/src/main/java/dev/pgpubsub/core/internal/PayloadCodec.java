package dev.pgpubsub.core.internal;

import java.lang.reflect.Type;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import com.fasterxml.jackson.annotation.JsonInclude;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;

/**
 * Payloads as JSON. Never Java serialization, and never a class name taken from the data: the type
 * always comes from the channel. Unknown properties are ignored on read, so rows written by a newer
 * publisher during a rolling deploy still read. Records are strict ({@link StrictRecords}): a payload
 * that lacks a component which is neither an {@code Optional} nor {@code @Nullable} does not map, with
 * every mapper, the application's included.
 */
public final class PayloadCodec {

    private static final JsonMapper DEFAULT_MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .addModule(StrictRecords.module())
            .build();

    private final JsonMapper mapper;

    private PayloadCodec(JsonMapper mapper) {
        this.mapper = mapper;
    }

    /** The codec with the library's default mapper. */
    public static PayloadCodec standard() {
        return new PayloadCodec(DEFAULT_MAPPER);
    }

    /**
     * The codec of table rows published by trigger channels: columns map to record components by
     * name (snake_case columns to camelCase components), and bytea columns, which arrive as
     * {@code \\x...} hex text, map to {@code byte[]}.
     */
    public static PayloadCodec forTableRows() {
        SimpleModule bytea = new SimpleModule("pgpubsub-bytea");
        bytea.addDeserializer(byte[].class, new ValueDeserializer<byte[]>() {
            @Override
            public byte[] deserialize(JsonParser p, DeserializationContext ctxt) {
                String text = p.getString();
                return text.startsWith("\\x") ? HexFormat.of().parseHex(text, 2, text.length())
                        : Base64.getDecoder().decode(text);
            }
        });
        return new PayloadCodec(JsonMapper.builder()
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .addModule(bytea)
                .addModule(StrictRecords.module())
                .build());
    }

    /**
     * A codec over a copy of a mapper the application configured, with strict records added (the
     * application's mapper itself is left as it is). The copy writes every property, null ones
     * included, whatever default inclusion the mapper has: a payload that left a null out (a mapper
     * set to {@code NON_NULL}, as many applications configure theirs) would read back as a missing
     * field, which strict records refuse.
     */
    public static PayloadCodec using(JsonMapper mapper) {
        return new PayloadCodec(mapper.rebuild()
                .changeDefaultPropertyInclusion(ignored -> JsonInclude.Value.construct(JsonInclude.Include.ALWAYS,
                        JsonInclude.Include.ALWAYS))
                .addModule(StrictRecords.module())
                .build());
    }

    /** UTF-8 JSON of {@code payload}, refused with a clear message when it does not serialize. */
    public byte[] write(String channel, Object payload) {
        try {
            return mapper.writeValueAsBytes(payload);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("The payload for channel '" + channel + "' (a "
                    + payload.getClass().getName() + ") does not serialize to JSON: " + Printable.escape(e.getOriginalMessage())
                    + ". Use a record of plain values (strings, numbers, booleans, java.time types, UUIDs, "
                    + "lists, maps and nested records).", e);
        }
    }

    /**
     * Refuses a payload over the cap, with the message every publisher gives (the Java one and the
     * command line's).
     *
     * @param channel    the channel it was to be published to
     * @param bytes      the size of its JSON, in UTF-8 bytes
     * @param cap        the largest size accepted
     * @param howToRaise how the caller may raise the cap, e.g. {@code " or raise Publisher.Builder.maxPayloadBytes"};
     *                   empty when it cannot
     * @throws IllegalArgumentException when {@code bytes} is over {@code cap}
     */
    public static void requireWithinCap(String channel, long bytes, int cap, String howToRaise) {
        if (bytes > cap) {
            throw new IllegalArgumentException("The payload for channel '" + channel + "' is " + bytes
                    + " bytes of JSON, over the cap of " + cap + " bytes. Keep large data in a table of your own and "
                    + "publish its key" + howToRaise + ".");
        }
    }

    /** Reads a payload of {@code type}; fails with a message naming the channel and the type. */
    public <P> P read(String channel, String json, Class<P> type) {
        try {
            return mapper.readValue(json, type);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("A payload of channel '" + channel + "' does not map to "
                    + type.getName() + ": " + Printable.escape(reason(e)), e);
        }
    }

    /** Reads a payload of a generic type (e.g. {@code RowChange<Order>}). */
    public <P> P read(String channel, String json, Type type) {
        try {
            return mapper.readValue(json, mapper.getTypeFactory().constructType(type));
        } catch (JacksonException e) {
            throw new IllegalArgumentException("A payload of channel '" + channel + "' does not map to "
                    + type.getTypeName() + ": " + Printable.escape(reason(e)), e);
        }
    }

    /**
     * Why the JSON did not map: Jackson's words, except for a missing component, which is said in
     * the payload's terms (the field, where it is, the record that requires it).
     */
    private static String reason(JacksonException e) {
        String original = e.getOriginalMessage();
        List<JacksonException.Reference> path = e.getPath();
        if (!(e instanceof MismatchedInputException) || original == null
                || !original.startsWith("Missing required creator property") || path.isEmpty()) {
            return original;
        }
        JacksonException.Reference missing = path.get(path.size() - 1);
        Object owner = missing.from();
        String record = owner instanceof Class<?> c ? c.getName() : owner == null ? "?" : owner.getClass().getName();
        return "the field '" + where(path) + "' is missing, and record " + record + " requires it (a component that may be"
                + " missing must be an Optional or annotated @Nullable)";
    }

    /** The path as {@code lines[1].price.currency}. */
    private static String where(List<JacksonException.Reference> path) {
        StringBuilder text = new StringBuilder();
        for (JacksonException.Reference step : path) {
            if (step.getPropertyName() != null) {
                text.append(text.length() == 0 ? "" : ".").append(step.getPropertyName());
            } else if (step.getIndex() >= 0) {
                text.append('[').append(step.getIndex()).append(']');
            }
        }
        return text.toString();
    }
}
