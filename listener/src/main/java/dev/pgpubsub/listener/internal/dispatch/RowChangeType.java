package dev.pgpubsub.listener.internal.dispatch;

import dev.pgpubsub.listener.RowChange;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;

/**
 * The type {@code RowChange<T>} for a row record given at run time (functional registration).
 *
 * @param rowType the record rows map to
 */
public record RowChangeType(Class<?> rowType) implements ParameterizedType {

    @Override
    public Type[] getActualTypeArguments() {
        return new Type[] {rowType};
    }

    @Override
    public Type getRawType() {
        return RowChange.class;
    }

    @Override
    public Type getOwnerType() {
        return null;
    }

    @Override
    public String getTypeName() {
        return RowChange.class.getName() + "<" + rowType.getName() + ">";
    }
}
