package dev.pgpubsub.core.internal;

import java.lang.annotation.Annotation;
import java.lang.reflect.Constructor;
import java.lang.reflect.Member;
import java.lang.reflect.Parameter;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import tools.jackson.databind.JacksonModule;
import tools.jackson.databind.cfg.MapperConfig;
import tools.jackson.databind.introspect.AnnotatedMember;
import tools.jackson.databind.introspect.AnnotatedParameter;
import tools.jackson.databind.introspect.NopAnnotationIntrospector;
import tools.jackson.databind.module.SimpleModule;

/**
 * Strict records: a JSON object that lacks a component of a record does not map to it (Jackson would
 * pass {@code 0}, {@code false} or {@code null} instead). A component may be missing only when it is
 * an {@code Optional} (or {@code OptionalInt}, {@code OptionalLong}, {@code OptionalDouble}), which
 * then reads as empty, or when it carries an annotation whose simple name is {@code Nullable}
 * (jakarta, JSpecify, JSR-305 and the like; on the component or on its type, retained at run time),
 * which then reads as {@code null}. Nested records are strict likewise; classes that are not records
 * keep Jackson's rules.
 *
 * <p>It marks the creator parameters of records as required, the way {@code @JsonProperty(required =
 * true)} would; an explicit {@code required = true} on an optional component still holds.
 */
public final class StrictRecords {

    private StrictRecords() {
    }

    /** The module that makes a mapper's records strict; adding it twice to a builder adds it once. */
    public static JacksonModule module() {
        return new SimpleModule("pgpubsub-strict-records") {
            private static final long serialVersionUID = 1L;

            @Override
            public void setupModule(SetupContext context) {
                super.setupModule(context);
                context.insertAnnotationIntrospector(new Introspector());
            }
        };
    }

    /** Whether a missing {@code parameter} of a record's constructor may default. */
    static boolean mayBeMissing(Parameter parameter, RecordComponent component) {
        Class<?> type = parameter.getType();
        if (type == Optional.class || type == OptionalInt.class || type == OptionalLong.class || type == OptionalDouble.class) {
            return true;
        }
        if (nullable(parameter.getAnnotations()) || nullable(parameter.getAnnotatedType().getAnnotations())) {
            return true;
        }
        return component != null
                && (nullable(component.getAnnotations()) || nullable(component.getAnnotatedType().getAnnotations()));
    }

    private static boolean nullable(Annotation[] annotations) {
        for (Annotation annotation : annotations) {
            if (annotation.annotationType().getSimpleName().equals("Nullable")) {
                return true;
            }
        }
        return false;
    }

    /** The record component a constructor parameter fills, when the constructor is the canonical one. */
    private static RecordComponent componentOf(Member owner, Class<?> record, int index) {
        RecordComponent[] components = record.getRecordComponents();
        if (!(owner instanceof Constructor<?> constructor) || components == null || index >= components.length) {
            return null;
        }
        Class<?>[] canonical = Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
        return Arrays.equals(constructor.getParameterTypes(), canonical) ? components[index] : null;
    }

    /** Says "required" for the creator parameters of records that may not be missing; nothing else. */
    private static final class Introspector extends NopAnnotationIntrospector {
        private static final long serialVersionUID = 1L;

        @Override
        public Boolean hasRequiredMarker(MapperConfig<?> config, AnnotatedMember member) {
            if (!(member instanceof AnnotatedParameter parameter) || !parameter.getDeclaringClass().isRecord()) {
                return null;
            }
            Parameter[] parameters = parameter.getOwner().getNativeParameters();
            int index = parameter.getIndex();
            if (index < 0 || index >= parameters.length) {
                return null;
            }
            RecordComponent component = componentOf(parameter.getOwner().getMember(), parameter.getDeclaringClass(), index);
            // null, not FALSE: lets a later introspector (an explicit @JsonProperty(required = true)) decide.
            return mayBeMissing(parameters[index], component) ? null : Boolean.TRUE;
        }
    }
}
