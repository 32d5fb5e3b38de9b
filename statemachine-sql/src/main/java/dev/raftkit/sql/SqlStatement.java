package dev.raftkit.sql;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One SQL statement and its positional parameters ({@code ?}): each {@code null}, a number
 * ({@link Long}/{@link Double}), a {@link String} or a {@code byte[]}.
 */
public record SqlStatement(String sql, List<Object> params) {

    public SqlStatement {
        if (sql == null) {
            throw new IllegalArgumentException("sql is null");
        }
        params = Collections.unmodifiableList(new ArrayList<>(params)); // List.copyOf refuses null values
    }

    public static SqlStatement of(String sql, Object... params) {
        return new SqlStatement(sql, java.util.Arrays.asList(params));
    }
}
