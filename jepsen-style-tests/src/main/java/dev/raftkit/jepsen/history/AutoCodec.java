package dev.raftkit.jepsen.history;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@link Codec#auto}: a codec built from a type's shape by reflection (once, at construction). */
final class AutoCodec {

    private AutoCodec() {
    }

    @SuppressWarnings("unchecked")
    static <T> Codec<T> forClass(Class<T> type) {
        return (Codec<T>) forType(type, type.getName());
    }

    /**
     * {@code where} names the type's place (e.g. {@code Transfer.amount}) for error messages. Null
     * is written and read as JSON null for every type (a primitive component refuses it).
     */
    private static Codec<Object> forType(Type type, String where) {
        Codec<Object> c = nonNull(type, where);
        return Codec.of(v -> v == null ? null : c.toJson(v), json -> json == null ? null : c.fromJson(json));
    }

    private static Codec<Object> nonNull(Type type, String where) {
        if (type instanceof ParameterizedType p && p.getRawType() == List.class) {
            @SuppressWarnings({"unchecked", "rawtypes"})
            Codec<Object> list = (Codec) Codec.listOf(forType(p.getActualTypeArguments()[0], where + "[]"));
            return list;
        }
        if (!(type instanceof Class<?> c)) {
            throw new IllegalArgumentException("Codec.auto cannot encode " + type + " (at " + where
                    + "); write a Codec for it");
        }
        if (c == String.class) {
            return scalar(where, String.class, json -> json);
        }
        if (c == Boolean.class || c == boolean.class) {
            return scalar(where, Boolean.class, json -> json);
        }
        if (c == Long.class || c == long.class) {
            return scalar(where, Long.class, json -> json);
        }
        if (c == Integer.class || c == int.class) {
            return scalar(where, Long.class, json -> Math.toIntExact((Long) json));
        }
        if (c == Double.class || c == double.class) {
            return Codec.of(v -> v, json -> json instanceof Number n ? (Object) n.doubleValue() : fail(where, "a number", json));
        }
        if (c == BigDecimal.class) {
            return Codec.of(v -> v, json -> json instanceof Long l ? BigDecimal.valueOf(l)
                    : json instanceof BigDecimal d ? d : fail(where, "a number", json));
        }
        if (c == Void.class) {
            return Codec.of(v -> null, json -> null);
        }
        if (c.isEnum()) {
            return Codec.of(v -> ((Enum<?>) v).name(), json -> {
                for (Object constant : c.getEnumConstants()) {
                    if (((Enum<?>) constant).name().equals(json)) {
                        return constant;
                    }
                }
                return fail(where, "one of " + List.of(c.getEnumConstants()), json);
            });
        }
        if (c.isRecord()) {
            return record(c, where, false);
        }
        if (c.isSealed()) {
            return sealed(c, where);
        }
        throw new IllegalArgumentException("Codec.auto cannot encode " + c.getName() + " (at " + where
                + "): it handles strings, numbers, booleans, enums, records, List<X> and sealed "
                + "interfaces of records; write a Codec for it");
    }

    private static Codec<Object> scalar(String where, Class<?> jsonType,
                                        java.util.function.Function<Object, Object> convert) {
        return Codec.of(v -> v, json -> jsonType.isInstance(json) ? convert.apply(json)
                : fail(where, "a " + jsonType.getSimpleName(), json));
    }

    private static Object fail(String where, String expected, Object json) {
        throw new IllegalArgumentException(where + " needs " + expected + ", has " + json);
    }

    /** The record as an object of its components; with {@code tagged}, an "f" field first. */
    private static Codec<Object> record(Class<?> c, String where, boolean tagged) {
        RecordComponent[] components = c.getRecordComponents();
        String[] names = new String[components.length];
        Method[] accessors = new Method[components.length];
        List<Codec<Object>> codecs = new ArrayList<>();
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            names[i] = components[i].getName();
            if (tagged && names[i].equals("f")) {
                throw new IllegalArgumentException("Codec.auto: " + c.getName() + " implements a sealed interface, "
                        + "whose records are tagged with a field 'f'; rename its component 'f' or write a Codec");
            }
            accessors[i] = components[i].getAccessor();
            accessors[i].setAccessible(true);
            types[i] = components[i].getType();
            codecs.add(forType(components[i].getGenericType(), c.getSimpleName() + "." + names[i]));
        }
        Constructor<?> constructor;
        try {
            constructor = c.getDeclaredConstructor(types);
            constructor.setAccessible(true);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("record " + c.getName() + " has no canonical constructor", e);
        }
        String tag = c.getSimpleName();
        return Codec.of(v -> {
            Map<String, Object> out = new LinkedHashMap<>();
            if (tagged) {
                out.put("f", tag);
            }
            for (int i = 0; i < names.length; i++) {
                try {
                    out.put(names[i], codecs.get(i).toJson(accessors[i].invoke(v)));
                } catch (IllegalAccessException | InvocationTargetException e) {
                    throw new IllegalStateException("cannot read " + c.getName() + "." + names[i], e);
                }
            }
            return out;
        }, json -> {
            if (!(json instanceof Map<?, ?> map)) {
                return fail(where, "an object", json);
            }
            Object[] args = new Object[names.length];
            for (int i = 0; i < names.length; i++) {
                if (!map.containsKey(names[i])) {
                    throw new IllegalArgumentException(where + " needs a field '" + names[i] + "', has " + json);
                }
                args[i] = codecs.get(i).fromJson(map.get(names[i]));
                if (args[i] == null && types[i].isPrimitive()) {
                    throw new IllegalArgumentException(where + "." + names[i] + " may not be null");
                }
            }
            try {
                return constructor.newInstance(args);
            } catch (InvocationTargetException e) {
                throw new IllegalArgumentException(where + ": " + json + " is rejected by its constructor: "
                        + e.getCause(), e.getCause());
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot construct " + c.getName(), e);
            }
        });
    }

    private static Codec<Object> sealed(Class<?> c, String where) {
        Map<String, Codec<Object>> byTag = new LinkedHashMap<>();
        Map<Class<?>, Codec<Object>> byClass = new LinkedHashMap<>();
        for (Class<?> sub : c.getPermittedSubclasses()) {
            if (!sub.isRecord()) {
                throw new IllegalArgumentException("Codec.auto: " + sub.getName() + ", permitted by sealed "
                        + c.getName() + ", is not a record; write a Codec");
            }
            Codec<Object> codec = record(sub, where + "." + sub.getSimpleName(), true);
            if (byTag.put(sub.getSimpleName(), codec) != null) {
                throw new IllegalArgumentException("Codec.auto: two records of " + c.getName()
                        + " are named " + sub.getSimpleName());
            }
            byClass.put(sub, codec);
        }
        return Codec.of(v -> byClass.get(v.getClass()).toJson(v), json -> {
            Object tag = json instanceof Map<?, ?> m ? m.get("f") : null;
            Codec<Object> codec = byTag.get(tag);
            if (codec == null) {
                return fail(where, "an object whose \"f\" is one of " + byTag.keySet(), json);
            }
            return codec.fromJson(json);
        });
    }
}
